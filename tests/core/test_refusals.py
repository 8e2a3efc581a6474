"""Every refusal the agreement gives, with the message the user reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.school_emergency_share.core import (
    links as link_rules,
    session as session_rules,
)
from custom_components.school_emergency_share.core.actor import Actor, ActorKind
from custom_components.school_emergency_share.core.errors import (
    Refusal,
    RefusalCode,
)
from custom_components.school_emergency_share.core.links import LinkRequest
from custom_components.school_emergency_share.core.session import (
    ActivationRequest,
    EndReason,
)

from .examples import (
    AGREEMENT,
    ENGLISH,
    NOW,
    PRINCIPAL,
    SHAREABLE,
    STRINGS,
    VISITOR,
    open_session,
    seen,
)
from .strategies import INTERNAL_ACTORS, VIEWER

NOT_IN_FORCE = "The agreement is not in force now (valid 2026-03-01 to 2026-06-30)."
NO_SESSION = "No emergency sharing session is active."


def issue(
    request: LinkRequest,
    session: session_rules.Session | None = None,
    now: datetime = NOW,
    actor: Actor = PRINCIPAL,
) -> link_rules.ViewerLink:
    """The principal asks for a viewer link."""
    return link_rules.issue(
        AGREEMENT,
        session,
        actor,
        request,
        now=now,
        link_id="link-1",
        token_hash=link_rules.hash_token(link_rules.new_token()),
    )


def test_every_refusal_has_a_message_in_strings_and_english() -> None:
    """Every refusal code is a translation key with one message in both files."""
    for code in RefusalCode:
        assert code.value in STRINGS
        assert STRINGS[code.value] == ENGLISH[code.value]


# --- agreement not in force -------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [
        pytest.param(datetime(2026, 3, 1, 4, 59, tzinfo=UTC), id="before-first-day"),
        pytest.param(datetime(2026, 7, 1, 4, 0, tzinfo=UTC), id="after-last-day"),
        pytest.param(datetime(2027, 1, 1, tzinfo=UTC), id="long-after"),
    ],
)
def test_activation_outside_the_agreement_dates_names_them(now: datetime) -> None:
    """Outside its days, the refusal quotes the agreement's dates."""
    with pytest.raises(Refusal) as refusal:
        open_session(now)
    assert refusal.value.code is RefusalCode.AGREEMENT_NOT_IN_FORCE
    assert seen(refusal.value) == NOT_IN_FORCE


def test_agreement_days_are_whole_days_in_the_schools_zone() -> None:
    """Midnight in New York, not in UTC, opens and closes the agreement."""
    first = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    last = datetime(2026, 7, 1, 3, 59, 59, tzinfo=UTC)
    assert open_session(first).started_at == first
    assert open_session(last).expires_at == datetime(2026, 7, 1, 4, 0, tzinfo=UTC)


def test_extension_past_the_agreement_end_says_the_agreement_ends() -> None:
    """A session already at the agreement's end cannot be pushed past it."""
    near_end = datetime(2026, 7, 1, 3, 30, tzinfo=UTC)
    session = open_session(near_end)
    with pytest.raises(Refusal) as refusal:
        session_rules.extend(AGREEMENT, session, PRINCIPAL, 10, now=near_end)
    assert seen(refusal.value) == (
        "The session already runs to the end of the agreement (2026-06-30); "
        "it cannot be extended past it."
    )


@pytest.mark.parametrize("standing", [False, True])
def test_no_link_is_issued_once_the_agreement_has_ended(standing: bool) -> None:
    """Neither a session link nor a standing one outlives the agreement."""
    after = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
    with pytest.raises(Refusal) as refusal:
        issue(LinkRequest("Unit 12", standing=standing), now=after)
    assert seen(refusal.value) == NOT_IN_FORCE


def test_session_link_before_the_agreement_starts_is_not_in_force() -> None:
    """A session link needs the agreement in force, not just a future one."""
    before = datetime(2026, 2, 27, tzinfo=UTC)
    with pytest.raises(Refusal) as refusal:
        issue(LinkRequest("Unit 12"), now=before)
    assert refusal.value.code is RefusalCode.AGREEMENT_NOT_IN_FORCE


def test_standing_link_may_be_issued_before_the_agreement_starts() -> None:
    """The agency may hold a standing link in advance of the first day."""
    before = datetime(2026, 2, 27, tzinfo=UTC)
    link = issue(LinkRequest("Dispatch desk", standing=True), now=before)
    assert link.standing
    assert link.session_id is None


