"""Ends and revocations the audit log holds, applied again to saved state.

A decision that closes access is recorded in the fsynced audit log even when
Home Assistant's store fails to save it. At start-up the records after the
last save are read back and every end and revocation among them is applied
again, so a restart never undoes one. Only closing records are replayed:
nothing in the log can open access that the saved state does not hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .actor import Actor
from .events import AuditEvent
from .session import EndReason
from .state import ShareState


@dataclass(frozen=True, slots=True)
class Replayed:
    """The state with the log's closures applied, and what they changed."""

    state: ShareState
    links_revoked: tuple[str, ...] = ()
    session_ended: str | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        """Whether the log held a closure the saved state had lost."""
        return bool(self.links_revoked or self.session_ended)


def replay(state: ShareState, records: Iterable[Mapping[str, Any]]) -> Replayed:
    """Apply the ends and revocations in `records` (log order) to `state`."""
    links_revoked: list[str] = []
    session_ended: str | None = None
    problems: list[str] = []
    for record in records:
        try:
            moment = datetime.fromisoformat(str(record["ts"]))
            data = record["data"]
            if record["event"] == AuditEvent.LINK_REVOKED:
                state, revoked = _revoke(state, data["link_ids"], moment)
                links_revoked += revoked
            elif record["event"] == AuditEvent.SESSION_ENDED:
                state, ended = _end(state, record, moment)
                session_ended = ended or session_ended
        except (KeyError, TypeError, ValueError) as err:
            # A record the chain check will have flagged: skip it, say so.
            problems.append(f"seq {record.get('seq')}: {err!r}")
    return Replayed(state, tuple(links_revoked), session_ended, tuple(problems))


def _revoke(
    state: ShareState, link_ids: Iterable[str], moment: datetime
) -> tuple[ShareState, list[str]]:
    revoked = [
        replace(link, revoked_at=moment)
        for link_id in link_ids
        if (link := state.links.get(str(link_id))) is not None
        and link.revoked_at is None
    ]
    return state.with_links(revoked), [link.id for link in revoked]


def _end(
    state: ShareState, record: Mapping[str, Any], moment: datetime
) -> tuple[ShareState, str | None]:
    session = state.session
    data = record["data"]
    if session is None or session.ended_at is not None:
        return state, None
    if session.id != str(data["session_id"]):
        return state, None
    actor = record.get("actor")
    ended = replace(
        session,
        ended_at=min(moment, session.expires_at),
        end_reason=EndReason(data["end_reason"]),
        ended_by=Actor.from_dict(actor) if isinstance(actor, dict) else None,
        end_note=data.get("note"),
    )
    return state.with_session(ended), session.id
