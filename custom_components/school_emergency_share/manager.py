"""One agreement at run time: its state, deadline, viewers and audit trail.

What each decision changes and records is worked out in `core.decisions`;
this class runs every decision through one path, `_run`: decide under the
lock (a refusal is recorded and raised), then apply, save and record the
decision, close the viewer connections it no longer allows, and announce it.
It keeps the deadline with Home Assistant's time tracking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
import logging
from typing import Any, Final
import uuid

from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import (
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from .alarms import Alarm
from .audit import ExportResult
from .audit_trail import AuditTrail
from .camera_streams import CameraStreams
from .connections import Connections
from .const import DOMAIN
from .core import decisions, links as link_rules, police
from .core.actor import Actor
from .core.agreement import Agreement
from .core.decisions import Decision, Notice
from .core.errors import Refusal
from .core.events import AuditEvent
from .core.links import Denial, LinkRequest, ViewerLink
from .core.replay import replay
from .core.requests import AccessRequest, RequestStatus
from .core.session import ActivationRequest, EndReason, Session
from .core.state import ShareState
from .issues import (
    async_check_agreement_dates,
    async_set_state_not_saved,
    async_set_state_unreadable,
)
from .media import CameraStatus
from .notifications import (
    async_notify_request,
    async_notify_session,
    request_notice_id,
)
from .storage import StateStore

_LOGGER = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL: Final = timedelta(hours=1)
# Spent links stay listed (diagnostics, the viewers sensor) this long.
SPENT_LINK_KEPT: Final = timedelta(days=1)

type Decide = Callable[..., Decision | None]


def refusal_error(refusal: Refusal) -> ServiceValidationError:
    """The translated error a user sees for a refusal."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=refusal.code.value,
        translation_placeholders=refusal.placeholders,
    )


