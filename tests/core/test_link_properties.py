"""Properties of viewer links: when a link opens a session, and what it shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, tzinfo

from hypothesis import given, strategies as st

from custom_components.school_emergency_share.core import (
    links as link_rules,
    session as session_rules,
)
from custom_components.school_emergency_share.core.actor import Actor
from custom_components.school_emergency_share.core.agreement import Agreement
from custom_components.school_emergency_share.core.errors import Refusal
from custom_components.school_emergency_share.core.links import (
    Denial,
    LinkRequest,
    ViewerLink,
)
from custom_components.school_emergency_share.core.session import (
    ActivationRequest,
    EndReason,
    Session,
)

from .strategies import (
    agreements,
    attempt,
    camera_sets,
    clock_zones,
    in_force_clocks,
    utc,
)

SYSTEM = Actor.system()


@st.composite
def issued(
    draw: st.DrawFn, *, standing: bool | None = None
) -> tuple[Agreement, Session, ViewerLink]:
    """An agreement, its open session, and a link issued while it was open."""
    agreement = draw(agreements())
    opened_at = draw(in_force_clocks(agreement))
    session = session_rules.activate(
        agreement,
        None,
        SYSTEM,
        ActivationRequest("Intruder alarm"),
        now=opened_at,
        session_id="session-1",
    )
    lifetime = session.expires_at - utc(opened_at)
    issued_at = utc(opened_at) + lifetime * draw(st.floats(0, 0.99))
    cameras = draw(
        st.one_of(
            st.none(),
            st.frozensets(st.sampled_from(sorted(session.cameras)), min_size=1),
        )
    )
    link = link_rules.issue(
        agreement,
        session,
        SYSTEM,
        LinkRequest(
            "Unit 12",
            minutes=draw(st.one_of(st.none(), st.integers(1, 600))),
            cameras=cameras,
            standing=draw(st.booleans()) if standing is None else standing,
        ),
        now=issued_at.astimezone(draw(clock_zones())),
        link_id="link-1",
        token_hash=link_rules.hash_token(link_rules.new_token()),
    )
    return agreement, session, link


@st.composite
def later_states(
    draw: st.DrawFn, agreement: Agreement, session: Session, link: ViewerLink
) -> tuple[Session | None, datetime]:
    """What Home Assistant holds at some moment, and that moment in any zone.

    The session may be this one, extended or ended, another one, or none.

    Moments cluster around the link's creation and reach before it: a clock
    set back (NTP, a restored backup) must not make a link open anything.
    """
    moment = link.created_at + timedelta(
        minutes=draw(st.one_of(st.integers(-120, 120), st.integers(-120, 3 * 1440)))
    )
    choice = draw(st.sampled_from(["same", "extended", "ended", "other", "none"]))
    current: Session | None = session
    if choice == "extended":
        current = replace(
            session,
            expires_at=min(
                session.expires_at + agreement.max_extension, agreement.ends_at
            ),
        )
    elif choice == "ended":
        ended_at = utc(session.started_at) + timedelta(
            minutes=draw(st.integers(0, 600))
        )
        current = session_rules.end(session, EndReason.DEACTIVATED, now=ended_at)
    elif choice == "other":
        # A later (or, with a clock set back, earlier) emergency.
        current = replace(
            session,
            id="session-2",
            started_at=moment - timedelta(minutes=1),
            expires_at=moment + timedelta(minutes=30),
            original_expires_at=moment + timedelta(minutes=30),
        )
    elif choice == "none":
        current = None
    return current, moment.astimezone(draw(clock_zones()))


@given(data=st.data(), revoked_after=st.one_of(st.none(), st.integers(-60, 600)))
def test_a_session_link_opens_only_its_own_open_session(
    data: st.DataObject, revoked_after: int | None
) -> None:
    """It opens exactly while its session is open, within its caps, unrevoked.

    So never after its session ended, after revocation, after its own expiry,
    after the agreement, nor in another session.
    """
    agreement, session, link = data.draw(issued(standing=False))
    if revoked_after is not None:
        (link,) = link_rules.revoke(
            [link], now=link.created_at + timedelta(minutes=revoked_after)
        )
    current, now = data.draw(later_states(agreement, session, link))
    denial = link.check(agreement, current, now)
    allowed = (
        link.revoked_at is None
        and current is not None
        and current.id == link.session_id
        and current.is_open(now)
        and (link.expires_at is None or utc(now) < link.expires_at)
        and utc(now) < agreement.ends_at
    )
    assert (denial is None) is allowed
    if link.revoked_at is not None:
        assert denial is Denial.REVOKED


@given(data=st.data())
def test_a_standing_link_opens_only_while_some_session_is_open(
    data: st.DataObject,
) -> None:
    """Any open session, never after the agreement or its own expiry."""
    agreement, session, link = data.draw(issued(standing=True))
    current, now = data.draw(later_states(agreement, session, link))
    denial = link.check(agreement, current, now)
    allowed = (
        current is not None
        and current.is_open(now)
        and (link.expires_at is None or utc(now) < link.expires_at)
        and utc(now) < agreement.ends_at
    )
    assert (denial is None) is allowed
    if denial is None:
        assert utc(now) < agreement.ends_at
    elif utc(now) < link.expiry(agreement, current):
        assert denial is Denial.NO_SESSION


@given(data=st.data())
def test_a_link_expires_no_later_than_the_agreement_or_its_session(
    data: st.DataObject,
) -> None:
    """The expiry a user is shown is a promise the link keeps."""
    agreement, session, link = data.draw(issued())
    current, now = data.draw(later_states(agreement, session, link))
    expiry = link.expiry(agreement, current)
    assert expiry <= agreement.ends_at
    if link.expires_at is not None:
        assert expiry <= link.expires_at
    if not link.standing:
        if current is not None and current.id == link.session_id:
            assert expiry <= (current.ended_at or current.expires_at)
        else:
            assert expiry <= link.created_at
    if utc(now) >= expiry:
        assert link.check(agreement, current, now) in {Denial.EXPIRED, Denial.REVOKED}


@given(data=st.data(), off=camera_sets)
def test_a_link_shows_only_cameras_the_session_shares(
    data: st.DataObject, off: frozenset[str]
) -> None:
    """Scope is within what the session shares now, and within what the link asked."""
    agreement, session, link = data.draw(issued())
    shared = session_rules.shared_cameras(agreement, session, off)
    scope = link.scope(shared)
    assert scope <= shared
    assert not scope & agreement.private_cameras
    assert scope <= session.cameras
    if link.cameras is not None:
        assert scope <= link.cameras
        assert link.cameras <= session.cameras
    else:
        assert scope == shared


@given(
    agreement=agreements(),
    asked=st.one_of(st.none(), camera_sets),
    standing=st.booleans(),
    data=st.data(),
)
def test_a_link_never_asks_for_a_private_or_uncovered_camera(
    agreement: Agreement,
    asked: frozenset[str] | None,
    standing: bool,
    data: st.DataObject,
) -> None:
    """Whatever the request names, an issued link names only shareable cameras."""
    now = data.draw(in_force_clocks(agreement))
    session = session_rules.activate(
        agreement, None, SYSTEM, ActivationRequest("x"), now=now, session_id="s"
    )
    link = attempt(
        link_rules.issue,
        agreement,
        session,
        SYSTEM,
        LinkRequest("Unit 12", cameras=asked, standing=standing),
        now=now,
        link_id="l",
        token_hash="0" * 64,
    )
    if isinstance(link, Refusal):
        assert asked is not None
        assert not asked or not asked <= agreement.shareable_cameras
        return
    assert link.cameras == asked
    assert link.cameras is None or link.cameras <= agreement.shareable_cameras
    # A link just issued works at once.
    assert link.check(agreement, session, now) is None
    assert link.session_id == (None if standing else session.id)


@given(
    data=st.data(),
    revoked=st.lists(st.booleans(), min_size=1, max_size=5),
    zone=clock_zones(),
)
def test_revoking_reaches_every_link_not_yet_revoked(
    data: st.DataObject, revoked: list[bool], zone: tzinfo
) -> None:
    """Revoke all: each link still live is stamped now; old stamps are kept."""
    agreement, session, link = data.draw(issued())
    earlier = link.created_at
    links = [
        replace(link, id=f"link-{n}", revoked_at=earlier if gone else None)
        for n, gone in enumerate(revoked)
    ]
    now = (earlier + timedelta(minutes=1)).astimezone(zone)
    stamped = link_rules.revoke(links, now=now)
    assert [one.id for one in stamped] == [
        one.id for one in links if one.revoked_at is None
    ]
    for one in stamped:
        assert one.revoked_at == utc(now)
        assert one.check(agreement, session, now) is Denial.REVOKED
    assert link_rules.find({one.id: one for one in links}, "link-0").id == "link-0"
