"""One agreement at run time: its session, links, viewers, timers and audit trail.

The decisions come from `core`; this class applies them in order (decide,
persist, record, announce), keeps the deadline with Home Assistant's time
tracking, and closes every viewer connection the moment it is no longer
allowed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
import logging
from typing import Any, Final
import uuid

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from .audit_trail import AuditEvent, AuditTrail
from .camera_streams import CameraStreams
from .const import DOMAIN
from .core import links as link_rules, session as session_rules
from .core.actor import Actor
from .core.agreement import Agreement
from .core.errors import Refusal
from .core.links import Denial, LinkRequest, ViewerLink
from .core.session import ActivationRequest, EndReason, Session
from .issues import async_check_agreement_dates, async_set_state_unreadable
from .media import CameraStatus
from .notifications import async_notify_session
from .storage import ShareState, StateStore

_LOGGER = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL: Final = timedelta(hours=1)
# Spent links stay listed (diagnostics, the viewers sensor) this long.
SPENT_LINK_KEPT: Final = timedelta(days=1)


@dataclass(slots=True, eq=False)
class ViewerConnection:
    """One open viewer connection: a camera stream or the events stream."""

    id: int
    link_id: str
    label: str
    camera: str | None
    address: str
    user_agent: str
    since: datetime
    close: Callable[[str], None] = field(repr=False)

    @property
    def viewer(self) -> tuple[str, str]:
        """A viewer is a link used from one address."""
        return (self.link_id, self.address)


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
        self.streams = CameraStreams(hass, self._camera_status_changed)
        self.connections: dict[int, ViewerConnection] = {}
        self._connection_ids = count(1)
        self._store = StateStore(hass, entry.entry_id)
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._unsub_deadline: CALLBACK_TYPE | None = None
        self._unsub_housekeeping: CALLBACK_TYPE | None = None
        self._deadline_job = HassJob(
            self._deadline_reached,
            f"{DOMAIN} session deadline",
            cancel_on_shutdown=True,
        )

    # ----------------------------------------------------------------- life cycle

    async def async_start(self) -> None:
        """Read state, recover what happened while down, start the timers."""
        check = await self.audit.async_open()
        if check.records == 0:
            await self.audit.async_record(
                AuditEvent.AGREEMENT_CREATED,
                Actor.system(),
                _agreement_dict(self.agreement),
            )
        loaded = await self._store.async_load()
        self.state = loaded.state
        self.state_unreadable = loaded.unreadable
        async_set_state_unreadable(self.hass, self.entry, loaded.error)
        now = dt_util.utcnow()
        if loaded.unreadable:
            await self.audit.async_record(
                AuditEvent.STARTUP_RECOVERY,
                Actor.system(),
                {"outcome": "state_unreadable", "error": loaded.error},
            )
        elif (before := self.state.session) is not None and before.ended_at is None:
            after = session_rules.reconcile(
                self.agreement, before, now=now, restarting=True
            )
            self.state.session = after
            outcome = "session_restored"
            if after is not None and after.ended_at is not None:
                outcome = (
                    "session_ended_while_down"
                    if after.end_reason is EndReason.ENDED_WHILE_DOWN
                    else "session_ended_agreement"
                )
                await self._store.async_save(self.state)
            await self.audit.async_record(
                AuditEvent.STARTUP_RECOVERY,
                Actor.system(),
                {
                    "outcome": outcome,
                    "session_id": before.id,
                    "expires_at": before.expires_at.isoformat(),
                },
            )
            if after is not None and after.ended_at is not None:
                await self._record_end(after)
                self._notify("ended", after, Actor.system())
        self._schedule_deadline()
        self._unsub_housekeeping = async_track_time_interval(
            self.hass,
            self._housekeeping,
            HOUSEKEEPING_INTERVAL,
            name=f"{DOMAIN} housekeeping",
            cancel_on_shutdown=True,
        )
        await self._async_housekeeping(now)

    async def async_unload(self) -> None:
        """The entry is unloaded: end the session, close everything."""
        if self._unsub_housekeeping:
            self._unsub_housekeeping()
            self._unsub_housekeeping = None
        if self.session_open(dt_util.utcnow()):
            await self._async_end(EndReason.UNLOADED, Actor.system())
        self._cancel_deadline()
        self._close_connections(lambda _: True, "unloaded")
        await self.streams.async_stop()
        await self.audit.async_close()

    async def async_shutdown(self) -> None:
        """Home Assistant stops: close streams, keep the session for the restart."""
        self._cancel_deadline()
        self._close_connections(lambda _: True, "shutdown")
        await self.streams.async_stop()
        await self.audit.async_close()

    # ----------------------------------------------------------------- queries

    @property
    def session(self) -> Session | None:
        """The current or last session."""
        return self.state.session

    def session_open(self, now: datetime) -> bool:
        """Whether a session lets anyone see anything at `now`."""
        return self.state.session is not None and self.state.session.is_open(now)

    def shared_cameras(self) -> frozenset[str]:
        """The cameras the open session shows now (empty when idle)."""
        session = self.state.session
        if session is None or session.ended_at is not None:
            return frozenset()
        return session_rules.shared_cameras(
            self.agreement, session, frozenset(self.state.disabled_cameras)
        )

    def link(self, link_id: str) -> ViewerLink | None:
        """A link by its public id."""
        return self.state.links.get(link_id)

    def link_for_hash(self, token_hash: str) -> ViewerLink | None:
        """The link whose token hashes to `token_hash` (constant-time compare)."""
        found = None
        for link in self.state.links.values():
            if link_rules.digests_match(token_hash, link.token_hash):
                found = link
        return found

    def check_access(
        self, link_id: str, camera: str | None, now: datetime
    ) -> Denial | None:
        """Whether the link may see `camera` (or the session, for None) now."""
        link = self.state.links.get(link_id)
        if link is None:
            return Denial.UNKNOWN
        if denial := link.check(self.agreement, self.state.session, now):
            return denial
        if camera is not None:
            if camera not in self.agreement.cameras:
                return Denial.UNKNOWN_CAMERA
            if camera not in link.scope(self.shared_cameras()):
                return Denial.OUT_OF_SCOPE
        return None

    def active_viewers(self) -> list[dict[str, Any]]:
        """Who is watching what, from where, since when."""
        viewers: dict[tuple[str, str], dict[str, Any]] = {}
        for conn in sorted(self.connections.values(), key=lambda c: c.since):
            entry = viewers.setdefault(
                conn.viewer,
                {
                    "label": conn.label,
                    "link_id": conn.link_id,
                    "address": conn.address,
                    "user_agent": conn.user_agent,
                    "since": conn.since.isoformat(),
                    "cameras": [],
                },
            )
            if conn.camera and conn.camera not in entry["cameras"]:
                entry["cameras"].append(conn.camera)
        return list(viewers.values())

    def viewer_allowed(self, link_id: str, address: str) -> bool:
        """Whether one more viewer fits under the agreement's cap."""
        viewers = {conn.viewer for conn in self.connections.values()}
        return (link_id, address) in viewers or len(
            viewers
        ) < self.agreement.max_viewers

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
        async with self._lock:
            now = dt_util.utcnow()
            try:
                session = session_rules.activate(
                    self.agreement,
                    self.state.session,
                    actor,
                    request,
                    now=now,
                    session_id=uuid.uuid4().hex,
                )
            except Refusal as refusal:
                await self._record_refusal("activate", actor, refusal)
                raise refusal_error(refusal) from refusal
            self.state.session = session
            await self._store.async_save(self.state)
            await self.audit.async_record(
                AuditEvent.SESSION_STARTED,
                actor,
                {
                    "session_id": session.id,
                    "reason": session.reason,
                    "incident_id": session.incident_id,
                    "cameras": sorted(self.shared_cameras()),
                    "expires_at": session.expires_at.isoformat(),
                },
            )
            self._schedule_deadline()
            self._changed()
        self._notify("started", session, actor)
        return session

    async def async_extend(self, actor: Actor, minutes: int) -> Session:
        """Move the deadline later, within the cap."""
        async with self._lock:
            now = dt_util.utcnow()
            try:
                session = session_rules.extend(
                    self.agreement, self.state.session, actor, minutes, now=now
                )
            except Refusal as refusal:
                await self._record_refusal("extend", actor, refusal)
                raise refusal_error(refusal) from refusal
            self.state.session = session
            await self._store.async_save(self.state)
            await self.audit.async_record(
                AuditEvent.SESSION_EXTENDED,
                actor,
                {
                    "session_id": session.id,
                    "minutes": minutes,
                    "expires_at": session.expires_at.isoformat(),
                    "extensions": session.extensions,
                },
            )
            self._schedule_deadline()
            self._changed()
        self._notify("extended", session, actor)
        return session

    async def async_deactivate(self, actor: Actor, reason: str | None) -> Session:
        """End the open session on request."""
        async with self._lock:
            now = dt_util.utcnow()
            try:
                session_rules.check_permission(self.agreement, actor)
                session_rules.require_open(self.state.session, now)
            except Refusal as refusal:
                await self._record_refusal("deactivate", actor, refusal)
                raise refusal_error(refusal) from refusal
            return await self._async_end_locked(
                EndReason.DEACTIVATED, actor, note=(reason or "").strip() or None
            )

    async def _async_end(
        self, reason: EndReason, actor: Actor, note: str | None = None
    ) -> Session | None:
        async with self._lock:
            current = self.state.session
            if current is None or current.ended_at is not None:
                return current
            if not current.is_open(dt_util.utcnow()):
                # Whatever asked, the deadline came first.
                reason, actor = EndReason.DEADLINE, Actor.system()
            return await self._async_end_locked(reason, actor, note)

    async def _async_end_locked(
        self, reason: EndReason, actor: Actor, note: str | None = None
    ) -> Session:
        current = self.state.session
        assert current is not None  # noqa: S101 - callers checked under the lock
        ended = session_rules.end(
            current, reason, now=dt_util.utcnow(), actor=actor, note=note
        )
        self.state.session = ended
        self._cancel_deadline()
        self._recheck_connections()
        await self._store.async_save(self.state)
        await self._record_end(ended)
        self._changed()
        self._notify("ended", ended, actor)
        return ended

    async def _record_end(self, ended: Session) -> None:
        await self.audit.async_record(
            AuditEvent.SESSION_ENDED,
            ended.ended_by or Actor.system(),
            {
                "session_id": ended.id,
                "end_reason": ended.end_reason.value if ended.end_reason else None,
                "note": ended.end_note,
                "started_at": ended.started_at.isoformat(),
                "ended_at": ended.ended_at.isoformat() if ended.ended_at else None,
            },
        )

    async def async_create_link(
        self, actor: Actor, request: LinkRequest
    ) -> tuple[ViewerLink, str]:
        """Issue a viewer link; returns it with its token (shown once, never kept)."""
        async with self._lock:
            now = dt_util.utcnow()
            token = link_rules.new_token()
            try:
                link = link_rules.issue(
                    self.agreement,
                    self.state.session,
                    actor,
                    request,
                    now=now,
                    link_id=link_rules.new_link_id(),
                    token_hash=link_rules.hash_token(token),
                )
            except Refusal as refusal:
                await self._record_refusal("create_viewer_link", actor, refusal)
                raise refusal_error(refusal) from refusal
            self.state.links[link.id] = link
            await self._store.async_save(self.state)
            await self.audit.async_record(
                AuditEvent.LINK_CREATED,
                actor,
                {
                    "link_id": link.id,
                    "label": link.label,
                    "standing": link.standing,
                    "session_id": link.session_id,
                    "cameras": sorted(link.cameras)
                    if link.cameras is not None
                    else None,
                    "expires_at": self.link_expiry(link).isoformat(),
                },
            )
            self._changed()
        return link, token

    def link_expiry(self, link: ViewerLink) -> datetime:
        """When the link stops working, as far as is known now."""
        return link.expiry(self.agreement, self.state.session)

    async def async_revoke_links(self, actor: Actor, link_id: str | None) -> int:
        """Revoke one link, or every link when `link_id` is None."""
        async with self._lock:
            try:
                session_rules.check_permission(self.agreement, actor)
                targets = (
                    [link_rules.find(self.state.links, link_id)]
                    if link_id is not None
                    else list(self.state.links.values())
                )
            except Refusal as refusal:
                await self._record_refusal("revoke_viewer_link", actor, refusal)
                raise refusal_error(refusal) from refusal
            revoked = link_rules.revoke(targets, now=dt_util.utcnow())
            for link in revoked:
                self.state.links[link.id] = link
            self._recheck_connections()
            await self._store.async_save(self.state)
            await self.audit.async_record(
                AuditEvent.LINK_REVOKED,
                actor,
                {
                    "link_ids": [link.id for link in revoked],
                    "labels": [link.label for link in revoked],
                    "all": link_id is None,
                },
            )
            self._changed()
        return len(revoked)

    async def async_set_camera_shared(
        self, actor: Actor, camera: str, *, shared: bool
    ) -> None:
        """A camera's sharing switch: off takes it out of every session at once."""
        async with self._lock:
            try:
                session_rules.check_permission(self.agreement, actor)
            except Refusal as refusal:
                await self._record_refusal("camera_sharing", actor, refusal)
                raise refusal_error(refusal) from refusal
            if shared:
                self.state.disabled_cameras.discard(camera)
            else:
                self.state.disabled_cameras.add(camera)
                self._recheck_connections()
            await self._store.async_save(self.state)
            await self.audit.async_record(
                AuditEvent.CAMERA_SHARING_CHANGED,
                actor,
                {"camera": camera, "shared": shared},
            )
            self._changed()

    async def async_apply_agreement(self, actor: Actor, agreement: Agreement) -> None:
        """The options flow changed the agreement: apply it to the running session."""
        async with self._lock:
            before = self.agreement
            self.agreement = agreement
            await self.audit.async_record(
                AuditEvent.AGREEMENT_CHANGED,
                actor,
                {"changed": _agreement_changes(before, agreement)},
            )
            session = self.state.session
            now = dt_util.utcnow()
            reconciled = session_rules.reconcile(agreement, session, now=now)
            if reconciled is not session:
                self.state.session = reconciled
                await self._store.async_save(self.state)
                if reconciled is not None and reconciled.ended_at is not None:
                    await self._record_end(reconciled)
                    self._notify("ended", reconciled, Actor.system())
            self._recheck_connections()
            self._schedule_deadline()
            async_check_agreement_dates(self.hass, self.entry, agreement, now)
            self._changed()

    async def _record_refusal(
        self, action: str, actor: Actor, refusal: Refusal
    ) -> None:
        await self.audit.async_record(
            AuditEvent.ACCESS_DENIED,
            actor,
            {"action": action, "why": refusal.code.value, **refusal.placeholders},
        )

    # ----------------------------------------------------------------- viewers

    def open_connection(
        self,
        link: ViewerLink,
        camera: str | None,
        address: str,
        user_agent: str,
        close: Callable[[str], None],
    ) -> ViewerConnection:
        """Register an open viewer connection (closed again by `close_connection`)."""
        conn = ViewerConnection(
            id=next(self._connection_ids),
            link_id=link.id,
            label=link.label,
            camera=camera,
            address=address,
            user_agent=user_agent[:200],
            since=dt_util.utcnow(),
            close=close,
        )
        self.connections[conn.id] = conn
        self._changed()
        return conn

    def close_connection(self, conn: ViewerConnection) -> None:
        """Forget a connection that has ended."""
        if self.connections.pop(conn.id, None) is not None:
            self._changed()

    def _close_connections(
        self, predicate: Callable[[ViewerConnection], bool], reason: str
    ) -> None:
        for conn in list(self.connections.values()):
            if predicate(conn):
                conn.close(reason)

    def _recheck_connections(self) -> None:
        """Close every connection the current state no longer allows."""
        now = dt_util.utcnow()
        for conn in list(self.connections.values()):
            if denial := self.check_access(conn.link_id, conn.camera, now):
                conn.close(denial.value)

    # ----------------------------------------------------------------- timers

    def _schedule_deadline(self) -> None:
        self._cancel_deadline()
        session = self.state.session
        if session is not None and session.ended_at is None:
            self._unsub_deadline = async_track_point_in_utc_time(
                self.hass, self._deadline_job, session.expires_at
            )

    def _cancel_deadline(self) -> None:
        if self._unsub_deadline is not None:
            self._unsub_deadline()
            self._unsub_deadline = None

    @callback
    def _deadline_reached(self, _now: datetime) -> None:
        self.hass.async_create_task(
            self._async_end(EndReason.DEADLINE, Actor.system()),
            f"{DOMAIN} end session at deadline",
            eager_start=True,
        )

    @callback
    def _housekeeping(self, now: datetime) -> None:
        self.hass.async_create_background_task(
            self._async_housekeeping(now), f"{DOMAIN} housekeeping"
        )

    async def _async_housekeeping(self, now: datetime) -> None:
        """Hourly: agreement dates, spent links, audit retention."""
        async_check_agreement_dates(self.hass, self.entry, self.agreement, now)
        if not self.agreement.in_force(now) and self.session_open(now):
            await self._async_end(EndReason.AGREEMENT_ENDED, Actor.system())
        async with self._lock:
            horizon = now - SPENT_LINK_KEPT
            spent = [
                link.id
                for link in self.state.links.values()
                if (spent_at := self._spent_at(link, now)) is not None
                and spent_at <= horizon
            ]
            if spent:
                for link_id in spent:
                    del self.state.links[link_id]
                await self._store.async_save(self.state)
        removed = await self.audit.async_prune(
            now - timedelta(days=self.agreement.retention_days)
        )
        if removed:
            _LOGGER.info("Pruned %s audit records past retention", removed)

    def _spent_at(self, link: ViewerLink, now: datetime) -> datetime | None:
        """When the link stopped working for good, or None if it still may work."""
        if link.revoked_at is not None:
            return link.revoked_at
        expiry = self.link_expiry(link)
        return expiry if expiry <= now else None

    # ----------------------------------------------------------------- notices

    def _notify(self, what: str, session: Session, actor: Actor) -> None:
        self.hass.async_create_background_task(
            async_notify_session(
                self.hass,
                self.entry,
                self.agreement,
                what,
                session,
                actor,
                sorted(self.shared_cameras() or session.cameras),
            ),
            f"{DOMAIN} notify {what}",
        )


def _agreement_dict(agreement: Agreement) -> dict[str, Any]:
    return {
        "school": agreement.school,
        "agency": agreement.agency,
        "valid_from": agreement.valid_from.isoformat(),
        "valid_until": agreement.valid_until.isoformat(),
        "cameras": sorted(agreement.cameras),
        "private_cameras": sorted(agreement.private_cameras),
        "allowed_users": sorted(agreement.allowed_users),
        "max_session_minutes": int(agreement.max_session.total_seconds() // 60),
        "max_extension_minutes": int(agreement.max_extension.total_seconds() // 60),
        "max_viewers": agreement.max_viewers,
        "notify_targets": list(agreement.notify_targets),
        "retention_days": agreement.retention_days,
        "failure_limit": agreement.failure_limit,
    }


def _agreement_changes(before: Agreement, after: Agreement) -> dict[str, Any]:
    old, new = _agreement_dict(before), _agreement_dict(after)
    return {
        key: {"from": old[key], "to": new[key]} for key in old if old[key] != new[key]
    }
