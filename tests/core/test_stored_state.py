"""Sessions and links as storage holds them: read back exactly, or refused.

State that cannot be read makes the integration fail closed, so reading junk
must raise ValueError, KeyError or TypeError (what the store catches), never
anything else, and whatever is accepted must work like a real session or link.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
import json
from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.school_emergency_share.core import session as session_rules
from custom_components.school_emergency_share.core.actor import Actor
from custom_components.school_emergency_share.core.agreement import Agreement
from custom_components.school_emergency_share.core.links import ViewerLink
from custom_components.school_emergency_share.core.session import (
    ActivationRequest,
    Session,
)

from .examples import AGREEMENT, NOW
from .strategies import CLOCK_ZONES, sessions, stored_actors, viewer_links

READ_ERRORS = (ValueError, KeyError, TypeError)

# What a JSON file can hold, including what Python's json reads but strict
# JSON does not (NaN, Infinity), and lone surrogates from "\ud800" escapes.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(st.characters(exclude_categories=()), max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
# Values that look nearly right.
looks_right: st.SearchStrategy[Any] = st.sampled_from(
    [
        "2026-03-02T14:00:00",  # no zone
        "2026-13-02T14:00:00+00:00",
        "0001-01-01T00:00:00+05:00",  # in UTC, before year 1
        "9999-12-31T23:59:59-05:00",  # in UTC, after year 9999
        "",
        "user",
        "viewer",
        "deadline",
        "f" * 64,
        "F" * 64,
        "g" * 64,
        "é" * 64,
        ["camera.gym", 1],
        ["camera.gym", ["camera.hall"]],
        "camera.gym",
        {"kind": "user"},
        {"kind": "robot"},
        "9999-12-31",
        "0001-01-01",
    ]
)
# Numbers at the edges: JSON "Infinity", a huge count, a negative one...
edge_numbers: st.SearchStrategy[Any] = st.sampled_from(
    [float("inf"), float("-inf"), float("nan"), 10**30, -1, 0, 2.5, "12", True]
)
near_misses = st.one_of(looks_right, edge_numbers)


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


@st.composite
def damaged(draw: st.DrawFn, valid: dict[str, Any]) -> dict[str, Any]:
    """A stored record with some fields dropped, replaced or added."""
    data = dict(valid)
    for key in draw(st.lists(st.sampled_from(sorted(valid)), min_size=1, max_size=3)):
        change = draw(st.sampled_from(["drop", "junk", "near", "near"]))
        if change == "drop":
            data.pop(key, None)
        else:
            data[key] = draw(json_values if change == "junk" else near_misses)
    data.update(draw(st.dictionaries(st.text(max_size=6), json_values, max_size=2)))
    return data


def _stable(written: dict[str, Any], read: Any) -> None:
    """Writing what was read gives the same JSON (NaN included)."""
    again = read(_as_json(written)).as_dict()
    assert json.dumps(again, sort_keys=True) == json.dumps(written, sort_keys=True)


def works_like_a_session(session: Session) -> None:
    """What the integration does with a session it has read."""
    _stable(session.as_dict(), Session.from_dict)
    session.is_open(NOW)
    session_rules.reconcile(AGREEMENT, session, now=NOW, restarting=True)
    session_rules.shared_cameras(AGREEMENT, session, frozenset())
    session.started_by.describe()


def works_like_a_link(link: ViewerLink) -> None:
    """What the integration does with a link it has read."""
    _stable(link.as_dict(), ViewerLink.from_dict)
    link.check(AGREEMENT, None, NOW)
    link.expiry(AGREEMENT, None)
    link.scope(AGREEMENT.shareable_cameras)


@given(session=sessions())
def test_a_session_reads_back_as_it_was_written(session: Session) -> None:
    """Through JSON, every field, the instants included, comes back equal."""
    restored = Session.from_dict(_as_json(session.as_dict()))
    assert restored == session
    assert restored.as_dict() == session.as_dict()
    works_like_a_session(restored)


@given(link=viewer_links())
def test_a_link_reads_back_as_it_was_written(link: ViewerLink) -> None:
    """Through JSON, every field comes back equal; the token itself is never stored."""
    stored = _as_json(link.as_dict())
    assert "token" not in stored
    restored = ViewerLink.from_dict(stored)
    assert restored == link
    assert restored.as_dict() == link.as_dict()
    works_like_a_link(restored)


@given(actor=stored_actors)
def test_an_actor_reads_back_as_it_was_written(actor: Actor) -> None:
    """Who did what survives storage and the audit log."""
    assert Actor.from_dict(_as_json(actor.as_dict())) == actor


@given(data=st.data(), session=sessions())
def test_a_damaged_session_is_refused_or_works(
    data: st.DataObject, session: Session
) -> None:
    """Junk raises ValueError, KeyError or TypeError; nothing else gets out."""
    junk = data.draw(damaged(_as_json(session.as_dict())))
    try:
        restored = Session.from_dict(junk)
    except READ_ERRORS:
        return
    works_like_a_session(restored)


@given(data=st.data(), link=viewer_links())
def test_a_damaged_link_is_refused_or_works(
    data: st.DataObject, link: ViewerLink
) -> None:
    """Junk raises ValueError, KeyError or TypeError; nothing else gets out."""
    junk = data.draw(damaged(_as_json(link.as_dict())))
    try:
        restored = ViewerLink.from_dict(junk)
    except READ_ERRORS:
        return
    works_like_a_link(restored)


@given(junk=st.dictionaries(st.text(max_size=12), json_values, max_size=8))
def test_a_record_of_pure_junk_is_refused(junk: dict[str, Any]) -> None:
    """Neither a session nor a link comes out of an unrelated dictionary."""
    for read in (Session.from_dict, ViewerLink.from_dict, Actor.from_dict):
        with pytest.raises(READ_ERRORS):
            read(junk)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("started_at", "2026-03-02T14:00:00"),
        ("expires_at", "2026-03-02T13:00:00+00:00"),
        ("ended_at", "yesterday"),
        ("end_reason", "bored"),
        ("started_by", {"kind": "robot"}),
        ("cameras", 7),
        ("extensions", "many"),
        ("extensions", float("inf")),  # Python's json reads "Infinity"
    ],
)
def test_a_session_with_one_bad_field_is_refused(field: str, value: Any) -> None:
    """A naive time, a deadline before the start, an unknown reason or kind..."""
    stored = _session().as_dict() | {field: value}
    with pytest.raises(READ_ERRORS):
        Session.from_dict(stored)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("token_hash", "abc"),
        ("token_hash", "z" * 64),
        ("token_hash", "é" * 64),
        ("created_at", "2026-03-02T14:00:00"),
        ("expires_at", "soon"),
        ("created_by", "someone"),
        ("cameras", 3),
    ],
)
def test_a_link_with_one_bad_field_is_refused(field: str, value: Any) -> None:
    """A digest that isn't SHA-256 hex, a naive time, a malformed actor..."""
    stored = _link().as_dict() | {field: value}
    with pytest.raises(READ_ERRORS):
        ViewerLink.from_dict(stored)


