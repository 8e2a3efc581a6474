"""A session from the dashboard's point of view: start, extend, deadline, end."""

from __future__ import annotations

from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)

from .common import (
    ENTRANCE,
    GYM,
    HALLWAY,
    LIBRARY,
    LOCKER_ROOM,
    async_call,
    async_settle,
    async_setup_agreement,
    entity_id_of,
    events_named,
    manager_of,
    persistent_notice,
    state_value,
)

SHAREABLE = sorted([ENTRANCE, GYM, HALLWAY, LIBRARY])


async def _agreement(
    hass: HomeAssistant, user: MockUser, **overrides: object
) -> tuple[MockConfigEntry, Context]:
    entry = await async_setup_agreement(hass, allowed_users=[user.id], **overrides)
    return entry, Context(user_id=user.id)


async def _press(hass: HomeAssistant, entity_id: str, context: Context) -> None:
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: entity_id}, blocking=True, context=context
    )


def _expires_sensor(hass: HomeAssistant, entry: MockConfigEntry) -> datetime | None:
    """The Session expires sensor, as a time (it shows whole seconds)."""
    value = state_value(hass, entry, "session_expires")
    if value in ("unknown", "unavailable"):
        return None
    return datetime.fromisoformat(value)


def _seconds(moment: datetime) -> datetime:
    """A deadline as the timestamp sensor shows it."""
    return moment.replace(microsecond=0)


