"""The gate every viewer request passes: lockout, link, session, scope, records.

Registered once for all agreements; every request is decided afresh from the
link, the session and the clock. What a viewer did is recorded in the audit
log of the link's agreement, in the background, so a viewer who disconnects
cannot cancel the record.
"""

from __future__ import annotations

from collections.abc import Awaitable
import contextlib
from dataclasses import dataclass
from datetime import datetime
import logging
import time
from typing import Any, Final

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..audit_trail import AuditUnavailable
from ..const import DOMAIN, URL_PREFIX
from ..core.actor import Actor, ActorKind
from ..core.events import AuditEvent
from ..core.links import Denial, ViewerLink, is_well_formed
from ..core.lockout import client_key
from ..data import DATA_DOMAIN, DomainData
from ..manager import AgreementManager
from .responses import Kind, deny

_LOGGER = logging.getLogger(__name__)

# Guessing tokens is what lockout stops; a known link that was revoked or
# expired is not a guess, and counting it would lock out a whole dispatch
# centre behind one address because one officer's old tab keeps retrying.
COUNTED_FAILURES: Final = frozenset({Denial.MALFORMED, Denial.UNKNOWN})
# The same denial for the same link and address is recorded once per window.
DENIAL_RECORD_INTERVAL: Final = 600.0
SNAPSHOT_RECORD_INTERVAL: Final = 60.0
DENIALS_REMEMBERED: Final = 10_000
USER_AGENT_MAX: Final = 200
# A recorded path is cut here: a guess must not write what it likes to disk.
PATH_MAX: Final = 120


@dataclass(frozen=True, slots=True)
class Access:
    """A request the link allows: the agreement, the link, the client."""

    manager: AgreementManager
    link: ViewerLink
    address: str
    user_agent: str

    @property
    def actor(self) -> Actor:
        """Viewers are recorded by their link's label."""
        return Actor(ActorKind.VIEWER, self.link.id, self.link.label)


