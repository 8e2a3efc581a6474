"""The emergency session: idle → active → extended* → ended, never reopened.

Every decision is a function of the agreement, the current session, the actor,
the request and an explicit `now`. Nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Self

from .actor import Actor, ActorKind
from .agreement import Agreement
from .errors import Refusal, RefusalCode


class SessionState(StrEnum):
    """Where a session is in its life. No session at all is `idle`."""

    IDLE = "idle"
    ACTIVE = "active"
    EXTENDED = "extended"
    ENDED = "ended"


class EndReason(StrEnum):
    """Why a session ended."""

    DEACTIVATED = "deactivated"
    DEADLINE = "deadline"
    AGREEMENT_ENDED = "agreement_ended"
    ENDED_WHILE_DOWN = "deadline_passed_while_down"
    UNLOADED = "unloaded"


@dataclass(frozen=True, slots=True)
class Session:
    """One emergency session. Immutable: every change makes a new value."""

    id: str
    started_at: datetime
    expires_at: datetime
    original_expires_at: datetime
    cameras: frozenset[str]
    reason: str
    started_by: Actor
    incident_id: str | None = None
    extensions: int = 0
    ended_at: datetime | None = None
    end_reason: EndReason | None = None
    ended_by: Actor | None = None
    # What the person or automation that ended it said ("All clear").
    end_note: str | None = None

    def __post_init__(self) -> None:
        """Hold instants in UTC, whatever zone the caller's clock was written in."""
        for name in ("started_at", "expires_at", "original_expires_at", "ended_at"):
            if (moment := getattr(self, name)) is not None:
                object.__setattr__(self, name, as_utc(moment))

    @property
    def state(self) -> SessionState:
        """The lifecycle state."""
        if self.ended_at is not None:
            return SessionState.ENDED
        if self.extensions:
            return SessionState.EXTENDED
        return SessionState.ACTIVE

    def is_open(self, now: datetime) -> bool:
        """Whether the session lets anyone see anything at `now`."""
        return self.ended_at is None and now < self.expires_at

    @property
    def extended_by(self) -> timedelta:
        """How far extensions have moved the deadline."""
        return self.expires_at - self.original_expires_at

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage."""
        return {
            "id": self.id,
            "started_at": self.started_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "original_expires_at": self.original_expires_at.isoformat(),
            "cameras": sorted(self.cameras),
            "reason": self.reason,
            "started_by": self.started_by.as_dict(),
            "incident_id": self.incident_id,
            "extensions": self.extensions,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "end_reason": self.end_reason.value if self.end_reason else None,
            "ended_by": self.ended_by.as_dict() if self.ended_by else None,
            "end_note": self.end_note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Read back what `as_dict` wrote; raises on anything malformed."""
        session = cls(
            id=str(data["id"]),
            started_at=_aware(data["started_at"]),
            expires_at=_aware(data["expires_at"]),
            original_expires_at=_aware(data["original_expires_at"]),
            cameras=frozenset(str(c) for c in data["cameras"]),
            reason=str(data["reason"]),
            started_by=Actor.from_dict(data["started_by"]),
            incident_id=data.get("incident_id"),
            extensions=_count(data.get("extensions", 0)),
            ended_at=_aware(data["ended_at"]) if data.get("ended_at") else None,
            end_reason=EndReason(data["end_reason"])
            if data.get("end_reason")
            else None,
            ended_by=Actor.from_dict(data["ended_by"])
            if data.get("ended_by")
            else None,
            end_note=str(data["end_note"]) if data.get("end_note") else None,
        )
        if not session.started_at < session.expires_at:
            raise ValueError("session deadline is not after its start")
        return session


@dataclass(frozen=True, slots=True)
class ActivationRequest:
    """What an activation asks for."""

    reason: str
    duration: timedelta | None = None
    cameras: frozenset[str] | None = None
    incident_id: str | None = None


def check_permission(agreement: Agreement, actor: Actor) -> None:
    """Refuse anyone the agreement does not name, and anything unattributed."""
    if agreement.may_act(actor):
        return
    if actor.kind is ActorKind.UNATTRIBUTED:
        raise Refusal(RefusalCode.UNATTRIBUTABLE, origin=actor.name or "unknown")
    raise Refusal(RefusalCode.USER_NOT_PERMITTED, actor=actor.describe())


def agreement_not_in_force(agreement: Agreement) -> Refusal:
    """The refusal for acting outside the agreement's dates."""
    return Refusal(
        RefusalCode.AGREEMENT_NOT_IN_FORCE,
        valid_from=agreement.valid_from.isoformat(),
        valid_until=agreement.valid_until.isoformat(),
    )


def require_open(current: Session | None, now: datetime) -> Session:
    """The open session, or the refusal that says there is none."""
    if current is None or not current.is_open(now):
        raise Refusal(RefusalCode.NO_ACTIVE_SESSION)
    return current


def check_cameras(agreement: Agreement, cameras: Iterable[str]) -> frozenset[str]:
    """Refuse private and uncovered cameras; return the set asked for."""
    asked = frozenset(cameras)
    for camera in sorted(asked):
        if camera in agreement.private_cameras:
            raise Refusal(RefusalCode.CAMERA_PRIVATE, camera=camera)
        if camera not in agreement.cameras:
            raise Refusal(RefusalCode.CAMERA_NOT_ELIGIBLE, camera=camera)
    return asked


