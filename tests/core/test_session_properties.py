"""Properties of the session rules, whatever the agreement, actor and clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
import json

from hypothesis import given, strategies as st

from custom_components.school_emergency_share.core import session as session_rules
from custom_components.school_emergency_share.core.actor import Actor, ActorKind
from custom_components.school_emergency_share.core.agreement import Agreement
from custom_components.school_emergency_share.core.errors import (
    Refusal,
    RefusalCode,
)
from custom_components.school_emergency_share.core.links import LinkRequest, issue
from custom_components.school_emergency_share.core.session import (
    ActivationRequest,
    EndReason,
    Session,
    SessionState,
)

from .strategies import (
    actors,
    agreements,
    attempt,
    camera_sets,
    clock_zones,
    clocks,
    elapsed,
    in_force_clocks,
    permitted,
    sessions,
    utc,
)

SYSTEM = Actor.system()
minutes_asked = st.one_of(st.none(), st.integers(-10, 300))


def in_force(agreement: Agreement, now: datetime) -> bool:
    """Written out independently: the local date of `now` is one of its days."""
    day = now.astimezone(agreement.tz).date()
    return agreement.valid_from <= day <= agreement.valid_until


def restored(session: Session) -> Session:
    """The session as Home Assistant reads it back after a restart."""
    return Session.from_dict(json.loads(json.dumps(session.as_dict())))


def start(
    agreement: Agreement,
    now: datetime,
    duration: timedelta | None = None,
    cameras: frozenset[str] | None = None,
) -> Session:
    """The system opens a session (permission is not what these tests probe)."""
    return session_rules.activate(
        agreement,
        None,
        SYSTEM,
        ActivationRequest("Fire alarm", duration=duration, cameras=cameras),
        now=now,
        session_id="session-1",
    )


@st.composite
def open_sessions(draw: st.DrawFn) -> tuple[Agreement, Session, datetime]:
    """An agreement, a session it opened, and the moment it was opened."""
    agreement = draw(agreements())
    now = draw(in_force_clocks(agreement))
    return agreement, start(agreement, now), now


@given(data=st.data(), minutes=minutes_asked)
def test_no_session_is_opened_outside_the_agreement_days(
    data: st.DataObject, minutes: int | None
) -> None:
    """Sessions open only on the agreement's days, in its zone, and end within them."""
    agreement = data.draw(agreements())
    now = data.draw(clocks(agreement))
    duration = None if minutes is None else timedelta(minutes=minutes)
    session = attempt(start, agreement, now, duration)
    if isinstance(session, Refusal):
        if session.code is RefusalCode.AGREEMENT_NOT_IN_FORCE:
            assert not in_force(agreement, now)
        else:
            assert duration is not None
            assert session.code is (
                RefusalCode.DURATION_INVALID
                if duration <= timedelta(0)
                else RefusalCode.DURATION_TOO_LONG
            )
            assert not timedelta(0) < duration <= agreement.max_session
        return
    assert in_force(agreement, now)
    assert utc(session.started_at) == utc(now)
    assert session.started_at < session.expires_at <= agreement.ends_at
    assert elapsed(session.expires_at, session.started_at) <= (
        duration or agreement.max_session
    )
    assert utc(session.expires_at) == min(
        utc(now) + (duration or agreement.max_session), utc(agreement.ends_at)
    )


