"""fire_alarm_activate.yaml: a fire alarm turning on starts sharing."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.ha.common import (
    ENTRANCE,
    GYM,
    HALLWAY,
    LIBRARY,
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

FIRE = "fire_alarm_activate.yaml"
SHAREABLE = frozenset({ENTRANCE, GYM, HALLWAY, LIBRARY})


async def _fire_alarm(
    hass: HomeAssistant, alarms: list[str], **inputs: object
) -> MockConfigEntry:
    entry = await async_setup_agreement_with_blueprints(hass)
    await async_use_blueprints(
        hass,
        (
            "Fire alarm starts sharing",
            FIRE,
            {"agreement": entry.entry_id, "alarms": alarms, **inputs},
        ),
    )
    return entry


async def test_a_fire_alarm_starts_sharing_with_a_reason_naming_it(
    hass: HomeAssistant, cameras: object
) -> None:
    """Every shareable camera, the alarm's name, the incident and the duration."""
    alarm = add_sensor(hass, "smoke_building_b", "Building B smoke detector")
    entry = await _fire_alarm(
        hass, [alarm], duration_minutes=20, incident_id=" CAD-2291 "
    )
    assert state_value(hass, entry, "emergency_sharing") == "off"

    before = dt_util.utcnow()
    hass.states.async_set(alarm, "on", {"friendly_name": "Building B smoke detector"})
    await async_settle(hass)

    session = manager_of(entry).session
    assert session is not None
    assert state_value(hass, entry, "emergency_sharing") == "on"
    assert session.reason == "Fire alarm: Building B smoke detector"
    assert session.incident_id == "CAD-2291"
    assert session.cameras == SHAREABLE
    assert before + timedelta(minutes=20) <= session.expires_at
    assert session.expires_at <= dt_util.utcnow() + timedelta(minutes=20)
    # The audit log names the automation and the alarm behind it.
    (started,) = events_named(entry, "session_started")
    assert started["actor"] == {
        "kind": "automation",
        "id": "automation.fire_alarm_starts_sharing",
        "name": "Fire alarm starts sharing",
        "trigger": f"state of {alarm}",
        # A smoke detector, not a person, set it off.
        "person": None,
    }


async def test_without_a_duration_the_agreement_maximum_applies(
    hass: HomeAssistant, cameras: object
) -> None:
    """Duration 0 (the default) leaves the length to the agreement: 60 minutes."""
    alarm = add_sensor(hass, "heat_kitchen", "Kitchen heat detector")
    entry = await _fire_alarm(hass, [alarm])
    hass.states.async_set(alarm, "on", {"friendly_name": "Kitchen heat detector"})
    await async_settle(hass)

    session = manager_of(entry).session
    assert session is not None
    assert session.expires_at - session.started_at == timedelta(minutes=60)
    assert session.incident_id is None


async def test_an_input_boolean_fire_panel_output_works_too(
    hass: HomeAssistant, cameras: object
) -> None:
    """The alarm may be a helper toggled by a fire panel integration."""
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"fire_panel": {"name": "Fire panel"}}}
    )
    entry = await _fire_alarm(hass, ["input_boolean.fire_panel"])
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": "input_boolean.fire_panel"}
    )
    await async_settle(hass)

    session = manager_of(entry).session
    assert session is not None
    assert session.reason == "Fire alarm: Fire panel"


async def test_a_second_alarm_during_a_session_changes_nothing(
    hass: HomeAssistant, cameras: object
) -> None:
    """Two detectors at once: one session, no refusal in the audit log."""
    first = add_sensor(hass, "smoke_a", "Smoke A")
    second = add_sensor(hass, "smoke_b", "Smoke B")
    entry = await _fire_alarm(hass, [first, second])

    hass.states.async_set(first, "on", {"friendly_name": "Smoke A"})
    hass.states.async_set(second, "on", {"friendly_name": "Smoke B"})
    await async_settle(hass)

    assert len(events_named(entry, "session_started")) == 1
    assert events_named(entry, "access_denied") == []
    session = manager_of(entry).session
    assert session is not None
    assert session.reason == "Fire alarm: Smoke A"


async def test_an_alarm_that_stays_off_starts_nothing(
    hass: HomeAssistant, cameras: object
) -> None:
    """Attribute changes and other states are not a fire alarm."""
    alarm = add_sensor(hass, "smoke_c", "Smoke C")
    entry = await _fire_alarm(hass, [alarm])
    hass.states.async_set(alarm, "off", {"friendly_name": "Smoke C", "battery": 80})
    hass.states.async_set(alarm, "unavailable", {"friendly_name": "Smoke C"})
    await async_settle(hass)

    assert manager_of(entry).session is None
    assert state_value(hass, entry, "emergency_sharing") == "off"
