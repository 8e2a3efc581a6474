"""Hypothesis strategies for agreements, actors, clocks, sessions and links.

Agreements are a few days long and sit on daylight-saving changes, in the zones
where those are awkward (New York, Lord Howe's half hour, Havana's midnight);
clocks are instants around the agreement written in whichever zone, fold
included, so the core must compare instants rather than wall times.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from custom_components.school_emergency_share.core.actor import Actor, ActorKind
from custom_components.school_emergency_share.core.agreement import Agreement
from custom_components.school_emergency_share.core.errors import Refusal
from custom_components.school_emergency_share.core.links import (
    ViewerLink,
    hash_token,
    new_token,
)
from custom_components.school_emergency_share.core.session import (
    EndReason,
    Session,
)

NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # moves its clocks by 30 minutes
HAVANA = ZoneInfo("America/Havana")  # changes at midnight: day bounds shift
AGREEMENT_ZONES: tuple[tzinfo, ...] = (NEW_YORK, NEW_YORK, UTC, LORD_HOWE, HAVANA)
# Any zone a caller might write `now` in; the instant is what counts.
CLOCK_ZONES: tuple[tzinfo, ...] = (
    UTC,
    NEW_YORK,
    LORD_HOWE,
    HAVANA,
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=14)),
)
# Days the clocks change in those zones (2026).
DST_DAYS = (
    date(2026, 3, 8),  # New York and Havana spring forward
    date(2026, 11, 1),  # ... and fall back
    date(2026, 4, 5),  # Lord Howe falls back half an hour
    date(2026, 10, 4),  # ... and springs forward
)

CAMERAS = tuple(f"camera.hall_{n}" for n in range(6))
# Private spaces the agreement may name without covering them.
UNCOVERED = ("camera.locker_room", "camera.nurse")
ALL_CAMERAS = CAMERAS + UNCOVERED
USERS = ("user-principal", "user-vice", "user-it", "user-visitor")

INTERNAL_ACTORS = (
    Actor(
        ActorKind.AUTOMATION,
        "automation.fire_alarm",
        "Fire alarm",
        trigger="binary_sensor.fire_panel",
    ),
    Actor(ActorKind.SCRIPT, "script.lockdown", "Lockdown"),
    Actor.system(),
)
VIEWER = Actor(ActorKind.VIEWER, "link-1", "Unit 12")
NAMELESS_USER = Actor(ActorKind.USER, None, "Someone")


def permitted(agreement: Agreement, actor: Actor) -> bool:
    """The MOU's rule, written out independently of the code under test."""
    if actor.kind in {ActorKind.AUTOMATION, ActorKind.SCRIPT, ActorKind.SYSTEM}:
        return True
    return actor.kind == ActorKind.USER and actor.id in agreement.allowed_users