async def test_a_named_user_starts_sharing_and_the_dashboard_shows_it(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """The response, the switch and both sensors tell the same story."""
    entry, ctx = await _agreement(hass, hass_admin_user)
    assert state_value(hass, entry, "session_state") == "idle"
    assert state_value(hass, entry, "emergency_sharing") == "off"

    before = dt_util.utcnow()
    response = await async_call(
        hass,
        "activate",
        entry,
        context=ctx,
        reason="Fire alarm, building B",
        duration_minutes=30,
        incident_id="CAD-2291",
    )

    assert response is not None
    assert set(response) >= {"session_id", "started_at", "expires_at", "cameras"}
    started = datetime.fromisoformat(str(response["started_at"]))
    expires = datetime.fromisoformat(str(response["expires_at"]))
    assert before <= started <= dt_util.utcnow()
    assert expires - started == timedelta(minutes=30)
    assert response["cameras"] == SHAREABLE
    assert LOCKER_ROOM not in response["cameras"]

    assert state_value(hass, entry, "emergency_sharing") == "on"
    assert state_value(hass, entry, "session_state") == "active"
    assert _expires_sensor(hass, entry) == _seconds(expires)

    (started_record,) = events_named(entry, "session_started")
    assert started_record["actor"]["kind"] == "user"
    assert started_record["actor"]["id"] == hass_admin_user.id
    assert started_record["data"]["session_id"] == response["session_id"]
    assert started_record["data"]["reason"] == "Fire alarm, building B"
    assert started_record["data"]["incident_id"] == "CAD-2291"
    assert started_record["data"]["cameras"] == SHAREABLE


async def test_activation_with_chosen_cameras_shares_only_those(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Asking for two cameras shares two cameras."""
    entry, ctx = await _agreement(hass, hass_admin_user)
    response = await async_call(
        hass, "activate", entry, context=ctx, reason="Intruder", cameras=[GYM, ENTRANCE]
    )
    assert response is not None
    assert response["cameras"] == sorted([ENTRANCE, GYM])
    assert manager_of(entry).shared_cameras() == {GYM, ENTRANCE}


async def test_without_a_duration_the_session_lasts_the_agreement_maximum(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """The default length is the agreement's maximum."""
    entry, ctx = await _agreement(hass, hass_admin_user, max_session_minutes=45)
    response = await async_call(hass, "activate", entry, context=ctx, reason="Drill")
    assert response is not None
    started = datetime.fromisoformat(str(response["started_at"]))
    expires = datetime.fromisoformat(str(response["expires_at"]))
    assert expires - started == timedelta(minutes=45)


async def test_deactivate_ends_sharing_and_says_so(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Ending by hand: switch off, state ended, a record with the note."""
    entry, ctx = await _agreement(hass, hass_admin_user)
    await async_call(hass, "activate", entry, context=ctx, reason="Drill")

    await async_call(hass, "deactivate", entry, context=ctx, reason="All clear")
    await async_settle(hass)

    assert state_value(hass, entry, "emergency_sharing") == "off"
    assert state_value(hass, entry, "session_state") == "ended"
    assert _expires_sensor(hass, entry) is None
    assert manager_of(entry).shared_cameras() == frozenset()
    (ended,) = events_named(entry, "session_ended")
    assert ended["data"]["end_reason"] == "deactivated"
    assert ended["data"]["note"] == "All clear"
    assert ended["actor"]["id"] == hass_admin_user.id
    assert "ended" in persistent_notice(hass, entry)["title"]


async def test_the_session_ends_by_itself_at_its_deadline(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nobody has to remember to stop sharing: the deadline does it."""
    entry, ctx = await _agreement(hass, hass_admin_user)
    response = await async_call(
        hass, "activate", entry, context=ctx, reason="Fire alarm", duration_minutes=10
    )
    assert response is not None
    await async_settle(hass)
    assert "started" in persistent_notice(hass, entry)["title"]
    deadline = datetime.fromisoformat(str(response["expires_at"]))

    freezer.move_to(deadline - timedelta(seconds=1))
    async_fire_time_changed(hass)
    await async_settle(hass)
    assert state_value(hass, entry, "emergency_sharing") == "on"

    freezer.move_to(deadline + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await async_settle(hass)

    assert state_value(hass, entry, "emergency_sharing") == "off"
    assert state_value(hass, entry, "session_state") == "ended"
    (ended,) = events_named(entry, "session_ended")
    assert ended["data"]["end_reason"] == "deadline"
    assert ended["actor"]["kind"] == "system"
    assert datetime.fromisoformat(ended["data"]["ended_at"]) == deadline
    notice = persistent_notice(hass, entry)
    assert "ended" in notice["title"]
    assert "deadline" in notice["message"]


async def test_extensions_add_up_to_the_cap_and_no_further(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Three extensions use the whole cap exactly; one more minute is refused."""
    entry, ctx = await _agreement(hass, hass_admin_user, max_extension_minutes=45)
    response = await async_call(
        hass, "activate", entry, context=ctx, reason="Lockdown", duration_minutes=20
    )
    assert response is not None
    deadline = datetime.fromisoformat(str(response["expires_at"]))

    for minutes in (15, 20, 10):
        extended = await async_call(hass, "extend", entry, context=ctx, minutes=minutes)
        assert extended is not None
        deadline += timedelta(minutes=minutes)
        assert datetime.fromisoformat(str(extended["expires_at"])) == deadline
        assert _expires_sensor(hass, entry) == _seconds(deadline)
        assert state_value(hass, entry, "session_state") == "extended"

    with pytest.raises(ServiceValidationError) as caught:
        await async_call(hass, "extend", entry, context=ctx, minutes=1)
    assert caught.value.translation_key == "extension_over_cap"
    assert caught.value.translation_placeholders == {"remaining": "0"}
    assert _expires_sensor(hass, entry) == _seconds(deadline)
    records = events_named(entry, "session_extended")
    assert [r["data"]["minutes"] for r in records] == [15, 20, 10]
    assert [r["data"]["extensions"] for r in records] == [1, 2, 3]


async def test_extend_button_adds_fifteen_minutes_then_what_is_left(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """The button adds 15 minutes, then the rest of the cap, then is refused."""
    entry, ctx = await _agreement(hass, hass_admin_user, max_extension_minutes=20)
    response = await async_call(hass, "activate", entry, context=ctx, reason="Fire")
    assert response is not None
    deadline = datetime.fromisoformat(str(response["expires_at"]))
    button = entity_id_of(hass, entry, "extend_session")

    await _press(hass, button, ctx)
    assert _expires_sensor(hass, entry) == _seconds(deadline + timedelta(minutes=15))
    await _press(hass, button, ctx)
    assert _expires_sensor(hass, entry) == _seconds(deadline + timedelta(minutes=20))
    with pytest.raises(ServiceValidationError) as caught:
        await _press(hass, button, ctx)
    assert caught.value.translation_key == "extension_over_cap"

    records = events_named(entry, "session_extended")
    assert [r["data"]["minutes"] for r in records] == [15, 5]
    assert all(r["actor"]["id"] == hass_admin_user.id for r in records)


async def test_extend_button_with_no_session_is_refused(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Pressing Extend while idle explains there is nothing to extend."""
    entry, ctx = await _agreement(hass, hass_admin_user)
    with pytest.raises(ServiceValidationError) as caught:
        await _press(hass, entity_id_of(hass, entry, "extend_session"), ctx)
    assert caught.value.translation_key == "no_active_session"


async def test_revoke_all_button_revokes_standing_links_too(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """A standing link issued in advance is revoked by the button."""
    entry, ctx = await _agreement(hass, hass_admin_user)
    standing = await async_call(
        hass, "create_viewer_link", entry, context=ctx, label="Dispatch", standing=True
    )
    await async_call(hass, "activate", entry, context=ctx, reason="Intruder")
    session_link = await async_call(
        hass, "create_viewer_link", entry, context=ctx, label="Unit 12"
    )
    assert standing is not None
    assert session_link is not None
    assert standing["standing"] is True
    manager = manager_of(entry)
    now = dt_util.utcnow()
    assert manager.check_access(str(standing["link_id"]), None, now) is None

    await _press(hass, entity_id_of(hass, entry, "revoke_all_links"), ctx)

    (revoked,) = events_named(entry, "link_revoked")
    assert sorted(revoked["data"]["link_ids"]) == sorted(
        [str(standing["link_id"]), str(session_link["link_id"])]
    )
    assert sorted(revoked["data"]["labels"]) == ["Dispatch", "Unit 12"]
    assert revoked["data"]["all"] is True
    assert revoked["actor"]["id"] == hass_admin_user.id
    for link in (standing, session_link):
        assert manager.check_access(str(link["link_id"]), None, now) is not None
    # The session itself goes on.
    assert state_value(hass, entry, "emergency_sharing") == "on"


async def test_revoking_one_link_leaves_the_others_working(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """revoke_viewer_link with a link id revokes only that link."""
    entry, ctx = await _agreement(hass, hass_admin_user)
    await async_call(hass, "activate", entry, context=ctx, reason="Intruder")
    first = await async_call(hass, "create_viewer_link", entry, context=ctx, label="A")
    second = await async_call(hass, "create_viewer_link", entry, context=ctx, label="B")
    assert first is not None
    assert second is not None

    await async_call(
        hass, "revoke_viewer_link", entry, context=ctx, link_id=first["link_id"]
    )

    manager, now = manager_of(entry), dt_util.utcnow()
    assert manager.check_access(str(first["link_id"]), None, now) is not None
    assert manager.check_access(str(second["link_id"]), None, now) is None
    (revoked,) = events_named(entry, "link_revoked")
    assert revoked["data"]["labels"] == ["A"]
    assert revoked["data"]["all"] is False


async def test_session_links_stop_when_the_session_ends_standing_links_wait(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """After the end, a session link is dead; a standing link waits for the next."""
    entry, ctx = await _agreement(hass, hass_admin_user)
    standing = await async_call(
        hass, "create_viewer_link", entry, context=ctx, label="Dispatch", standing=True
    )
    await async_call(hass, "activate", entry, context=ctx, reason="Drill")
    session_link = await async_call(
        hass, "create_viewer_link", entry, context=ctx, label="Unit 7"
    )
    assert standing is not None
    assert session_link is not None
    await async_call(hass, "deactivate", entry, context=ctx)

    manager, now = manager_of(entry), dt_util.utcnow()
    assert manager.check_access(str(session_link["link_id"]), None, now) == (
        "expired_link"
    )
    assert manager.check_access(str(standing["link_id"]), None, now) == (
        "no_active_session"
    )

    await async_call(hass, "activate", entry, context=ctx, reason="Second drill")
    now = dt_util.utcnow()
    assert manager.check_access(str(standing["link_id"]), None, now) is None
    assert manager.check_access(str(session_link["link_id"]), None, now) == (
        "expired_link"
    )