# --- who may act --------------------------------------------------------------


def test_user_the_agreement_does_not_name_is_refused_by_name() -> None:
    """The refusal names who asked, as the user knows them."""
    with pytest.raises(Refusal) as refusal:
        session_rules.activate(
            AGREEMENT,
            None,
            VISITOR,
            ActivationRequest("Fire alarm"),
            now=NOW,
            session_id="s",
        )
    assert refusal.value.code is RefusalCode.USER_NOT_PERMITTED
    assert (
        seen(refusal.value)
        == "Vic Visitor is not permitted by the agreement to do this."
    )


def test_user_without_a_name_is_refused_by_id() -> None:
    """A user without a display name is named by id."""
    with pytest.raises(Refusal) as refusal:
        session_rules.check_permission(AGREEMENT, Actor.user("user-visitor", None))
    assert seen(refusal.value) == (
        "user-visitor is not permitted by the agreement to do this."
    )


def test_viewer_may_never_act() -> None:
    """A viewer (a link holder) can't activate, extend or issue links."""
    session = open_session()
    attempts = (
        lambda: session_rules.activate(
            AGREEMENT, None, VIEWER, ActivationRequest("x"), now=NOW, session_id="s"
        ),
        lambda: session_rules.extend(AGREEMENT, session, VIEWER, 5, now=NOW),
        lambda: issue(LinkRequest("Unit 12"), session, actor=VIEWER),
    )
    for attempt in attempts:
        with pytest.raises(Refusal) as refusal:
            attempt()
        assert seen(refusal.value) == (
            "viewer Unit 12 is not permitted by the agreement to do this."
        )


def test_user_without_an_id_is_refused_even_if_ids_match_nothing() -> None:
    """A user with no id is never mistaken for an allowed one."""
    nameless = Actor(ActorKind.USER, None, "Someone")
    with pytest.raises(Refusal) as refusal:
        session_rules.check_permission(AGREEMENT, nameless)
    assert refusal.value.code is RefusalCode.USER_NOT_PERMITTED


@pytest.mark.parametrize("actor", INTERNAL_ACTORS, ids=lambda a: a.kind.value)
def test_automations_scripts_and_the_system_may_act(actor: Actor) -> None:
    """Automations, scripts and the integration itself run inside Home Assistant."""
    session = session_rules.activate(
        AGREEMENT, None, actor, ActivationRequest("Fire alarm"), now=NOW, session_id="s"
    )
    assert session.started_by == actor


def test_automation_is_described_with_what_triggered_it() -> None:
    """Notifications and the logbook say which sensor started an automation."""
    assert INTERNAL_ACTORS[0].describe() == (
        "automation Fire alarm (triggered by binary_sensor.fire_panel)"
    )


# --- the request itself ------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_reason_is_required(reason: str) -> None:
    """A blank reason is no reason."""
    with pytest.raises(Refusal) as refusal:
        open_session(reason=reason)
    assert seen(refusal.value) == "A reason is required."


@pytest.mark.parametrize("minutes", [0, -1, -60])
def test_activation_for_no_time_or_less_is_invalid(minutes: int) -> None:
    """Zero minutes is refused like negative ones, not read as the maximum."""
    with pytest.raises(Refusal) as refusal:
        open_session(duration=timedelta(minutes=minutes))
    assert refusal.value.code is RefusalCode.DURATION_INVALID
    assert seen(refusal.value) == "The number of minutes must be positive."


def test_activation_longer_than_the_maximum_names_the_maximum() -> None:
    """The user is told the maximum in minutes: duration_too_long has maximum=60."""
    with pytest.raises(Refusal) as refusal:
        open_session(duration=timedelta(minutes=61))
    assert refusal.value.code is RefusalCode.DURATION_TOO_LONG
    assert refusal.value.placeholders == {"maximum": "60"}
    assert seen(refusal.value) == "The agreement allows sessions of at most 60 minutes."


def test_activation_without_duration_lasts_the_maximum() -> None:
    """No duration means the agreement's maximum and every shareable camera."""
    session = open_session()
    assert session.expires_at - session.started_at == timedelta(minutes=60)
    assert session.cameras == SHAREABLE


def test_camera_the_agreement_does_not_cover_is_named() -> None:
    """A camera outside the agreement is named in the refusal."""
    with pytest.raises(Refusal) as refusal:
        open_session(cameras=frozenset({"camera.gym", "camera.parking"}))
    assert refusal.value.code is RefusalCode.CAMERA_NOT_ELIGIBLE
    assert seen(refusal.value) == (
        "camera.parking is not a camera this agreement covers."
    )


