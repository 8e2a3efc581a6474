"""The gate every viewer request passes: lockout, link, session, scope, records.

Registered once for all agreements; every request is decided afresh from the
link, the session and the clock. What a viewer did is recorded in the audit
log of the link's agreement, in the background, so a viewer who disconnects
cannot cancel the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import logging
import time
from typing import Any, Final

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, URL_PREFIX
from ..core.actor import Actor, ActorKind
from ..core.events import AuditEvent
from ..core.links import Denial, ViewerLink, is_well_formed
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
    """Decides every viewer request: lockout, link, session, scope, records."""

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
        """Return the access a request has, or raise the HTTP error that refuses it."""
        now = dt_util.utcnow()
        address = request.remote or "unknown"
        failures = self.data.failures
        if failures.is_locked(address, now):
            until = failures.locked_until(address, now)
            wait = int((until - now).total_seconds()) + 1 if until else 600
            raise deny(Denial.LOCKED_OUT, kind, retry_after=wait)
        found = self.data.find_link(token) if is_well_formed(token) else None
        if found is None:
            why = Denial.UNKNOWN if is_well_formed(token) else Denial.MALFORMED
            await self._fail(address, now, why, request)
            raise deny(why, kind)
        manager, link = found
        access = Access(
            manager, link, address, request.headers.get("User-Agent", "")[:200]
        )
        denial = manager.check_access(link.id, camera, now)
        if denial is not None and denial not in allow:
            self.record_denial(access, denial, camera, request.path)
            raise deny(denial, kind)
        return access

    async def _fail(
        self, address: str, now: datetime, why: Denial, request: web.Request
    ) -> None:
        """Count a failed credential; lock the address out at the limit."""
        locked = self.data.failures.record_failure(address, now)
        managers = list(self.data.managers.values())
        # The guess could have been aimed at any agreement: each log hears of it.
        for manager in managers:
            await manager.audit.async_record(
                AuditEvent.ACCESS_DENIED,
                None,
                {
                    "why": why.value,
                    "address": address,
                    "path": redacted_path(request.path),
                    "user_agent": request.headers.get("User-Agent", "")[:200],
                },
            )
            if locked:
                await manager.audit.async_record(
                    AuditEvent.LOCKOUT,
                    None,
                    {
                        "address": address,
                        "failures": self.data.failures.limit,
                        "window_minutes": int(
                            self.data.failures.window.total_seconds() // 60
                        ),
                    },
                )
        if locked:
            _LOGGER.warning("Locked out %s after repeated bad viewer links", address)

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
                "path": redacted_path(path),
            },
        )

    def check_viewer_cap(self, access: Access, camera: str | None, path: str) -> None:
        """Refuse (429) one viewer more than the agreement allows."""
        if not access.manager.viewer_allowed(access.link.id, access.address):
            self.record_denial(access, Denial.VIEWER_CAP, camera, path)
            raise deny(Denial.VIEWER_CAP, retry_after=30)

    def record_snapshot(self, access: Access, camera: str) -> None:
        """Record snapshots once a minute per viewer and camera, not per request."""
        key = (access.link.id, access.address, f"snapshot:{camera}")
        if self._first_in_window(key, SNAPSHOT_RECORD_INTERVAL):
            self.record(access, AuditEvent.SNAPSHOT_VIEWED, {"camera": camera})

    def _first_in_window(self, key: tuple[str, str, str], interval: float) -> bool:
        now = time.monotonic()
        if now - self._recorded.get(key, -interval) < interval:
            return False
        if len(self._recorded) >= DENIALS_REMEMBERED:
            self._recorded.clear()
        self._recorded[key] = now
        return True

    def record(self, access: Access, event: AuditEvent, data: dict[str, Any]) -> None:
        """Record in the background: a disconnecting viewer cannot cancel it."""
        payload = {
            "link_id": access.link.id,
            "label": access.link.label,
            "address": access.address,
            "user_agent": access.user_agent,
            **data,
        }
        self.hass.async_create_background_task(
            access.manager.audit.async_record(event, access.actor, payload),
            f"{DOMAIN} audit {event.value}",
        )


def redacted_path(path: str) -> str:
    """A request path with the token cut out: tokens are never logged."""
    if not path.startswith(URL_PREFIX + "/"):
        return path
    rest = path[len(URL_PREFIX) + 1 :]
    _token, sep, tail = rest.partition("/")
    return f"{URL_PREFIX}/<token>{sep}{tail}"