def attempt[**P, T](
    decide: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T | Refusal:
    """What a decision gave: its value, or the refusal it raised."""
    try:
        return decide(*args, **kwargs)
    except Refusal as refusal:
        return refusal


def utc(moment: datetime) -> datetime:
    """The instant, in UTC, so arithmetic and comparison are on real time."""
    return moment.astimezone(UTC)


def elapsed(later: datetime, earlier: datetime) -> timedelta:
    """Real time between two instants, whatever zones they are written in."""
    return utc(later) - utc(earlier)


def subsets[T](
    items: tuple[T, ...], *, non_empty: bool = False
) -> st.SearchStrategy[frozenset[T]]:
    """Subsets of `items`, drawn as one bitmask: cheap, and shrinks to few items."""
    return st.integers(1 if non_empty else 0, 2 ** len(items) - 1).map(
        lambda mask: frozenset(item for n, item in enumerate(items) if mask >> n & 1)
    )


camera_sets = subsets(ALL_CAMERAS)


@st.composite
def agreements(
    draw: st.DrawFn, zones: st.SearchStrategy[tzinfo] | None = None
) -> Agreement:
    """A coherent agreement a few days long, around a daylight-saving change."""
    valid_from = draw(st.sampled_from(DST_DAYS)) + timedelta(
        days=draw(st.integers(-2, 1))
    )
    valid_until = valid_from + timedelta(days=draw(st.integers(0, 3)))
    shareable = draw(subsets(CAMERAS, non_empty=True))
    # Private cameras overlap the covered ones and reach beyond them.
    private_covered = draw(subsets(CAMERAS)) - shareable
    private_uncovered = draw(subsets(UNCOVERED))
    return Agreement(
        school="Lincoln High",
        agency="Metro Police",
        valid_from=valid_from,
        valid_until=valid_until,
        cameras=shareable | private_covered,
        private_cameras=frozenset(private_covered | private_uncovered),
        allowed_users=draw(subsets(USERS)),
        max_session=timedelta(minutes=draw(st.integers(1, 240))),
        max_extension=timedelta(minutes=draw(st.integers(0, 240))),
        max_viewers=draw(st.integers(1, 20)),
        failure_limit=draw(st.integers(1, 20)),
        tz=draw(zones if zones is not None else st.sampled_from(AGREEMENT_ZONES)),
    ).validated()


def actors() -> st.SearchStrategy[Actor]:
    """Users (named by the agreement or not), automations, the system, viewers."""
    return st.one_of(
        st.builds(
            Actor.user,
            st.sampled_from(USERS),
            st.one_of(st.none(), st.sampled_from(["Pat Principal", "Vic Visitor"])),
        ),
        st.sampled_from((*INTERNAL_ACTORS, VIEWER, NAMELESS_USER)),
    )


def clock_zones() -> st.SearchStrategy[tzinfo]:
    """The zone a `now` is written in."""
    return st.sampled_from(CLOCK_ZONES)


@st.composite
def instants(draw: st.DrawFn, agreement: Agreement) -> datetime:
    """A UTC instant from two days before the agreement to two days after."""
    span = agreement.ends_at - agreement.starts_at
    minutes = draw(st.integers(-2 * 1440, int(span.total_seconds() // 60) + 2 * 1440))
    seconds = draw(st.sampled_from((0, 0, 1, 59)))
    return utc(agreement.starts_at) + timedelta(minutes=minutes, seconds=seconds)


@st.composite
def clocks(draw: st.DrawFn, agreement: Agreement) -> datetime:
    """An aware `now` around the agreement, in any zone (fold set correctly)."""
    return draw(instants(agreement)).astimezone(draw(clock_zones()))


@st.composite
def in_force_clocks(draw: st.DrawFn, agreement: Agreement) -> datetime:
    """An aware `now` while the agreement is in force, in any zone."""
    span = agreement.ends_at - agreement.starts_at
    seconds = draw(st.integers(0, int(span.total_seconds()) - 1))
    moment = utc(agreement.starts_at) + timedelta(seconds=seconds)
    return moment.astimezone(draw(clock_zones()))


aware_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - bounds are naive by API
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from(CLOCK_ZONES),
)

stored_actors = st.builds(
    Actor,
    st.sampled_from(ActorKind),
    st.one_of(st.none(), st.text(max_size=10)),
    st.one_of(st.none(), st.text(max_size=10)),
    st.one_of(st.none(), st.text(max_size=10)),
)


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    """Any session storage could hold: open, extended or ended."""
    started = draw(aware_datetimes)
    zone = started.tzinfo

    def later(minutes: int) -> datetime:
        # Real minutes later, written in the same zone.
        return (utc(started) + timedelta(minutes=minutes)).astimezone(zone)

    first = draw(st.integers(1, 240))
    original = later(first)
    expires = later(first + draw(st.integers(0, 240)))
    ended = draw(st.booleans())
    return Session(
        id=draw(st.text(min_size=1, max_size=12)),
        started_at=started,
        expires_at=expires,
        original_expires_at=original,
        cameras=draw(camera_sets),
        reason=draw(st.text(max_size=20)),
        started_by=draw(stored_actors),
        incident_id=draw(st.one_of(st.none(), st.text(max_size=10))),
        extensions=draw(st.integers(0, 5)),
        ended_at=later(draw(st.integers(0, 500))) if ended else None,
        end_reason=draw(st.sampled_from(EndReason)) if ended else None,
        ended_by=draw(st.one_of(st.none(), stored_actors)) if ended else None,
    )


@st.composite
def viewer_links(draw: st.DrawFn) -> ViewerLink:
    """Any link storage could hold."""
    created = draw(aware_datetimes)
    standing = draw(st.booleans())
    return ViewerLink(
        id=draw(st.text(min_size=1, max_size=12)),
        token_hash=hash_token(new_token()),
        label=draw(st.text(max_size=20)),
        created_at=created,
        created_by=draw(stored_actors),
        standing=standing,
        session_id=None if standing else draw(st.text(min_size=1, max_size=12)),
        expires_at=draw(
            st.one_of(
                st.none(),
                st.integers(1, 10_000).map(
                    lambda m: utc(created) + timedelta(minutes=m)
                ),
            )
        ),
        cameras=draw(st.one_of(st.none(), camera_sets)),
        revoked_at=draw(st.one_of(st.none(), aware_datetimes)),
    )