@pytest.mark.parametrize(
    "camera", ["camera.locker_room", "camera.nurse"], ids=["covered", "uncovered"]
)
def test_private_camera_is_refused_as_private(camera: str) -> None:
    """Private wins over eligible: a private camera is refused as private."""
    with pytest.raises(Refusal) as refusal:
        open_session(cameras=frozenset({"camera.gym", camera}))
    assert refusal.value.code is RefusalCode.CAMERA_PRIVATE
    assert seen(refusal.value) == f"{camera} is private and can never be shared."


def test_asking_for_no_camera_is_refused() -> None:
    """An empty camera list would share nothing, so it is refused."""
    with pytest.raises(Refusal) as refusal:
        open_session(cameras=frozenset())
    assert seen(refusal.value) == "No camera would be shared."


def test_second_activation_is_told_to_extend() -> None:
    """While a session is open, activating again points to extend."""
    session = open_session()
    with pytest.raises(Refusal) as refusal:
        session_rules.activate(
            AGREEMENT,
            session,
            PRINCIPAL,
            ActivationRequest("Again"),
            now=NOW + timedelta(minutes=5),
            session_id="session-2",
        )
    assert seen(refusal.value) == (
        "Sharing is already active; use extend to make it longer."
    )


def test_activation_after_the_last_session_expired_opens_a_new_one() -> None:
    """A lapsed session doesn't block the next emergency."""
    first = open_session()
    later = first.expires_at
    second = session_rules.activate(
        AGREEMENT,
        first,
        PRINCIPAL,
        ActivationRequest("Again"),
        now=later,
        session_id="session-2",
    )
    assert second.id == "session-2"
    assert second.started_at == later


def test_incident_number_is_kept_trimmed_and_blank_is_none() -> None:
    """The incident number is optional and stored without stray spaces."""
    assert open_session(incident_id="  INC-42 ").incident_id == "INC-42"
    assert open_session(incident_id="   ").incident_id is None


# --- extend ------------------------------------------------------------------------


def test_extend_without_a_session_is_refused() -> None:
    """Nothing to extend when nothing was started."""
    with pytest.raises(Refusal) as refusal:
        session_rules.extend(AGREEMENT, None, PRINCIPAL, 10, now=NOW)
    assert seen(refusal.value) == NO_SESSION


def test_extend_after_the_deadline_is_refused() -> None:
    """At its deadline a session is over, even before anyone records it."""
    session = open_session()
    with pytest.raises(Refusal) as refusal:
        session_rules.extend(AGREEMENT, session, PRINCIPAL, 10, now=session.expires_at)
    assert seen(refusal.value) == NO_SESSION


def test_extend_after_end_is_refused() -> None:
    """An ended session can't be extended back to life."""
    session = session_rules.end(open_session(), EndReason.DEACTIVATED, now=NOW)
    with pytest.raises(Refusal) as refusal:
        session_rules.extend(AGREEMENT, session, PRINCIPAL, 10, now=NOW)
    assert seen(refusal.value) == NO_SESSION


@pytest.mark.parametrize("minutes", [0, -5])
def test_extend_by_no_time_is_invalid(minutes: int) -> None:
    """Extending by zero or fewer minutes is refused."""
    with pytest.raises(Refusal) as refusal:
        session_rules.extend(AGREEMENT, open_session(), PRINCIPAL, minutes, now=NOW)
    assert seen(refusal.value) == "The number of minutes must be positive."


def test_extension_over_the_cap_says_how_much_is_left() -> None:
    """extension_over_cap tells the user how many minutes remain."""
    session = open_session()
    with pytest.raises(Refusal) as refusal:
        session_rules.extend(AGREEMENT, session, PRINCIPAL, 31, now=NOW)
    assert refusal.value.placeholders == {"remaining": "30"}
    extended = session_rules.extend(AGREEMENT, session, PRINCIPAL, 20, now=NOW)
    with pytest.raises(Refusal) as refusal:
        session_rules.extend(AGREEMENT, extended, PRINCIPAL, 11, now=NOW)
    assert seen(refusal.value) == (
        "The agreement allows only 10 more minutes of extension for this session."
    )
    assert session_rules.remaining_extension(AGREEMENT, extended) == timedelta(
        minutes=10
    )


