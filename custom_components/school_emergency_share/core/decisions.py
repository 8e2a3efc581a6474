"""Every decision an agreement makes, as data: the new state and what to record.

Each function takes the agreement, the current `ShareState`, who asks, what
they ask and `now` (in that order, so one path can run them all), and returns
a `Decision` (None: nothing to do) or raises the `Refusal` that says why not.
Nothing is applied here: the manager runs every decision through one path
(record, save, apply, announce), and whether a decision *opens* access decides
what that path does when the audit log cannot be written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from . import links as link_rules, session as session_rules
from .actor import Actor
from .agreement import Agreement
from .errors import Refusal, RefusalCode
from .events import AuditEvent
from .links import LinkRequest, ViewerLink
from .requests import AccessRequest
from .session import ActivationRequest, EndReason, Session
from .state import ShareState

type NoticeKind = Literal["started", "extended", "ended", "requested"]


@dataclass(frozen=True, slots=True)
class Record:
    """One audit record a decision writes."""

    event: AuditEvent
    actor: Actor | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Notice:
    """What a decision tells the agreement's notify targets and people.

    A session notice (`started`, `extended`, `ended`) names the session; a
    `requested` notice names the police request waiting for an answer.
    """

    kind: NoticeKind
    session: Session | None
    actor: Actor
    request: AccessRequest | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision taken: the state after it, its records, its notice.

    `opens` marks decisions that give access (a session, more time, a link):
    those must be on record before they take effect. Every other decision
    closes or narrows access and takes effect whether or not it can be
    recorded at once.
    """

    state: ShareState
    records: tuple[Record, ...]
    opens: bool = False
    notice: Notice | None = None
    # The rules from now on, when the decision changed them.
    agreement: Agreement | None = None


def refusal_record(action: str, actor: Actor, refusal: Refusal) -> Record:
    """The record of a refused request."""
    return Record(
        AuditEvent.ACCESS_DENIED,
        actor,
        {"action": action, "why": refusal.code.value, **refusal.placeholders},
    )


def check_export(agreement: Agreement, actor: Actor, *, administrator: bool) -> None:
    """Refuse an export to anyone but the named users and administrators."""
    if not agreement.may_export(actor, administrator=administrator):
        raise Refusal(RefusalCode.EXPORT_NOT_PERMITTED, actor=actor.describe())


def activate(
    agreement: Agreement,
    state: ShareState,
    actor: Actor,
    request: ActivationRequest,
    *,
    now: datetime,
    session_id: str,
) -> Decision:
    """Open a session."""
    session = session_rules.activate(
        agreement, state.session, actor, request, now=now, session_id=session_id
    )
    after = state.with_session(session)
    return opened(after, "started", started_record(agreement, after, session, actor))


def extend(
    agreement: Agreement,
    state: ShareState,
    actor: Actor,
    minutes: int,
    *,
    now: datetime,
) -> Decision:
    """Move the open session's deadline later, within the cap."""
    session = session_rules.extend(agreement, state.session, actor, minutes, now=now)
    return opened(
        state.with_session(session),
        "extended",
        Record(
            AuditEvent.SESSION_EXTENDED,
            actor,
            {
                "session_id": session.id,
                "minutes": minutes,
                "expires_at": session.expires_at.isoformat(),
                "extensions": session.extensions,
            },
        ),
    )


def opened(
    state: ShareState, kind: NoticeKind, record: Record, *before: Record
) -> Decision:
    """A session opened or given more time: on record first, then announced."""
    assert state.session is not None  # noqa: S101 - the session just decided
    assert record.actor is not None  # noqa: S101 - someone asked for it
    return Decision(
        state,
        (*before, record),
        opens=True,
        notice=Notice(kind, state.session, record.actor),
    )


def deactivate(
    agreement: Agreement,
    state: ShareState,
    actor: Actor,
    note: str | None,
    *,
    now: datetime,
) -> Decision:
    """End the open session on request."""
    session_rules.check_permission(agreement, actor)
    current = session_rules.require_open(state.session, now)
    return _ended(
        state,
        session_rules.end(
            current,
            EndReason.DEACTIVATED,
            now=now,
            actor=actor,
            note=(note or "").strip() or None,
        ),
    )


def end(
    agreement: Agreement,  # every decision takes the agreement
    state: ShareState,
    actor: Actor,
    reason: EndReason,
    *,
    now: datetime,
) -> Decision | None:
    """End the session for `reason` (deadline, unload, agreement over), if open.

    A session whose deadline has passed ended at its deadline, whatever asks.
    """
    current = state.session
    if current is None or current.ended_at is not None:
        return None
    if not current.is_open(now):
        reason, actor = EndReason.DEADLINE, Actor.system()
    return _ended(state, session_rules.end(current, reason, now=now, actor=actor))


