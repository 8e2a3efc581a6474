"""The agreement's own rules: its days, who may act, and what makes it coherent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, strategies as st
import pytest

from custom_components.school_emergency_share.core.actor import Actor, ActorKind
from custom_components.school_emergency_share.core.agreement import Agreement

from .examples import AGREEMENT, PRINCIPAL, VISITOR
from .strategies import NEW_YORK, agreements, clocks, permitted, utc


@given(data=st.data())
def test_in_force_exactly_on_the_agreements_days_in_its_zone(
    data: st.DataObject,
) -> None:
    """Whatever zone `now` is written in, the school's calendar decides."""
    agreement = data.draw(agreements())
    now = data.draw(clocks(agreement))
    local_day = now.astimezone(agreement.tz).date()
    assert agreement.in_force(now) is (
        agreement.valid_from <= local_day <= agreement.valid_until
    )
    assert agreement.in_force(now) is (agreement.starts_at <= now < agreement.ends_at)


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        pytest.param(date(2026, 3, 8), 23, id="spring-forward"),
        pytest.param(date(2026, 11, 1), 25, id="fall-back"),
        pytest.param(date(2026, 11, 2), 24, id="ordinary"),
    ],
)
def test_a_one_day_agreement_lasts_that_day_as_the_school_lives_it(
    day: date, hours: int
) -> None:
    """New York's DST days are 23 and 25 hours long, and so is the agreement."""
    agreement = replace(AGREEMENT, valid_from=day, valid_until=day)
    assert agreement.ends_at - agreement.starts_at == timedelta(hours=hours)
    assert agreement.starts_at == datetime.combine(day, datetime.min.time(), NEW_YORK)
    assert agreement.starts_at.tzinfo is UTC


@given(agreement=agreements(), actor=st.builds(Actor, st.sampled_from(ActorKind)))
def test_only_named_users_and_internal_actors_may_act(
    agreement: Agreement, actor: Actor
) -> None:
    """Viewers never; users only by id; automations, scripts and the system."""
    assert agreement.may_act(actor) is permitted(agreement, actor)
    if actor.kind is ActorKind.VIEWER:
        assert not agreement.may_act(actor)


def test_named_and_unnamed_users() -> None:
    """The principal is named by the agreement; a visitor is not."""
    assert AGREEMENT.may_act(PRINCIPAL)
    assert not AGREEMENT.may_act(VISITOR)
    # Only the id counts, not a display name that happens to match.
    impostor = Actor(ActorKind.USER, "someone-else", "user-principal")
    assert not AGREEMENT.may_act(impostor)


@given(agreement=agreements())
def test_private_cameras_are_never_shareable(agreement: Agreement) -> None:
    """The most any session can show excludes every private camera."""
    assert agreement.shareable_cameras <= agreement.cameras
    assert not agreement.shareable_cameras & agreement.private_cameras
    assert agreement.longest_session() == (
        agreement.max_session + agreement.max_extension
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"school": ""}, "school_required"),
        ({"agency": ""}, "agency_required"),
        ({"valid_until": date(2026, 2, 1)}, "dates_reversed"),
        ({"private_cameras": AGREEMENT.cameras}, "no_shareable_cameras"),
        ({"max_session": timedelta(0)}, "max_session_invalid"),
        ({"max_extension": timedelta(minutes=-1)}, "max_extension_invalid"),
        ({"max_viewers": 0}, "max_viewers_invalid"),
        ({"retention_days": 0}, "retention_invalid"),
        ({"failure_limit": 21}, "failure_limit_invalid"),
        ({"failure_limit": 0}, "failure_limit_invalid"),
    ],
)
def test_incoherent_rules_are_named_and_refused(
    change: dict[str, object], problem: str
) -> None:
    """The config flow shows each problem; validated() refuses to go on."""
    broken = replace(AGREEMENT, **change)  # type: ignore[arg-type]
    assert list(broken.problems()) == [problem]
    with pytest.raises(ValueError, match=problem):
        broken.validated()


def test_the_worked_example_is_coherent() -> None:
    """The example the other tests lean on is itself valid."""
    assert AGREEMENT.validated() is AGREEMENT
    assert utc(AGREEMENT.ends_at) == datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