@given(
    opened=open_sessions(),
    steps=st.lists(
        st.tuples(st.integers(0, 90), st.integers(-5, 300), clock_zones()),
        max_size=8,
    ),
)
def test_a_session_never_lasts_longer_than_its_maximum_plus_extensions(
    opened: tuple[Agreement, Session, datetime],
    steps: list[tuple[int, int, tzinfo]],
) -> None:
    """Each extension adds what was asked, within the cap and the agreement."""
    agreement, session, now = opened
    moment = utc(now)
    for wait, minutes, zone in steps:
        moment += timedelta(minutes=wait)
        extended = attempt(
            session_rules.extend,
            agreement,
            session,
            SYSTEM,
            minutes,
            now=moment.astimezone(zone),
        )
        left = session_rules.remaining_extension(agreement, session)
        expected = (
            RefusalCode.NO_ACTIVE_SESSION
            if moment >= utc(session.expires_at)
            else RefusalCode.DURATION_INVALID
            if minutes <= 0
            else RefusalCode.EXTENSION_OVER_CAP
            if timedelta(minutes=minutes) > left
            else RefusalCode.EXTENSION_PAST_AGREEMENT
            if session.expires_at >= agreement.ends_at
            else None
        )
        if isinstance(extended, Refusal):
            assert extended.code is expected
            if expected is RefusalCode.EXTENSION_OVER_CAP:
                assert extended.placeholders == {
                    "remaining": str(int(left.total_seconds() // 60))
                }
            continue
        assert expected is None
        assert utc(extended.expires_at) == min(
            utc(session.expires_at) + timedelta(minutes=minutes),
            utc(agreement.ends_at),
        )
        assert extended.extensions == session.extensions + 1
        assert extended.state is SessionState.EXTENDED
        session = extended
        assert elapsed(session.expires_at, session.started_at) <= (
            agreement.longest_session()
        )
        assert session.expires_at <= agreement.ends_at


@given(data=st.data(), asked=st.one_of(st.none(), camera_sets), off=camera_sets)
def test_a_private_camera_is_never_shared_whatever_is_asked(
    data: st.DataObject, asked: frozenset[str] | None, off: frozenset[str]
) -> None:
    """A session shows only eligible, non-private cameras; asking for more fails."""
    agreement = data.draw(agreements())
    now = data.draw(in_force_clocks(agreement))
    session = attempt(start, agreement, now, cameras=asked)
    if isinstance(session, Refusal):
        assert asked is not None
        assert not asked or not asked <= agreement.shareable_cameras
        camera = session.placeholders.get("camera")
        assert (
            camera
            in {
                RefusalCode.CAMERA_PRIVATE: asked & agreement.private_cameras,
                RefusalCode.CAMERA_NOT_ELIGIBLE: asked - agreement.cameras,
                RefusalCode.NO_CAMERAS: {None} if not asked else set(),
            }[session.code]
        )
        return
    assert asked is None or asked <= agreement.shareable_cameras
    assert session.cameras == (agreement.shareable_cameras if asked is None else asked)
    assert not session.cameras & agreement.private_cameras
    shared = session_rules.shared_cameras(agreement, session, off)
    assert shared <= agreement.shareable_cameras - off


@given(agreement=agreements(), stored=sessions(), off=camera_sets)
def test_shared_cameras_drop_private_ones_even_from_a_stored_session(
    agreement: Agreement, stored: Session, off: frozenset[str]
) -> None:
    """A camera made private after the session began stops being shared at once."""
    shared = session_rules.shared_cameras(agreement, stored, off)
    assert not shared & agreement.private_cameras
    assert shared <= agreement.cameras
    assert shared <= stored.cameras
    assert not shared & off


@given(
    opened=open_sessions(),
    end_after=st.integers(0, 600),
    later=st.lists(st.integers(0, 5000), min_size=1, max_size=5),
    reason=st.sampled_from(EndReason),
    by=st.one_of(st.none(), actors()),
    zone=clock_zones(),
)
def test_an_ended_session_never_reopens(
    opened: tuple[Agreement, Session, datetime],
    end_after: int,
    later: list[int],
    reason: EndReason,
    by: Actor | None,
    zone: tzinfo,
) -> None:
    """Ended: closed from then on, not extendable; ending it again changes nothing."""
    agreement, session, now = opened
    ended_when = (utc(now) + timedelta(minutes=end_after)).astimezone(zone)
    ended = session_rules.end(session, reason, now=ended_when, actor=by)
    assert ended.state is SessionState.ENDED
    assert ended.end_reason is reason
    assert ended.ended_by == by
    assert ended.ended_at == min(utc(ended_when), utc(session.expires_at))
    for minutes in later:
        moment = (utc(ended_when) + timedelta(minutes=minutes)).astimezone(zone)
        assert not ended.is_open(moment)
        refusal = attempt(session_rules.extend, agreement, ended, SYSTEM, 1, now=moment)
        assert isinstance(refusal, Refusal)
        assert refusal.code is RefusalCode.NO_ACTIVE_SESSION
        again = session_rules.end(ended, EndReason.DEADLINE, now=moment, actor=SYSTEM)
        assert again == ended
        assert session_rules.reconcile(agreement, ended, now=moment) == ended
        assert (
            session_rules.reconcile(agreement, ended, now=moment, restarting=True)
            == ended
        )


@given(data=st.data(), actor=actors())
def test_only_named_users_and_internal_actors_may_act(
    data: st.DataObject, actor: Actor
) -> None:
    """Activate, extend, issue links: anyone else is refused, by name."""
    agreement, session, now = data.draw(open_sessions())
    actions: list[Callable[[], object]] = [
        lambda: session_rules.activate(
            agreement,
            None,
            actor,
            ActivationRequest("Fire alarm"),
            now=now,
            session_id="s",
        ),
        lambda: session_rules.extend(agreement, session, actor, 1, now=now),
        lambda: issue(
            agreement,
            session,
            actor,
            LinkRequest("Unit 12"),
            now=now,
            link_id="l",
            token_hash="0" * 64,
        ),
        lambda: issue(
            agreement,
            None,
            actor,
            LinkRequest("Dispatch", standing=True),
            now=now,
            link_id="l",
            token_hash="0" * 64,
        ),
    ]
    for action in actions:
        outcome = attempt(action)
        refused = (
            isinstance(outcome, Refusal)
            and outcome.code is RefusalCode.USER_NOT_PERMITTED
        )
        # Others may be refused too (say, no extension left), but not for who
        # they are.
        assert refused is not permitted(agreement, actor)
        if refused:
            assert isinstance(outcome, Refusal)
            assert outcome.placeholders == {"actor": actor.describe()}
            assert actor.kind is not ActorKind.USER or (
                actor.id not in agreement.allowed_users
            )
        if actor.kind is ActorKind.VIEWER:
            assert refused


@given(
    opened=open_sessions(),
    extend_by=st.integers(0, 240),
    down_for=st.integers(0, 600),
    zone=clock_zones(),
)
def test_restart_ends_a_session_whose_deadline_passed_and_keeps_the_rest(
    opened: tuple[Agreement, Session, datetime],
    extend_by: int,
    down_for: int,
    zone: tzinfo,
) -> None:
    """After a restart the stored deadline holds; if it passed, that is recorded."""
    agreement, session, now = opened
    extended = attempt(
        session_rules.extend, agreement, session, SYSTEM, extend_by, now=now
    )
    if not isinstance(extended, Refusal):
        session = extended
    back = (utc(now) + timedelta(minutes=down_for)).astimezone(zone)
    read_back = restored(session)
    result = session_rules.reconcile(agreement, read_back, now=back, restarting=True)
    assert result is not None
    if utc(back) >= utc(session.expires_at):
        assert result.state is SessionState.ENDED
        assert result.end_reason is EndReason.ENDED_WHILE_DOWN
        assert result.ended_by == Actor.system()
        # Ended at the deadline it missed, not when Home Assistant came back.
        assert result.ended_at == session.expires_at
        assert not result.is_open(back)
    else:
        assert result == read_back == session
        assert result.is_open(back)


@given(opened=open_sessions(), passed=st.integers(0, 600))
def test_reconcile_while_running_ends_a_session_at_its_deadline(
    opened: tuple[Agreement, Session, datetime], passed: int
) -> None:
    """Without a restart the reason is plain `deadline`; before it, no change."""
    agreement, session, now = opened
    moment = utc(now) + timedelta(minutes=passed)
    result = session_rules.reconcile(agreement, session, now=moment)
    assert result is not None
    if moment >= utc(session.expires_at):
        assert result.end_reason is EndReason.DEADLINE
        assert result.ended_at == session.expires_at
    else:
        assert result == session


@given(
    opened=open_sessions(),
    days_cut=st.integers(0, 4),
    passed=st.integers(0, 600),
)
def test_a_shortened_agreement_ends_or_shortens_the_session(
    opened: tuple[Agreement, Session, datetime], days_cut: int, passed: int
) -> None:
    """Changing the end date never leaves a session running past the new end."""
    agreement, session, now = opened
    until = max(agreement.valid_from, agreement.valid_until - timedelta(days=days_cut))
    amended = replace(agreement, valid_until=until)
    moment = utc(now) + timedelta(minutes=passed)
    result = session_rules.reconcile(amended, session, now=moment)
    assert result is not None
    if moment >= utc(session.expires_at):
        assert result.end_reason is EndReason.DEADLINE
    elif moment >= utc(amended.ends_at):
        assert result.end_reason is EndReason.AGREEMENT_ENDED
        assert not result.is_open(moment)
    else:
        assert result.is_open(moment)
        assert utc(result.expires_at) == min(
            utc(session.expires_at), utc(amended.ends_at)
        )