OPTIONS: dict[str, Any] = {
    "school": "Lincoln High",
    "agency": "Metro Police",
    "valid_from": "2026-03-01",
    "valid_until": "2026-06-30",
    "cameras": ["camera.gym", "camera.locker_room"],
    "private_cameras": ["camera.locker_room"],
    "allowed_users": ["user-principal"],
    "max_session_minutes": 60,
    "max_extension_minutes": 30,
    "max_viewers": 10,
    "notify_targets": ["notify.school_ops"],
    "retention_days": 365,
    "failure_limit": 20,
}


@given(data=st.data(), zone=st.sampled_from(CLOCK_ZONES))
def test_agreement_options_that_cannot_be_read_raise_value_error(
    data: st.DataObject, zone: tzinfo
) -> None:
    """The entry fails to load with a clear error; what loads, works."""
    options = data.draw(damaged(OPTIONS))
    try:
        agreement = Agreement.from_options(options, zone)
    except ValueError:
        return
    assert not list(agreement.problems())
    assert agreement.in_force(agreement.starts_at)
    assert not agreement.in_force(agreement.ends_at)
    session = session_rules.activate(
        agreement,
        None,
        Actor.system(),
        ActivationRequest("Fire alarm"),
        now=agreement.starts_at,
        session_id="s",
    )
    assert session.expires_at <= agreement.ends_at


