"""all_clear_deactivate.yaml: every sensor off for N minutes ends sharing."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from tests.ha.common import (
    OPERATOR_ID,
    async_settle,
    events_named,
    manager_of,
    state_value,
)

from .common import (
    add_sensor,
    async_setup_agreement_with_blueprints,
    async_use_blueprints,
)


async def _fire_and_all_clear(
    hass: HomeAssistant, sensors: list[str], minutes: int
) -> MockConfigEntry:
    """An alarm starts sharing; the all-clear automation watches `sensors`."""
    entry = await async_setup_agreement_with_blueprints(hass)
    await async_use_blueprints(
        hass,
        (
            "Fire alarm starts sharing",
            "fire_alarm_activate.yaml",
            {"agreement": entry.entry_id, "alarms": sensors},
        ),
        (
            "All clear ends sharing",
            "all_clear_deactivate.yaml",
            {"agreement": entry.entry_id, "sensors": sensors, "minutes": minutes},
        ),
    )
    return entry


async def _wait(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: float
) -> None:
    freezer.tick(timedelta(minutes=minutes))
    async_fire_time_changed(hass)
    await async_settle(hass)


async def _set(hass: HomeAssistant, entity_id: str, state: str) -> None:
    """Change a sensor and let its listeners start their timers at this moment."""
    old = hass.states.get(entity_id)
    assert old is not None
    hass.states.async_set(entity_id, state, old.attributes)
    await async_settle(hass)


async def test_sharing_ends_once_the_alarm_has_been_off_long_enough(
    hass: HomeAssistant, cameras: object, freezer: FrozenDateTimeFactory
) -> None:
    """Off for 9 minutes is not all clear; 10 is, and the reason says so."""
    alarm = add_sensor(hass, "smoke_b", "Building B smoke detector")
    entry = await _fire_and_all_clear(hass, [alarm], minutes=10)
    await _set(hass, alarm, "on")
    assert state_value(hass, entry, "emergency_sharing") == "on"

    await _set(hass, alarm, "off")
    await _wait(hass, freezer, 9)
    assert state_value(hass, entry, "emergency_sharing") == "on"

    await _wait(hass, freezer, 1.1)
    assert state_value(hass, entry, "emergency_sharing") == "off"
    session = manager_of(entry).session
    assert session is not None
    assert session.end_reason is not None
    assert session.end_reason.value == "deactivated"
    (ended,) = events_named(entry, "session_ended")
    assert ended["data"]["note"] == "All clear"
    assert ended["actor"]["name"] == "All clear ends sharing"


async def test_an_alarm_coming_back_restarts_the_wait(
    hass: HomeAssistant, cameras: object, freezer: FrozenDateTimeFactory
) -> None:
    """Off, on again, off: the minutes count from the last time it went off."""
    alarm = add_sensor(hass, "panic_office", "Office panic button")
    entry = await _fire_and_all_clear(hass, [alarm], minutes=5)
    await _set(hass, alarm, "on")

    await _set(hass, alarm, "off")
    await _wait(hass, freezer, 4)
    await _set(hass, alarm, "on")
    await _wait(hass, freezer, 0.5)
    await _set(hass, alarm, "off")
    await _wait(hass, freezer, 4)
    assert state_value(hass, entry, "emergency_sharing") == "on"

    await _wait(hass, freezer, 1.1)
    assert state_value(hass, entry, "emergency_sharing") == "off"


async def test_every_sensor_must_be_off(
    hass: HomeAssistant, cameras: object, freezer: FrozenDateTimeFactory
) -> None:
    """One detector still on keeps sharing, however long the others are quiet."""
    first = add_sensor(hass, "smoke_a", "Smoke A")
    second = add_sensor(hass, "smoke_b", "Smoke B")
    entry = await _fire_and_all_clear(hass, [first, second], minutes=10)
    await _set(hass, first, "on")
    await _set(hass, second, "on")

    await _set(hass, first, "off")
    await _wait(hass, freezer, 30)
    assert state_value(hass, entry, "emergency_sharing") == "on"

    await _set(hass, second, "off")
    await _wait(hass, freezer, 5)
    assert state_value(hass, entry, "emergency_sharing") == "on"
    await _wait(hass, freezer, 5.1)
    assert state_value(hass, entry, "emergency_sharing") == "off"
    assert len(events_named(entry, "session_ended")) == 1


async def test_all_clear_without_a_session_does_nothing(
    hass: HomeAssistant, cameras: object, freezer: FrozenDateTimeFactory
) -> None:
    """The session ended already: no deactivate call, so no refusal recorded."""
    alarm = add_sensor(hass, "smoke_d", "Smoke D")
    entry = await _fire_and_all_clear(hass, [alarm], minutes=10)
    await _set(hass, alarm, "on")
    await hass.services.async_call(
        "school_emergency_share",
        "deactivate",
        {"config_entry_id": entry.entry_id, "reason": "Drill over"},
        blocking=True,
        context=Context(user_id=OPERATOR_ID),
    )

    await _set(hass, alarm, "off")
    await _wait(hass, freezer, 11)

    (ended,) = events_named(entry, "session_ended")
    assert ended["data"]["note"] == "Drill over"
    assert events_named(entry, "access_denied") == []
