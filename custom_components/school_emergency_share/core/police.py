"""The decisions about police requests: asked, approved, denied, expired.

Each is a decision like those in `decisions`, run through the same path: an
approval opens access (a session starts, the approver acting, the officer
recorded); asking, denying and expiring open nothing.
"""

from __future__ import annotations

from datetime import datetime

from . import requests as request_rules, session as session_rules
from .actor import Actor
from .agreement import Agreement
from .decisions import Decision, Notice, Record, opened, started_record
from .events import AuditEvent
from .requests import RequestStatus
from .session import ActivationRequest
from .state import ShareState


def ask_for_sharing(
    agreement: Agreement,
    state: ShareState,
    actor: Actor,
    link_id: str,
    *,
    officer: str,
    reason: str,
    now: datetime,
    request_id: str,
) -> Decision:
    """An officer's request for sharing, from a standing link (opens nothing)."""
    link = state.links[link_id]
    request = request_rules.ask(
        agreement,
        state.request,
        state.session,
        link,
        officer=officer,
        reason=reason,
        now=now,
        request_id=request_id,
    )
    return Decision(
        state.with_request(request),
        (
            Record(
                AuditEvent.REQUEST_CREATED,
                actor,
                {
                    "request_id": request.id,
                    "link_id": link.id,
                    "label": link.label,
                    "officer": request.officer,
                    "reason": request.reason,
                    "expires_at": request.expires_at.isoformat(),
                },
            ),
        ),
        notice=Notice("requested", None, actor, request),
    )


def approve_request(
    agreement: Agreement,
    state: ShareState,
    actor: Actor,
    request_id: str,
    activation: ActivationRequest,
    *,
    now: datetime,
    session_id: str,
) -> Decision:
    """Approve a pending request: a session starts, the approver acting.

    `activation` may narrow the duration and cameras; the reason is the
    officer's, and the record names who asked.
    """
    session_rules.check_permission(agreement, actor)
    pending = request_rules.find_pending(state.request, request_id, now)
    asked = ActivationRequest(
        reason=f"Police request: {pending.reason}",
        duration=activation.duration,
        cameras=activation.cameras,
        incident_id=activation.incident_id,
    )
    session = session_rules.activate(
        agreement, state.session, actor, asked, now=now, session_id=session_id
    )
    approved = request_rules.decide(
        pending, RequestStatus.APPROVED, actor=actor, now=now, session_id=session.id
    )
    after = state.with_session(session).with_request(approved)
    requester = {
        "request_id": pending.id,
        "officer": pending.officer,
        "link_id": pending.link_id,
        "label": pending.link_label,
    }
    return opened(
        after,
        "started",
        started_record(agreement, after, session, actor, requested_by=requester),
        Record(
            AuditEvent.REQUEST_APPROVED,
            actor,
            {**requester, "session_id": session.id},
        ),
    )


def deny_request(
    agreement: Agreement,
    state: ShareState,
    actor: Actor,
    request_id: str,
    note: str | None,
    *,
    now: datetime,
) -> Decision:
    """Deny a pending request, in the denier's words if any."""
    session_rules.check_permission(agreement, actor)
    pending = request_rules.find_pending(state.request, request_id, now)
    denied = request_rules.decide(
        pending, RequestStatus.DENIED, actor=actor, now=now, note=note
    )
    return Decision(
        state.with_request(denied),
        (
            Record(
                AuditEvent.REQUEST_DENIED,
                actor,
                {
                    "request_id": pending.id,
                    "officer": pending.officer,
                    "label": pending.link_label,
                    "note": denied.note,
                },
            ),
        ),
    )


def expire_request(
    agreement: Agreement,  # every decision takes the agreement
    state: ShareState,
    actor: Actor,
    *,
    now: datetime,
) -> Decision | None:
    """A pending request nobody answered in time expires (None: none did)."""
    current = state.request
    if (
        current is None
        or current.status is not RequestStatus.PENDING
        or now < current.expires_at
    ):
        return None
    expired = request_rules.decide(
        current, RequestStatus.EXPIRED, actor=actor, now=current.expires_at
    )
    return Decision(
        state.with_request(expired),
        (
            Record(
                AuditEvent.REQUEST_EXPIRED,
                actor,
                {
                    "request_id": current.id,
                    "officer": current.officer,
                    "label": current.link_label,
                },
            ),
        ),
    )