def activate(
    agreement: Agreement,
    current: Session | None,
    actor: Actor,
    request: ActivationRequest,
    *,
    now: datetime,
    session_id: str,
) -> Session:
    """Open a session, or raise the Refusal that says why not."""
    check_permission(agreement, actor)
    if not agreement.in_force(now):
        raise agreement_not_in_force(agreement)
    if current is not None and current.is_open(now):
        raise Refusal(RefusalCode.ALREADY_ACTIVE)
    reason = request.reason.strip()
    if not reason:
        raise Refusal(RefusalCode.REASON_REQUIRED)
    # `or` would turn an explicit zero into the maximum instead of refusing it.
    duration = agreement.max_session if request.duration is None else request.duration
    if duration <= timedelta(0):
        raise Refusal(RefusalCode.DURATION_INVALID)
    if duration > agreement.max_session:
        raise Refusal(
            RefusalCode.DURATION_TOO_LONG,
            maximum=str(int(agreement.max_session.total_seconds() // 60)),
        )
    if request.cameras is None:
        cameras = agreement.shareable_cameras
    else:
        cameras = check_cameras(agreement, request.cameras)
    if not cameras:
        raise Refusal(RefusalCode.NO_CAMERAS)
    expires_at = min(as_utc(now) + duration, agreement.ends_at)
    incident = (request.incident_id or "").strip() or None
    return Session(
        id=session_id,
        started_at=now,
        expires_at=expires_at,
        original_expires_at=expires_at,
        cameras=cameras,
        reason=reason,
        started_by=actor,
        incident_id=incident,
    )


def extend(
    agreement: Agreement,
    current: Session | None,
    actor: Actor,
    minutes: int,
    *,
    now: datetime,
) -> Session:
    """Move the deadline later, within the agreement's extension cap."""
    check_permission(agreement, actor)
    current = require_open(current, now)
    if minutes <= 0:
        raise Refusal(RefusalCode.DURATION_INVALID)
    allowance = agreement.max_extension - current.extended_by
    try:
        wanted = timedelta(minutes=minutes)
    except OverflowError:  # more minutes than a timedelta holds: over any cap
        wanted = timedelta.max
    if wanted > allowance:
        raise Refusal(
            RefusalCode.EXTENSION_OVER_CAP,
            remaining=str(max(0, int(allowance.total_seconds() // 60))),
        )
    expires_at = min(current.expires_at + wanted, agreement.ends_at)
    if expires_at <= current.expires_at:
        raise Refusal(
            RefusalCode.EXTENSION_PAST_AGREEMENT,
            valid_until=agreement.valid_until.isoformat(),
        )
    return replace(current, expires_at=expires_at, extensions=current.extensions + 1)


def remaining_extension(agreement: Agreement, current: Session) -> timedelta:
    """How much longer the session may still be extended."""
    return max(timedelta(0), agreement.max_extension - current.extended_by)


def end(
    current: Session,
    reason: EndReason,
    *,
    now: datetime,
    actor: Actor | None = None,
    note: str | None = None,
) -> Session:
    """Close the session. Ending an ended session changes nothing."""
    if current.ended_at is not None:
        return current
    ended_at = min(now, current.expires_at)
    return replace(
        current, ended_at=ended_at, end_reason=reason, ended_by=actor, end_note=note
    )


def reconcile(
    agreement: Agreement,
    current: Session | None,
    *,
    now: datetime,
    restarting: bool = False,
) -> Session | None:
    """End a session the clock or the agreement no longer allows.

    Called at start-up (`restarting`) and whenever the agreement changes.
    Returns the session, ended if it had to be, or None for no session.
    """
    if current is None or current.ended_at is not None:
        return current
    if now >= current.expires_at:
        reason = EndReason.ENDED_WHILE_DOWN if restarting else EndReason.DEADLINE
        return end(current, reason, now=now, actor=Actor.system())
    if not agreement.in_force(now):
        return end(current, EndReason.AGREEMENT_ENDED, now=now, actor=Actor.system())
    if current.expires_at > agreement.ends_at:
        # The agreement was shortened: the session may not outlive it.
        return replace(current, expires_at=agreement.ends_at)
    return current


def shared_cameras(
    agreement: Agreement, current: Session, disabled: frozenset[str]
) -> frozenset[str]:
    """What the session shows now: asked for, still eligible, not private, not off."""
    return (current.cameras & agreement.shareable_cameras) - disabled


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; raises ValueError for a naive or unusable time.

    Python adds to and compares two times in the same zone by their wall
    clocks, so across a DST change "01:30 + 60 minutes" is two real hours and
    the repeated hour compares equal to itself. Instants in UTC have no such
    trap, so every time the rules keep or add to is converted first.
    """
    if moment.utcoffset() is None:
        raise ValueError("timestamp without a time zone")
    try:
        return moment.astimezone(UTC)
    except OverflowError as err:
        raise ValueError("timestamp out of range") from err


def _count(value: Any) -> int:
    try:
        return int(value)
    except OverflowError as err:  # JSON's Infinity, read back as a float
        raise ValueError("count out of range") from err


def _aware(value: Any) -> datetime:
    return as_utc(datetime.fromisoformat(str(value)))