class ViewerGate:
    """Decides every viewer request: link, lockout, session, scope, limits, records."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Use the integration's shared data."""
        self.hass = hass
        self._recorded: dict[tuple[str, str, str], float] = {}

    @property
    def data(self) -> DomainData:
        """The integration's shared data."""
        return self.hass.data[DATA_DOMAIN]

    async def admit(
        self,
        request: web.Request,
        token: str,
        camera: str | None = None,
        *,
        kind: Kind = "json",
        allow: frozenset[Denial] = frozenset(),
    ) -> Access:
        """Return the access a request has, or raise the refusal (`Denied`).

        The link is looked at first: a valid link is never refused because of
        other requests from its address. Only guesses meet the lockout.
        """
        now = dt_util.utcnow()
        address = request.remote or "unknown"
        found = self.data.find_link(token) if is_well_formed(token) else None
        if found is None:
            client = client_key(address)
            failures = self.data.failures
            if failures.is_locked(client, now):
                until = failures.locked_until(client, now)
                wait = int((until - now).total_seconds()) + 1 if until else 600
                raise deny(Denial.LOCKED_OUT, kind, retry_after=wait)
            why = Denial.UNKNOWN if is_well_formed(token) else Denial.MALFORMED
            self._fail(client, address, now, why, request)
            raise deny(why, kind)
        manager, link = found
        access = Access(
            manager,
            link,
            address,
            request.headers.get("User-Agent", "")[:USER_AGENT_MAX],
        )
        denial = manager.check_access(link.id, camera, now)
        if denial is not None and denial not in allow:
            self.record_denial(access, denial, camera, request.path)
            raise deny(denial, kind)
        return access

    def _fail(
        self,
        client: str,
        address: str,
        now: datetime,
        why: Denial,
        request: web.Request,
    ) -> None:
        """Count a guess; lock the client out at the limit; record a few of them."""
        data = self.data
        locked = data.failures.record_failure(client, now)
        recorded, summary = data.failure_records.note(client, now)
        # The guess could have been aimed at any agreement: each log hears of it.
        for manager in list(data.managers.values()):
            if summary is not None:
                self._record_unauthenticated(
                    manager,
                    AuditEvent.ACCESS_DENIED,
                    {
                        "why": "failures_summarised",
                        "failures": summary.failures,
                        "clients": summary.clients,
                        "since": summary.window_start.isoformat(),
                        "until": summary.window_end.isoformat(),
                    },
                )
            if recorded:
                self._record_unauthenticated(
                    manager,
                    AuditEvent.ACCESS_DENIED,
                    {
                        "why": why.value,
                        "address": address,
                        "path": redacted_path(request.path)[:PATH_MAX],
                        "user_agent": request.headers.get("User-Agent", "")[
                            :USER_AGENT_MAX
                        ],
                    },
                )
            if locked:
                self._record_unauthenticated(
                    manager,
                    AuditEvent.LOCKOUT,
                    {
                        "address": client,
                        "failures": data.failures.limit,
                        "window_minutes": int(
                            data.failures.window.total_seconds() // 60
                        ),
                    },
                )
        if locked:
            _LOGGER.warning("Locked out %s after repeated bad viewer links", client)

    def _record_unauthenticated(
        self, manager: AgreementManager, event: AuditEvent, data: dict[str, Any]
    ) -> None:
        self.hass.async_create_background_task(
            _quietly(manager.audit.async_record(event, None, data)),
            f"{DOMAIN} audit {event.value}",
        )

    def record_denial(
        self, access: Access, denial: Denial, camera: str | None, path: str
    ) -> None:
        """Record a denial of a known link, once per window per link and address."""
        key = (access.link.id, access.address, denial.value)
        if not self._first_in_window(key, DENIAL_RECORD_INTERVAL):
            return
        self.record(
            access,
            AuditEvent.ACCESS_DENIED,
            {
                "why": denial.value,
                "camera": camera,
                "path": redacted_path(path)[:PATH_MAX],
            },
        )

    def check_limits(self, access: Access, camera: str | None, path: str) -> None:
        """Refuse (429) one viewer more than the cap, or one stream too many.

        An events stream (`camera` None) shows no video: it counts against the
        viewer's streams, not the viewer cap.
        """
        manager, link = access.manager, access.link
        connections, agreement = manager.connections, manager.agreement
        if camera is not None and not connections.viewer_allowed(
            link.id, access.address, agreement.max_viewers
        ):
            self.record_denial(access, Denial.VIEWER_CAP, camera, path)
            raise deny(Denial.VIEWER_CAP, retry_after=30)
        if not connections.stream_allowed(
            link.id, access.address, agreement.max_streams_per_viewer
        ):
            self.record_denial(access, Denial.STREAM_CAP, camera, path)
            raise deny(Denial.STREAM_CAP, retry_after=5)

    async def admit_viewing(
        self, access: Access, event: AuditEvent, data: dict[str, Any]
    ) -> None:
        """Record that a viewer is let in, before any frame is sent.

        Admitting a viewer opens access: if that cannot be recorded, it is
        refused (503) like any other decision that opens access.
        """
        try:
            await access.manager.audit.async_record(
                event, access.actor, self._details(access, data)
            )
        except AuditUnavailable as err:
            raise deny(Denial.AUDIT_UNAVAILABLE, retry_after=30) from err

    async def admit_snapshot(self, access: Access, camera: str) -> None:
        """A snapshot is viewing: capped, rate-limited, recorded once a minute."""
        manager, link = access.manager, access.link
        if not manager.audit.writable:
            raise deny(Denial.AUDIT_UNAVAILABLE, retry_after=30)
        if not manager.connections.viewer_allowed(
            link.id, access.address, manager.agreement.max_viewers
        ):
            self.record_denial(access, Denial.VIEWER_CAP, camera, "snapshot")
            raise deny(Denial.VIEWER_CAP, retry_after=30)
        if not manager.connections.snapshot_allowed(link, access.address):
            self.record_denial(access, Denial.STREAM_CAP, camera, "snapshot")
            raise deny(Denial.STREAM_CAP, retry_after=1)
        key = (access.link.id, access.address, f"snapshot:{camera}")
        if self._first_in_window(key, SNAPSHOT_RECORD_INTERVAL):
            await self.admit_viewing(
                access, AuditEvent.SNAPSHOT_VIEWED, {"camera": camera}
            )

    def _first_in_window(self, key: tuple[str, str, str], interval: float) -> bool:
        now = time.monotonic()
        if now - self._recorded.get(key, -interval) < interval:
            return False
        if len(self._recorded) >= DENIALS_REMEMBERED:
            self._recorded.clear()
        self._recorded[key] = now
        return True

    def record(
        self,
        access: Access,
        event: AuditEvent,
        data: dict[str, Any],
        *,
        keep: bool = False,
    ) -> None:
        """Record in the background: a disconnecting viewer cannot cancel it.

        With `keep` (a view ended), the record waits out a failing log.
        """
        self.hass.async_create_background_task(
            _quietly(
                access.manager.audit.async_record(
                    event, access.actor, self._details(access, data), keep=keep
                )
            ),
            f"{DOMAIN} audit {event.value}",
        )

    @staticmethod
    def _details(access: Access, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "link_id": access.link.id,
            "label": access.link.label,
            "address": access.address,
            "user_agent": access.user_agent,
            **data,
        }


async def _quietly(record: Awaitable[object]) -> None:
    """A record nobody waits for: a failing log is reported by the trail itself."""
    with contextlib.suppress(AuditUnavailable):
        await record


def redacted_path(path: str) -> str:
    """A request path with the token cut out: tokens are never logged."""
    if not path.startswith(URL_PREFIX + "/"):
        return path
    rest = path[len(URL_PREFIX) + 1 :]
    _token, sep, tail = rest.partition("/")
    return f"{URL_PREFIX}/<token>{sep}{tail}"
