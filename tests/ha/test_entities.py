"""The dashboard: the sharing switch, the camera switches and the sensors."""

from __future__ import annotations

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

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
    state_value,
)


async def _switch(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    key: str,
    service: str,
    context: Context,
) -> None:
    await hass.services.async_call(
        "switch",
        service,
        {ATTR_ENTITY_ID: entity_id_of(hass, entry, key)},
        blocking=True,
        context=context,
    )
    await async_settle(hass)


async def test_turning_sharing_on_from_the_dashboard_is_an_activation_by_that_user(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Reason "Dashboard", the agreement's defaults, recorded against the user."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])

    await _switch(
        hass,
        entry,
        "emergency_sharing",
        "turn_on",
        Context(user_id=hass_admin_user.id),
    )

    assert state_value(hass, entry, "emergency_sharing") == "on"
    assert state_value(hass, entry, "session_state") == "active"
    (started,) = events_named(entry, "session_started")
    assert started["actor"]["kind"] == "user"
    assert started["actor"]["id"] == hass_admin_user.id
    assert started["actor"]["name"] == hass_admin_user.name
    assert started["data"]["reason"] == "Dashboard"
    assert started["data"]["cameras"] == sorted([ENTRANCE, GYM, HALLWAY, LIBRARY])


async def test_turning_sharing_off_from_the_dashboard_ends_the_session(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Off is a deactivation by that user."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])
    ctx = Context(user_id=hass_admin_user.id)
    await _switch(hass, entry, "emergency_sharing", "turn_on", ctx)

    await _switch(hass, entry, "emergency_sharing", "turn_off", ctx)

    assert state_value(hass, entry, "emergency_sharing") == "off"
    (ended,) = events_named(entry, "session_ended")
    assert ended["data"]["end_reason"] == "deactivated"
    assert ended["actor"]["id"] == hass_admin_user.id


async def test_a_user_not_named_cannot_turn_sharing_on(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """The dashboard switch obeys the agreement like the service does."""
    entry = await async_setup_agreement(hass, allowed_users=["the-principal"])

    with pytest.raises(ServiceValidationError) as caught:
        await _switch(
            hass,
            entry,
            "emergency_sharing",
            "turn_on",
            Context(user_id=hass_admin_user.id),
        )

    assert caught.value.translation_key == "user_not_permitted"
    assert state_value(hass, entry, "emergency_sharing") == "off"
    assert manager_of(entry).session is None
    assert events_named(entry, "session_started") == []
    (denied,) = events_named(entry, "access_denied")
    assert denied["actor"]["id"] == hass_admin_user.id


async def test_switching_a_camera_off_takes_it_out_of_the_session_at_once(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """A camera's switch off: no longer shared, and the change is recorded."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])
    ctx = Context(user_id=hass_admin_user.id)
    await async_call(hass, "activate", entry, context=ctx, reason="Intruder")
    manager = manager_of(entry)
    assert GYM in manager.shared_cameras()

    await _switch(hass, entry, f"camera:{GYM}", "turn_off", ctx)

    assert state_value(hass, entry, f"camera:{GYM}") == "off"
    assert manager.shared_cameras() == {ENTRANCE, HALLWAY, LIBRARY}
    (changed,) = events_named(entry, "camera_sharing_changed")
    assert changed["data"] == {"camera": GYM, "shared": False}
    assert changed["actor"]["id"] == hass_admin_user.id

    await _switch(hass, entry, f"camera:{GYM}", "turn_on", ctx)
    assert GYM in manager.shared_cameras()
    assert [
        r["data"]["shared"] for r in events_named(entry, "camera_sharing_changed")
    ] == [
        False,
        True,
    ]


async def test_a_camera_switched_off_is_left_out_of_the_next_session(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Switching a camera off while idle keeps it out of the next activation."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])
    ctx = Context(user_id=hass_admin_user.id)
    await _switch(hass, entry, f"camera:{LIBRARY}", "turn_off", ctx)

    response = await async_call(hass, "activate", entry, context=ctx, reason="Fire")

    assert response is not None
    assert response["cameras"] == sorted([ENTRANCE, GYM, HALLWAY])


async def test_a_user_not_named_cannot_switch_a_camera(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Camera switches are limited to the named users too."""
    entry = await async_setup_agreement(hass, allowed_users=["the-principal"])

    with pytest.raises(ServiceValidationError):
        await _switch(
            hass,
            entry,
            f"camera:{GYM}",
            "turn_off",
            Context(user_id=hass_admin_user.id),
        )

    assert state_value(hass, entry, f"camera:{GYM}") == "on"
    assert events_named(entry, "camera_sharing_changed") == []


async def test_there_is_no_switch_for_a_private_camera(
    hass: HomeAssistant, cameras: object
) -> None:
    """A private camera can never be shared, so nothing offers to share it."""
    entry = await async_setup_agreement(hass)
    keys = {
        item.unique_id.split(":", 1)[1]
        for item in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
    }
    assert f"camera:{LOCKER_ROOM}" not in keys
    state = hass.states.get(entity_id_of(hass, entry, f"camera:{GYM}"))
    assert state is not None
    assert state.attributes["friendly_name"].endswith("Share Gym")
    assert state.attributes["camera"] == GYM


async def test_camera_switches_follow_the_agreement_when_it_changes(
    hass: HomeAssistant, cameras: object
) -> None:
    """A camera removed from the agreement loses its switch; one added gains one."""
    entry = await async_setup_agreement(hass, cameras=[ENTRANCE, GYM, LIBRARY])
    hass.config_entries.async_update_entry(
        entry,
        options={**entry.options, "cameras": [ENTRANCE, GYM, HALLWAY]},
    )
    await async_settle(hass)

    registry = er.async_get(hass)
    keys = {
        item.unique_id.split(":", 1)[1]
        for item in er.async_entries_for_config_entry(registry, entry.entry_id)
        if item.unique_id.split(":", 1)[1].startswith("camera:")
    }
    assert keys == {f"camera:{ENTRANCE}", f"camera:{GYM}", f"camera:{HALLWAY}"}
    assert state_value(hass, entry, f"camera:{HALLWAY}") == "on"


async def test_the_state_sensor_names_every_stage(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """idle, active, extended, ended."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])
    ctx = Context(user_id=hass_admin_user.id)
    seen = [state_value(hass, entry, "session_state")]
    await async_call(hass, "activate", entry, context=ctx, reason="Drill")
    seen.append(state_value(hass, entry, "session_state"))
    await async_call(hass, "extend", entry, context=ctx, minutes=5)
    seen.append(state_value(hass, entry, "session_state"))
    await async_call(hass, "deactivate", entry, context=ctx)
    seen.append(state_value(hass, entry, "session_state"))
    assert seen == ["idle", "active", "extended", "ended"]
    assert state_value(hass, entry, "active_viewers") == "0"
