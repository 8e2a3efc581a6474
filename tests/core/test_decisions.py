"""Decisions as data: what each one changes, records, and whether it opens access.

The manager trusts `Decision.opens` to know which decisions must be on record
before they take effect (the audit log fails closed for those) and which take
effect whatever happens to the log. So the property that matters is: a
decision that gives anyone access they did not have is marked `opens`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import json
from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.school_emergency_share.core import decisions, police
from custom_components.school_emergency_share.core.actor import Actor, ActorKind
from custom_components.school_emergency_share.core.agreement import Agreement
from custom_components.school_emergency_share.core.decisions import Decision
from custom_components.school_emergency_share.core.errors import Refusal
from custom_components.school_emergency_share.core.events import AuditEvent
from custom_components.school_emergency_share.core.links import (
    Denial,
    LinkRequest,
    hash_token,
    new_token,
)
from custom_components.school_emergency_share.core.session import (
    ActivationRequest,
    EndReason,
)
from custom_components.school_emergency_share.core.state import ShareState

from .strategies import (
    ALL_CAMERAS,
    INTERNAL_ACTORS,
    actors,
    agreements,
    attempt,
    in_force_clocks,
    subsets,
    utc,
)

AUTOMATION = INTERNAL_ACTORS[0]
type World = tuple[Agreement, ShareState, datetime]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """An agreement in force, maybe a session, some links, some cameras off."""
    agreement = draw(agreements())
    now = draw(in_force_clocks(agreement))
    state = ShareState()
    if draw(st.booleans()):
        asked = draw(subsets(tuple(sorted(agreement.shareable_cameras))))
        opened = attempt(
            decisions.activate,
            agreement,
            state,
            AUTOMATION,
            ActivationRequest("Drill", cameras=asked or None),
            now=now,
            session_id="session-1",
        )
        if isinstance(opened, Decision):
            state = opened.state
    for number in range(draw(st.integers(0, 3))):
        token = new_token()
        issued = attempt(
            decisions.create_link,
            agreement,
            state,
            AUTOMATION,
            LinkRequest(
                f"Unit {number}",
                minutes=draw(st.one_of(st.none(), st.integers(1, 300))),
                cameras=draw(st.one_of(st.none(), subsets(ALL_CAMERAS))) or None,
                standing=draw(st.booleans()),
            ),
            now=now,
            link_id=f"link-{number}",
            token_hash=hash_token(token),
        )
        if isinstance(issued, Decision):
            state = issued.state
    standing = [link for link in state.links.values() if link.standing]
    ask: bool = draw(st.booleans())
    if standing and ask:
        requested = attempt(
            police.ask_for_sharing,
            agreement,
            state,
            Actor(ActorKind.VIEWER, standing[0].id, standing[0].label),
            standing[0].id,
            officer="Unit 5",
            reason="Report of a weapon",
            now=now,
            request_id="request-1",
        )
        if isinstance(requested, Decision):
            state = requested.state
    for camera in draw(subsets(tuple(sorted(agreement.cameras)))):
        state = state.with_camera_shared(camera, shared=False)
    return agreement, state, now


def granted(agreement: Agreement, state: ShareState, now: datetime) -> set[Any]:
    """Every (link, camera) the state lets through at `now` (None: the session)."""
    return {
        (link_id, camera)
        for link_id in state.links
        for camera in (None, *ALL_CAMERAS)
        if state.check_access(agreement, link_id, camera, now) is None
    }


KINDS = (
    "activate",
    "extend",
    "deactivate",
    "end",
    "link",
    "revoke",
    "camera",
    "approve",
    "deny",
    "expire",
)


def any_decision(
    data: st.DataObject, world: World, kind: str | None = None
) -> Decision | Refusal | None:
    """One decision of `kind` (any kind for None), by anyone, on `world`."""
    agreement, state, now = world
    draw = data.draw
    # Half the time someone the agreement lets act, so decisions are taken.
    actor: Actor = draw(st.one_of(st.just(AUTOMATION), actors()))
    link_id = draw(st.one_of(st.none(), st.sampled_from(["link-0", "link-1", "x"])))
    camera = draw(st.sampled_from(ALL_CAMERAS))
    choices: dict[str, Any] = {
        "activate": lambda: decisions.activate(
            agreement,
            state,
            actor,
            ActivationRequest("Fire"),
            now=now,
            session_id="session-2",
        ),
        "extend": lambda: decisions.extend(
            agreement, state, actor, draw(st.integers(1, 90)), now=now
        ),
        "deactivate": lambda: decisions.deactivate(
            agreement, state, actor, "All clear", now=now
        ),
        "end": lambda: decisions.end(
            agreement, state, actor, draw(st.sampled_from(EndReason)), now=now
        ),
        "link": lambda: decisions.create_link(
            agreement,
            state,
            actor,
            LinkRequest("Dispatch", standing=draw(st.booleans())),
            now=now,
            link_id="link-new",
            token_hash=hash_token(new_token()),
        ),
        "revoke": lambda: decisions.revoke_links(
            agreement, state, actor, link_id, now=now
        ),
        "camera": lambda: decisions.set_camera_shared(
            agreement, state, actor, camera, shared=draw(st.booleans()), now=now
        ),
        "approve": lambda: police.approve_request(
            agreement,
            state,
            actor,
            "request-1",
            ActivationRequest(""),
            now=now,
            session_id="session-3",
        ),
        "deny": lambda: police.deny_request(
            agreement, state, actor, "request-1", "No", now=now
        ),
        "expire": lambda: police.expire_request(
            agreement,
            state,
            Actor.system(),
            now=utc(now) + timedelta(minutes=draw(st.integers(0, 20))),
        ),
    }
    choice = choices[kind or draw(st.sampled_from(KINDS))]
    try:
        result: Decision | None = choice()
    except Refusal as refusal:
        return refusal
    return result


@pytest.mark.parametrize("kind", KINDS)
@given(world=worlds(), data=st.data())
def test_a_decision_that_gives_access_is_marked_as_opening_it(
    kind: str, world: World, data: st.DataObject
) -> None:
    """Only `opens` decisions may let a link see more, now or a minute later."""
    agreement, state, now = world
    decision = any_decision(data, world, kind)
    if not isinstance(decision, Decision):
        return
    for moment in (now, utc(now) + timedelta(minutes=1)):
        gained = granted(agreement, decision.state, moment) - granted(
            agreement, state, moment
        )
        assert decision.opens or not gained, (decision.records, gained)


@given(world=worlds(), data=st.data())
def test_every_decision_is_recorded_in_data_the_log_can_hold(
    world: World, data: st.DataObject
) -> None:
    """At least one record, a known event, details that survive JSON."""
    decision = any_decision(data, world)
    if isinstance(decision, Refusal):
        record = decisions.refusal_record("activate", Actor.system(), decision)
        assert record.event is AuditEvent.ACCESS_DENIED
        assert record.data["why"] == decision.code.value
        return
    if decision is None:
        return
    assert decision.records
    for record in decision.records:
        assert isinstance(record.event, AuditEvent)
        assert json.loads(json.dumps(record.data, allow_nan=False)) == record.data


@given(world=worlds())
def test_spent_links_never_work_again(world: World) -> None:
    """A link safe to forget is refused now and at every later time."""
    agreement, state, now = world
    later = utc(now) + timedelta(days=400)
    spent = state.spent_links(agreement, later, timedelta(0))
    for link_id in spent:
        for moment in (later, later + timedelta(days=1)):
            assert state.check_access(agreement, link_id, None, moment) in {
                Denial.REVOKED,
                Denial.EXPIRED,
            }
    pruned = decisions.forget_spent_links(
        agreement, state, now=later, kept=timedelta(0)
    )
    assert (pruned is None) == (not spent)
    if pruned is not None:
        assert set(pruned.links) == set(state.links) - set(spent)


@given(world=worlds(), down_for=st.integers(0, 3 * 24 * 60))
def test_start_up_keeps_shortens_or_ends_a_session_and_never_reopens_one(
    world: World, down_for: int
) -> None:
    """After a restart a session is as it was, shorter, or ended (and recorded)."""
    agreement, state, now = world
    restarted = utc(now) + timedelta(minutes=down_for)
    decision = decisions.recover(agreement, state, Actor.system(), now=restarted)
    before = state.session
    if before is None or before.ended_at is not None:
        assert decision is None
        return
    assert decision is not None
    after = decision.state.session
    assert after is not None
    assert decision.records[0].event is AuditEvent.STARTUP_RECOVERY
    assert after.expires_at <= before.expires_at
    if restarted >= before.expires_at:
        assert after.end_reason is EndReason.ENDED_WHILE_DOWN
    if after.ended_at is not None:
        assert decision.records[-1].event is AuditEvent.SESSION_ENDED
        assert decision.notice is not None
        assert decision.notice.kind == "ended"
    assert not decision.opens


@given(world=worlds())
def test_state_reads_back_exactly_what_it_saved(world: World) -> None:
    """Session, links and switched-off cameras survive storage's JSON."""
    _agreement, state, _now = world
    stored = json.loads(json.dumps(state.as_dict()))

    assert ShareState.from_dict(stored) == state


@given(before=agreements(), after=agreements(), world=worlds())
def test_an_agreement_change_records_exactly_the_rules_that_differ(
    before: Agreement, after: Agreement, world: World
) -> None:
    """One `agreement_changed` naming each changed rule; none when nothing did."""
    _agreement, state, now = world
    decision = decisions.change_agreement(
        before, state, Actor.system("Settings"), after, now=now
    )
    changed = [
        record.data["changed"]
        for record in decision.records
        if record.event is AuditEvent.AGREEMENT_CHANGED
    ]
    expected = {
        key: {"from": value, "to": after.as_dict()[key]}
        for key, value in before.as_dict().items()
        if after.as_dict()[key] != value
    }
    assert changed == ([expected] if expected else [])