def test_extension_of_an_absurd_number_of_minutes_is_over_the_cap() -> None:
    """More minutes than a timedelta holds is a refusal, not a crash."""
    with pytest.raises(Refusal) as refusal:
        session_rules.extend(AGREEMENT, open_session(), PRINCIPAL, 10**15, now=NOW)
    assert refusal.value.code is RefusalCode.EXTENSION_OVER_CAP


def test_extensions_move_the_deadline_and_mark_the_session_extended() -> None:
    """Active, then extended, then ended; the deadline moves by what was granted."""
    session = open_session()
    assert session.state is session_rules.SessionState.ACTIVE
    once = session_rules.extend(AGREEMENT, session, PRINCIPAL, 10, now=NOW)
    twice = session_rules.extend(AGREEMENT, once, PRINCIPAL, 20, now=NOW)
    assert twice.expires_at == session.expires_at + timedelta(minutes=30)
    assert twice.extensions == 2
    assert twice.state is session_rules.SessionState.EXTENDED
    assert twice.extended_by == timedelta(minutes=30)
    ended = session_rules.end(twice, EndReason.DEACTIVATED, now=NOW, actor=PRINCIPAL)
    assert ended.state is session_rules.SessionState.ENDED


# --- links -------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["", "   ", "\n\t "])
def test_link_needs_a_label(label: str) -> None:
    """An unlabelled link could not be told apart in the viewer list."""
    with pytest.raises(Refusal) as refusal:
        issue(LinkRequest(label), open_session())
    assert seen(refusal.value) == (
        "A viewer link needs a label (officer, unit or dispatch desk)."
    )


def test_link_label_is_tidied_and_kept_short() -> None:
    """Whitespace is collapsed and the label cut to its maximum length."""
    link = issue(LinkRequest("  Unit\n 12 " + "x" * 200), open_session())
    assert link.label.startswith("Unit 12 x")
    assert len(link.label) == link_rules.LABEL_MAX


@pytest.mark.parametrize("minutes", [0, -1])
def test_link_for_no_time_is_invalid(minutes: int) -> None:
    """A link asking for zero or fewer minutes is refused."""
    with pytest.raises(Refusal) as refusal:
        issue(LinkRequest("Unit 12", minutes=minutes), open_session())
    assert seen(refusal.value) == "The number of minutes must be positive."


def test_session_link_without_a_session_is_refused() -> None:
    """A session link needs a session; a standing one is the way to wait."""
    with pytest.raises(Refusal) as refusal:
        issue(LinkRequest("Unit 12"))
    assert seen(refusal.value) == NO_SESSION


def test_session_link_for_a_camera_the_session_does_not_share_is_named() -> None:
    """A link can't reach a camera the session doesn't share."""
    session = open_session(cameras=frozenset({"camera.gym"}))
    with pytest.raises(Refusal) as refusal:
        issue(LinkRequest("Unit 12", cameras=frozenset({"camera.hall_2f"})), session)
    assert seen(refusal.value) == "camera.hall_2f is not shared by the active session."


@pytest.mark.parametrize(
    ("camera", "code"),
    [
        ("camera.locker_room", RefusalCode.CAMERA_PRIVATE),
        ("camera.parking", RefusalCode.CAMERA_NOT_ELIGIBLE),
    ],
)
@pytest.mark.parametrize("standing", [False, True])
def test_link_for_a_private_or_uncovered_camera_is_refused(
    camera: str, code: RefusalCode, standing: bool
) -> None:
    """Links obey the same camera rules as sessions."""
    request = LinkRequest("Unit 12", cameras=frozenset({camera}), standing=standing)
    with pytest.raises(Refusal) as refusal:
        issue(request, open_session())
    assert refusal.value.code is code
    assert seen(refusal.value).startswith(camera)


def test_link_for_no_camera_is_refused() -> None:
    """A link for an empty camera list would show nothing."""
    with pytest.raises(Refusal) as refusal:
        issue(LinkRequest("Unit 12", cameras=frozenset()), open_session())
    assert seen(refusal.value) == "No camera would be shared."


def test_unknown_link_is_named() -> None:
    """Revoking a link that doesn't exist names the id asked for."""
    with pytest.raises(Refusal) as refusal:
        link_rules.find({}, "abc123")
    assert seen(refusal.value) == "There is no viewer link abc123."


def test_link_for_absurdly_many_minutes_ends_with_the_agreement() -> None:
    """A cap past any representable date is no cap: the agreement's end rules."""
    session = open_session()
    link = issue(LinkRequest("Unit 12", minutes=10**12, standing=True), session)
    assert link.expiry(AGREEMENT, session) == AGREEMENT.ends_at
