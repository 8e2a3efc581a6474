"""Police may ask: a request for sharing, made from a standing link.

An officer holding a standing link can ask for sharing while none is active.
One request is pending at a time; the people the agreement names approve it
(a session starts, the approver is the actor, the requester is recorded) or
deny it, and a request nobody answers expires after `REQUEST_LIFETIME`.
Asking opens nothing by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final, Self

from .actor import Actor
from .agreement import Agreement
from .errors import Refusal, RefusalCode
from .links import ViewerLink
from .session import Session, agreement_not_in_force, as_utc

REQUEST_LIFETIME: Final = timedelta(minutes=10)
REASON_MAX: Final = 300
OFFICER_MAX: Final = 80


class RequestStatus(StrEnum):
    """Where a request is in its short life."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """One officer's request for sharing."""

    id: str
    link_id: str
    link_label: str
    officer: str
    reason: str
    created_at: datetime
    expires_at: datetime
    status: RequestStatus = RequestStatus.PENDING
    decided_at: datetime | None = None
    decided_by: Actor | None = None
    # The approver's or denier's words; the session an approval started.
    note: str | None = None
    session_id: str | None = None

    def __post_init__(self) -> None:
        """Hold instants in UTC (see `as_utc`)."""
        for name in ("created_at", "expires_at", "decided_at"):
            if (moment := getattr(self, name)) is not None:
                object.__setattr__(self, name, as_utc(moment))

    def pending(self, now: datetime) -> bool:
        """Whether it still waits for an answer at `now`."""
        return self.status is RequestStatus.PENDING and now < self.expires_at

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage."""
        return {
            "id": self.id,
            "link_id": self.link_id,
            "link_label": self.link_label,
            "officer": self.officer,
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "status": self.status.value,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "decided_by": self.decided_by.as_dict() if self.decided_by else None,
            "note": self.note,
            "session_id": self.session_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Read back what `as_dict` wrote; raises on anything malformed."""
        decided_by = data.get("decided_by")
        return cls(
            id=str(data["id"]),
            link_id=str(data["link_id"]),
            link_label=str(data["link_label"]),
            officer=str(data["officer"]),
            reason=str(data["reason"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            status=RequestStatus(data.get("status", RequestStatus.PENDING)),
            decided_at=(
                datetime.fromisoformat(data["decided_at"])
                if data.get("decided_at")
                else None
            ),
            decided_by=Actor.from_dict(decided_by) if decided_by else None,
            note=str(data["note"]) if data.get("note") else None,
            session_id=str(data["session_id"]) if data.get("session_id") else None,
        )

    def public(self) -> dict[str, Any]:
        """What the officer's page is told of it."""
        return {
            "id": self.id,
            "status": self.status.value,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "note": self.note,
        }


def ask(
    agreement: Agreement,
    current: AccessRequest | None,
    session: Session | None,
    link: ViewerLink,
    *,
    officer: str,
    reason: str,
    now: datetime,
    request_id: str,
) -> AccessRequest:
    """A new pending request, or the Refusal that says why not."""
    if not link.standing:
        raise Refusal(RefusalCode.REQUEST_NEEDS_STANDING_LINK)
    if not agreement.in_force(now):
        raise agreement_not_in_force(agreement)
    if session is not None and session.is_open(now):
        raise Refusal(RefusalCode.ALREADY_ACTIVE)
    if current is not None and current.pending(now):
        raise Refusal(RefusalCode.REQUEST_PENDING)
    reason = " ".join(reason.split())[:REASON_MAX]
    officer = " ".join(officer.split())[:OFFICER_MAX]
    if not reason:
        raise Refusal(RefusalCode.REASON_REQUIRED)
    return AccessRequest(
        id=request_id,
        link_id=link.id,
        link_label=link.label,
        officer=officer or link.label,
        reason=reason,
        created_at=now,
        expires_at=as_utc(now) + REQUEST_LIFETIME,
    )


def find_pending(
    current: AccessRequest | None, request_id: str, now: datetime
) -> AccessRequest:
    """The pending request `request_id`, or the Refusal that says there is none."""
    if current is None or current.id != request_id:
        raise Refusal(RefusalCode.REQUEST_NOT_FOUND, request_id=request_id)
    if not current.pending(now):
        raise Refusal(
            RefusalCode.REQUEST_NOT_PENDING,
            request_id=request_id,
            status=(
                RequestStatus.EXPIRED.value
                if current.status is RequestStatus.PENDING
                else current.status.value
            ),
        )
    return current


def decide(
    request: AccessRequest,
    status: RequestStatus,
    *,
    actor: Actor,
    now: datetime,
    note: str | None = None,
    session_id: str | None = None,
) -> AccessRequest:
    """The request answered (approved, denied) or expired at `now`."""
    return replace(
        request,
        status=status,
        decided_at=now,
        decided_by=actor,
        note=(note or "").strip()[:REASON_MAX] or None,
        session_id=session_id,
    )