def test_a_link_reads_camera_ids_as_strings() -> None:
    """Whatever a damaged store holds, the link can be saved again."""
    stored = _link().as_dict() | {"cameras": ["camera.gym", 1]}
    link = ViewerLink.from_dict(stored)
    assert link.cameras == frozenset({"camera.gym", "1"})
    assert link.as_dict()["cameras"] == ["1", "camera.gym"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_session_minutes", float("inf")),
        ("max_extension_minutes", 10**30),
        ("max_viewers", float("nan")),
        ("valid_from", "someday"),
        ("cameras", 5),
    ],
)
def test_agreement_options_out_of_range_raise_value_error(
    field: str, value: Any
) -> None:
    """Numbers no timedelta or int holds make the options invalid, not a crash."""
    with pytest.raises(ValueError):
        Agreement.from_options(OPTIONS | {field: value}, UTC)


@pytest.mark.parametrize("zone", CLOCK_ZONES, ids=str)
def test_an_agreement_to_the_last_day_there_is_has_no_end(zone: tzinfo) -> None:
    """From the first day there is until 9999-12-31: in force, sessions work."""
    agreement = Agreement.from_options(
        OPTIONS | {"valid_from": "0001-01-01", "valid_until": "9999-12-31"}, zone
    )
    assert agreement.in_force(NOW)
    session = session_rules.activate(
        agreement,
        None,
        Actor.system(),
        ActivationRequest("Fire alarm"),
        now=NOW,
        session_id="s",
    )
    assert session.expires_at - session.started_at == agreement.max_session
    assert agreement.starts_at < NOW < agreement.ends_at


def test_agreement_options_build_the_rules_users_set() -> None:
    """Options as the config flow stores them; the failure limit is capped at 20."""
    agreement = Agreement.from_options(
        {
            "school": " Lincoln High ",
            "agency": "Metro Police",
            "valid_from": "2026-03-01",
            "valid_until": date(2026, 6, 30),
            "cameras": ["camera.gym", "camera.locker_room"],
            "private_cameras": "camera.locker_room",
            "allowed_users": ["user-principal"],
            "max_session_minutes": "45",
            "failure_limit": 50,
        },
        UTC,
    )
    assert agreement.school == "Lincoln High"
    assert agreement.shareable_cameras == frozenset({"camera.gym"})
    assert agreement.max_session.total_seconds() == 45 * 60
    assert agreement.failure_limit == 20
    assert agreement.valid_until == date(2026, 6, 30)


def _session() -> Session:
    return Session(
        id="session-1",
        started_at=NOW,
        expires_at=NOW.replace(hour=15),
        original_expires_at=NOW.replace(hour=15),
        cameras=frozenset({"camera.gym"}),
        reason="Fire alarm",
        started_by=Actor.system(),
    )


def _link() -> ViewerLink:
    return ViewerLink(
        id="link-1",
        token_hash="0" * 64,
        label="Unit 12",
        created_at=datetime(2026, 3, 2, 14, 5, tzinfo=UTC),
        created_by=Actor.system(),
        standing=False,
        session_id="session-1",
        expires_at=None,
    )