class AgreementManager:
    """The running state of one agreement (one config entry)."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Build from the entry; nothing runs until `async_start`."""
        self.hass = hass
        self.entry = entry
        self.agreement = Agreement.from_options(
            entry.options, dt_util.get_default_time_zone()
        )
        self.state = ShareState()
        self.state_unreadable = False
        self.audit = AuditTrail(hass, entry.entry_id)
        self.streams = CameraStreams(
            hass, self._camera_status_changed, lambda: self.agreement
        )
        self.connections = Connections(self._changed)
        self._store = StateStore(hass, entry.entry_id)
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[], None]] = []
        # A change of privacy masks restarts the readers of those cameras.
        self.async_add_listener(self.streams.apply_masks)
        self._unsub_housekeeping: CALLBACK_TYPE | None = None
        self._deadline = Alarm(
            hass, f"{DOMAIN} session deadline", lambda: self._end(EndReason.DEADLINE)
        )
        self._request_expiry = Alarm(
            hass,
            f"{DOMAIN} police request expiry",
            lambda: self._run("expire_request", Actor.system(), police.expire_request),
        )

    # ----------------------------------------------------------------- life cycle

    async def async_start(self) -> None:
        """Read state, recover what happened while down, start the timers."""
        check = await self.audit.async_open()
        if check.records == 0:
            await self.audit.async_record(
                AuditEvent.AGREEMENT_CREATED,
                Actor.system(),
                self.agreement.as_dict(),
                keep=True,
            )
        loaded = await self._store.async_load()
        self.state = loaded.state
        self.state_unreadable = loaded.unreadable
        async_set_state_unreadable(self.hass, self.entry, loaded.error)
        if loaded.unreadable:
            await self.audit.async_record(
                AuditEvent.STARTUP_RECOVERY,
                Actor.system(),
                {"outcome": "state_unreadable", "error": loaded.error},
                keep=True,
            )
        else:
            await self._replay(loaded.audit_seq)
            await self._run("recover", Actor.system(), decisions.recover)
            await self._run("expire_request", Actor.system(), police.expire_request)
        self._set_alarms()
        self._unsub_housekeeping = async_track_time_interval(
            self.hass,
            self._housekeeping,
            HOUSEKEEPING_INTERVAL,
            name=f"{DOMAIN} housekeeping",
            cancel_on_shutdown=True,
        )
        await self._async_housekeeping(dt_util.utcnow())

    async def async_unload(self) -> None:
        """The entry is unloaded: end the session, close everything."""
        if self._unsub_housekeeping:
            self._unsub_housekeeping()
            self._unsub_housekeeping = None
        await self._end(EndReason.UNLOADED)
        await self.async_shutdown("unloaded")

    async def async_shutdown(self, reason: str = "shutdown") -> None:
        """Close streams and the audit log; a session is kept for the restart."""
        self._deadline.cancel()
        self._request_expiry.cancel()
        self.connections.close_all(reason)
        await self.streams.async_stop()
        await self.audit.async_close()

    # ----------------------------------------------------------------- queries

    @property
    def session(self) -> Session | None:
        """The current or last session."""
        return self.state.session

    def session_open(self, now: datetime) -> bool:
        """Whether a session lets anyone see anything at `now`."""
        return self.state.session_open(now)

    def shared_cameras(self) -> frozenset[str]:
        """The cameras the open session shows now (empty when idle)."""
        return self.state.shared_cameras(self.agreement)

    def link_for_hash(self, token_hash: str) -> ViewerLink | None:
        """The link whose token hashes to `token_hash`."""
        return self.state.link_for_hash(token_hash)

    def link_expiry(self, link: ViewerLink) -> datetime:
        """When the link stops working, as far as is known now."""
        return self.state.link_expiry(self.agreement, link)

    def check_access(
        self, link_id: str, camera: str | None, now: datetime
    ) -> Denial | None:
        """Whether the link may see `camera` (or the session, for None) now."""
        return self.state.check_access(self.agreement, link_id, camera, now)

    def active_viewers(self) -> list[dict[str, Any]]:
        """Who is watching what, since when (not from where: see `connections`)."""
        return self.connections.viewers()

    # ----------------------------------------------------------------- listeners

    @callback
    def async_add_listener(self, update: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `update` whenever anything an entity shows changes."""
        self._listeners.append(update)

        @callback
        def remove() -> None:
            self._listeners.remove(update)

        return remove

    @callback
    def _changed(self) -> None:
        for update in list(self._listeners):
            update()

    @callback
    def _camera_status_changed(self, _camera: str, _status: CameraStatus) -> None:
        self._changed()

    # ----------------------------------------------------------------- decisions

    async def async_activate(self, actor: Actor, request: ActivationRequest) -> Session:
        """Open a session (the `activate` service and the dashboard switch)."""
        decision = await self._run(
            "activate",
            actor,
            decisions.activate,
            request,
            session_id=uuid.uuid4().hex,
        )
        return _session(decision)

    async def async_extend(self, actor: Actor, minutes: int) -> Session:
        """Move the deadline later, within the cap."""
        return _session(await self._run("extend", actor, decisions.extend, minutes))

    async def async_deactivate(self, actor: Actor, reason: str | None) -> Session:
        """End the open session on request."""
        decision = await self._run("deactivate", actor, decisions.deactivate, reason)
        return _session(decision)

    async def async_create_link(
        self, actor: Actor, request: LinkRequest
    ) -> tuple[ViewerLink, str]:
        """Issue a viewer link; returns it with its token (shown once, never kept)."""
        token, link_id = link_rules.new_token(), link_rules.new_link_id()
        decision = await self._run(
            "create_viewer_link",
            actor,
            decisions.create_link,
            request,
            link_id=link_id,
            token_hash=link_rules.hash_token(token),
        )
        assert decision is not None  # noqa: S101 - issuing always decides
        return decision.state.links[link_id], token

    async def async_revoke_links(self, actor: Actor, link_id: str | None) -> int:
        """Revoke one link, or every link when `link_id` is None."""
        decision = await self._run(
            "revoke_viewer_link", actor, decisions.revoke_links, link_id
        )
        assert decision is not None  # noqa: S101 - revoking always decides
        return len(decision.records[0].data["link_ids"])

    async def async_set_camera_shared(
        self, actor: Actor, camera: str, *, shared: bool
    ) -> None:
        """A camera's sharing switch: off takes it out of every session at once."""
        await self._run(
            "camera_sharing", actor, decisions.set_camera_shared, camera, shared=shared
        )

    async def async_apply_agreement(self, actor: Actor, agreement: Agreement) -> None:
        """The agreement's options changed: apply them to the running session."""
        await self._run(
            "change_agreement", actor, decisions.change_agreement, agreement
        )
        async_check_agreement_dates(self.hass, self.entry, agreement, dt_util.utcnow())

    async def async_ask(
        self, viewer: Actor, link_id: str, *, officer: str, reason: str
    ) -> AccessRequest:
        """An officer asks for sharing from a standing link."""
        decision = await self._run(
            "request",
            viewer,
            police.ask_for_sharing,
            link_id,
            officer=officer,
            reason=reason,
            request_id=uuid.uuid4().hex[:12],
        )
        assert decision is not None  # noqa: S101 - asking always decides
        assert decision.state.request is not None  # noqa: S101
        return decision.state.request

    async def async_approve_request(
        self, actor: Actor, request_id: str, activation: ActivationRequest
    ) -> Session:
        """A named person approves a police request: a session starts."""
        decision = await self._run(
            "approve_request",
            actor,
            police.approve_request,
            request_id,
            activation,
            session_id=uuid.uuid4().hex,
        )
        return _session(decision)

    async def async_deny_request(
        self, actor: Actor, request_id: str, note: str | None
    ) -> None:
        """A named person denies a police request."""
        await self._run("deny_request", actor, police.deny_request, request_id, note)

    async def async_export(
        self,
        actor: Actor,
        *,
        administrator: bool,
        since: datetime | None,
        until: datetime | None,
    ) -> ExportResult:
        """Export the audit log for review: named users and administrators only."""
        try:
            decisions.check_export(self.agreement, actor, administrator=administrator)
        except Refusal as refusal:
            record = decisions.refusal_record("export_audit", actor, refusal)
            await self.audit.async_record(
                record.event, record.actor, record.data, keep=True
            )
            raise refusal_error(refusal) from refusal
        result = await self.audit.async_export(since=since, until=until)
        await self.audit.async_record(
            AuditEvent.AUDIT_EXPORTED,
            actor,
            {
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
                "records": result.records,
                "chain_valid": result.check.valid,
                "head_seq": result.check.head_seq,
            },
            keep=True,
        )
        return result

    async def _end(self, reason: EndReason) -> None:
        """End the session for a reason of the system's own, if one is open."""
        await self._run("end", Actor.system(), decisions.end, reason)

    async def _run(
        self, action: str, actor: Actor, decide: Decide, *args: Any, **kwargs: Any
    ) -> Decision | None:
        """The one path of every decision.

        `decide(agreement, state, actor, *args, now=..., **kwargs)` is one of
        `core.decisions`; it sees the state as it is under the lock. A refusal
        is recorded and raised. A decision that opens access is recorded
        first and refused if it cannot be (`AuditUnavailable`); any other
        takes effect at once, closing what it no longer allows, and is
        recorded once the log can be written. Either is saved; a failed save
        leaves it in force (the log keeps it across a restart).
        """
        async with self._lock:
            now = dt_util.utcnow()
            try:
                decision = decide(
                    self.agreement, self.state, actor, *args, now=now, **kwargs
                )
            except Refusal as refusal:
                record = decisions.refusal_record(action, actor, refusal)
                await self.audit.async_record(
                    record.event, record.actor, record.data, keep=True
                )
                raise refusal_error(refusal) from refusal
            if decision is None:
                return None
            if decision.opens:
                await self._record(decision)
            self._apply(decision, now)
            await self._save()
            if not decision.opens:
                await self._record(decision)
        if decision.notice is not None:
            self._notify(decision.notice)
        return decision

    def _apply(self, decision: Decision, now: datetime) -> None:
        if decision.agreement is not None:
            self.agreement = decision.agreement
        self.state = decision.state
        self.connections.close_denied(
            lambda link_id, camera: self.check_access(link_id, camera, now)
        )
        self._set_alarms()
        self._changed()

    async def _record(self, decision: Decision) -> None:
        for record in decision.records:
            await self.audit.async_record(
                record.event, record.actor, record.data, keep=not decision.opens
            )

    async def _save(self) -> None:
        """Save the state; a failure is said, not raised (the log holds it)."""
        try:
            await self._store.async_save(self.state, self.audit.head[0])
        except Exception as err:
            _LOGGER.exception(
                "Could not save the sharing state of %s", self.entry.title
            )
            async_set_state_not_saved(self.hass, self.entry, str(err) or repr(err))
        else:
            async_set_state_not_saved(self.hass, self.entry, None)

    async def _replay(self, after_seq: int) -> None:
        """Apply again the ends and revocations the saved state may have lost."""
        replayed = replay(self.state, await self.audit.async_read(after_seq))
        if not replayed.changed:
            return
        self.state = replayed.state
        await self._save()
        await self.audit.async_record(
            AuditEvent.STARTUP_RECOVERY,
            Actor.system(),
            {
                "outcome": "closures_replayed",
                "links_revoked": list(replayed.links_revoked),
                "session_ended": replayed.session_ended,
            },
            keep=True,
        )

    # ----------------------------------------------------------------- timers

    def _set_alarms(self) -> None:
        """The open session's deadline; a pending request's expiry."""
        session, request = self.state.session, self.state.request
        self._deadline.set(
            session.expires_at if session and session.ended_at is None else None
        )
        if request is not None and request.status is RequestStatus.PENDING:
            self._request_expiry.set(request.expires_at)
        else:  # answered or expired: its notice leaves the screen
            self._request_expiry.set(None)
            persistent_notification.async_dismiss(
                self.hass, request_notice_id(self.entry.entry_id)
            )

    @callback
    def _housekeeping(self, now: datetime) -> None:
        self.hass.async_create_background_task(
            self._async_housekeeping(now), f"{DOMAIN} housekeeping"
        )

    async def _async_housekeeping(self, now: datetime) -> None:
        """Hourly: agreement dates, spent links, audit retention."""
        async_check_agreement_dates(self.hass, self.entry, self.agreement, now)
        if not self.agreement.in_force(now):
            await self._end(EndReason.AGREEMENT_ENDED)
        async with self._lock:
            kept = decisions.forget_spent_links(
                self.agreement, self.state, now=now, kept=SPENT_LINK_KEPT
            )
            if kept is not None:
                self.state = kept
                await self._save()
        removed = await self.audit.async_prune(
            now - timedelta(days=self.agreement.retention_days)
        )
        if removed:
            _LOGGER.info("Pruned %s audit records past retention", removed)

    # ----------------------------------------------------------------- notices

    def _notify(self, notice: Notice) -> None:
        if notice.request is not None:
            job = async_notify_request(
                self.hass, self.entry, self.agreement, notice.request
            )
        else:
            assert notice.session is not None  # noqa: S101 - a session notice
            job = async_notify_session(
                self.hass,
                self.entry,
                self.agreement,
                notice.kind,
                notice.session,
                notice.actor,
                sorted(self.shared_cameras() or notice.session.cameras),
                self.audit.head if notice.kind == "ended" else None,
            )
        self.hass.async_create_background_task(job, f"{DOMAIN} notify {notice.kind}")


def _session(decision: Decision | None) -> Session:
    """The session a session decision made."""
    assert decision is not None  # noqa: S101 - session decisions always decide
    assert decision.state.session is not None  # noqa: S101
    return decision.state.session