def started_record(
    agreement: Agreement,
    after: ShareState,
    session: Session,
    actor: Actor,
    **extra: object,
) -> Record:
    """The record of `session` starting in `after`: what it shares, until when."""
    return Record(
        AuditEvent.SESSION_STARTED,
        actor,
        {
            "session_id": session.id,
            "reason": session.reason,
            "incident_id": session.incident_id,
            "cameras": sorted(after.shared_cameras(agreement)),
            "expires_at": session.expires_at.isoformat(),
            **extra,
        },
    )


def ended_record(ended: Session) -> Record:
    """The record of a session that ended."""
    return Record(
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


def _ended(state: ShareState, ended: Session) -> Decision:
    return Decision(
        state.with_session(ended),
        (ended_record(ended),),
        notice=Notice("ended", ended, ended.ended_by or Actor.system()),
    )


def create_link(
    agreement: Agreement,
    state: ShareState,
    actor: Actor,
    request: LinkRequest,
    *,
    now: datetime,
    link_id: str,
    token_hash: str,
) -> Decision:
    """Issue a viewer link (its token is made, shown and forgotten by the caller)."""
    link = link_rules.issue(
        agreement,
        state.session,
        actor,
        request,
        now=now,
        link_id=link_id,
        token_hash=token_hash,
    )
    after = state.with_links([link])
    return Decision(
        after,
        (
            Record(
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
                    "expires_at": after.link_expiry(agreement, link).isoformat(),
                },
            ),
        ),
        opens=True,
    )


def revoke_links(
    agreement: Agreement,
    state: ShareState,
    actor: Actor,
    link_id: str | None,
    *,
    now: datetime,
) -> Decision:
    """Revoke one link, or every link when `link_id` is None."""
    session_rules.check_permission(agreement, actor)
    targets: list[ViewerLink] = (
        [link_rules.find(state.links, link_id)]
        if link_id is not None
        else list(state.links.values())
    )
    revoked = link_rules.revoke(targets, now=now)
    return Decision(
        state.with_links(revoked),
        (
            Record(
                AuditEvent.LINK_REVOKED,
                actor,
                {
                    "link_ids": [link.id for link in revoked],
                    "labels": [link.label for link in revoked],
                    "all": link_id is None,
                },
            ),
        ),
    )


def set_camera_shared(
    agreement: Agreement,
    state: ShareState,
    actor: Actor,
    camera: str,
    *,
    shared: bool,
    now: datetime,  # every decision takes the clock
) -> Decision:
    """Switch one camera's sharing on or off; off takes it out of the session."""
    session_rules.check_permission(agreement, actor)
    return Decision(
        state.with_camera_shared(camera, shared=shared),
        (
            Record(
                AuditEvent.CAMERA_SHARING_CHANGED,
                actor,
                {"camera": camera, "shared": shared},
            ),
        ),
        # Switching a camera back on shows it again to an open session.
        opens=shared,
    )


def change_agreement(
    before: Agreement,
    state: ShareState,
    actor: Actor,
    after: Agreement,
    *,
    now: datetime,
) -> Decision:
    """Apply changed rules to the running session (ending or shortening it)."""
    changed = before.changes(after)
    records = (
        [Record(AuditEvent.AGREEMENT_CHANGED, actor, {"changed": changed})]
        if changed
        else []
    )
    reconciled = session_rules.reconcile(after, state.session, now=now)
    notice = None
    if (
        reconciled is not None
        and reconciled is not state.session
        and reconciled.ended_at is not None
    ):
        records.append(ended_record(reconciled))
        notice = Notice("ended", reconciled, Actor.system())
    return Decision(
        state.with_session(reconciled), tuple(records), notice=notice, agreement=after
    )


def recover(
    agreement: Agreement, state: ShareState, actor: Actor, *, now: datetime
) -> Decision | None:
    """At start-up: keep, end or shorten a session that was open before.

    None when there was no open session. `actor` is the system recovering.
    """
    before = state.session
    if before is None or before.ended_at is not None:
        return None
    after = session_rules.reconcile(agreement, before, now=now, restarting=True)
    outcome = "session_restored"
    records: list[Record] = []
    notice = None
    if after is not None and after.ended_at is not None:
        outcome = (
            "session_ended_while_down"
            if after.end_reason is EndReason.ENDED_WHILE_DOWN
            else "session_ended_agreement"
        )
        records.append(ended_record(after))
        notice = Notice("ended", after, Actor.system())
    records.insert(
        0,
        Record(
            AuditEvent.STARTUP_RECOVERY,
            actor,
            {
                "outcome": outcome,
                "session_id": before.id,
                "expires_at": before.expires_at.isoformat(),
            },
        ),
    )
    return Decision(state.with_session(after), tuple(records), notice=notice)


def forget_spent_links(
    agreement: Agreement, state: ShareState, *, now: datetime, kept: timedelta
) -> ShareState | None:
    """The state without links spent `kept` ago, or None when there are none."""
    spent = state.spent_links(agreement, now, kept)
    return state.without_links(spent) if spent else None
