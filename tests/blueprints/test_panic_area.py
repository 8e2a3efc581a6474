"""panic_activate_area.yaml: a panic button shares the cameras of its area."""

from __future__ import annotations

from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.ha.common import (
    ENTRANCE,
    GYM,
    HALLWAY,
    LIBRARY,
    async_settle,
    events_named,
    manager_of,
)

from .common import (
    add_sensor,
    async_setup_agreement_with_blueprints,
    async_use_blueprints,
)

PANIC = "panic_activate_area.yaml"
SHAREABLE = frozenset({ENTRANCE, GYM, HALLWAY, LIBRARY})


async def _panic(
    hass: HomeAssistant, sensors: list[str], **inputs: object
) -> MockConfigEntry:
    assert await async_setup_component(hass, "persistent_notification", {})
    entry = await async_setup_agreement_with_blueprints(hass)
    await async_use_blueprints(
        hass,
        (
            "Panic shares the area",
            PANIC,
            {"agreement": entry.entry_id, "sensors": sensors, **inputs},
        ),
    )
    return entry


async def _press(hass: HomeAssistant, sensor: str) -> None:
    state = hass.states.get(sensor)
    assert state is not None
    hass.states.async_set(sensor, "on", state.attributes)
    await async_settle(hass)


def _notice(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    notices = persistent_notification._async_get_or_create_notifications(hass)
    notice = notices.get(f"school_emergency_share_panic_{entry.entry_id}")
    return dict(notice) if notice is not None else {}


async def test_a_panic_button_in_the_gym_shares_only_the_gyms_cameras(
    hass: HomeAssistant, cameras: object
) -> None:
    """The area comes from the sensor; the reason names it."""
    button = add_sensor(hass, "gym_panic", "Gym panic button", area="Gymnasium")
    entry = await _panic(hass, [button])

    await _press(hass, button)

    session = manager_of(entry).session
    assert session is not None
    assert session.cameras == {GYM}
    assert manager_of(entry).shared_cameras() == {GYM}
    assert session.reason == "Panic alarm: Gym panic button"
    assert _notice(hass, entry) == {}


async def test_the_area_can_come_from_the_sensors_device(
    hass: HomeAssistant, cameras: object
) -> None:
    """A sensor without its own area inherits its device's."""
    panel = MockConfigEntry(domain="test")
    panel.add_to_hass(hass)
    library = ar.async_get(hass).async_get_area_by_name("Library")
    assert library is not None
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=panel.entry_id, identifiers={("test", "intrusion-panel")}
    )
    dr.async_get(hass).async_update_device(device.id, area_id=library.id)
    sensor = er.async_get(hass).async_get_or_create(
        "binary_sensor",
        "test",
        "library-door",
        suggested_object_id="library_door",
        device_id=device.id,
    )
    hass.states.async_set(sensor.entity_id, "off", {"friendly_name": "Library door"})
    entry = await _panic(hass, [sensor.entity_id], reason_prefix="Intrusion")

    await _press(hass, sensor.entity_id)

    session = manager_of(entry).session
    assert session is not None
    assert session.cameras == {LIBRARY}
    assert session.reason == "Intrusion: Library door"


async def test_a_chosen_area_wins_over_the_sensors(
    hass: HomeAssistant, cameras: object
) -> None:
    """The Area input shares that area whatever sensor fired."""
    hallway = ar.async_get(hass).async_get_area_by_name("Hallway B")
    assert hallway is not None
    button = add_sensor(hass, "office_panic", "Office panic button", area="Gymnasium")
    entry = await _panic(hass, [button], area=hallway.id)

    await _press(hass, button)

    session = manager_of(entry).session
    assert session is not None
    assert session.cameras == {HALLWAY}


async def test_an_area_with_only_private_cameras_falls_back_to_all_and_says_so(
    hass: HomeAssistant, cameras: object
) -> None:
    """The locker room camera is never asked for; every covered camera is shared."""
    button = add_sensor(
        hass, "locker_panic", "Locker room panic button", area="Locker rooms"
    )
    entry = await _panic(hass, [button])

    await _press(hass, button)

    session = manager_of(entry).session
    assert session is not None
    assert session.cameras == SHAREABLE
    assert events_named(entry, "access_denied") == []
    notice = _notice(hass, entry)
    assert (
        notice["title"] == "Emergency sharing: no camera for Locker room panic button"
    )
    assert notice["message"] == (
        "Locker room panic button turned on in Locker rooms, which has no camera "
        "the agreement covers. Sharing every camera the agreement covers instead."
    )


async def test_with_refuse_a_sensor_without_area_shares_nothing_and_says_so(
    hass: HomeAssistant, cameras: object
) -> None:
    """No guess: nothing is activated and the administrators are told."""
    button = add_sensor(hass, "loose_panic", "Portable panic button")
    entry = await _panic(hass, [button], no_area_cameras="refuse")

    await _press(hass, button)

    assert manager_of(entry).session is None
    assert events_named(entry, "session_started") == []
    assert _notice(hass, entry)["message"] == (
        "Portable panic button turned on, but it has no area, so its cameras are "
        "unknown. Nothing was shared: start sharing from the dashboard if needed."
    )


async def test_a_camera_outside_the_agreement_is_never_asked_for(
    hass: HomeAssistant, cameras: object
) -> None:
    """The parking lot camera in the gym's area does not make activation fail."""
    gym = ar.async_get(hass).async_get_area_by_name("Gymnasium")
    assert gym is not None
    er.async_get(hass).async_update_entity("camera.parking_lot", area_id=gym.id)
    button = add_sensor(hass, "gym_panic", "Gym panic button", area="Gymnasium")
    entry = await _panic(hass, [button])

    await _press(hass, button)

    session = manager_of(entry).session
    assert session is not None
    assert session.cameras == {GYM}
    assert events_named(entry, "access_denied") == []
