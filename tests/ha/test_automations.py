"""Automations and scripts may activate, and are recorded with what ran them."""

from __future__ import annotations

from typing import Any

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Context, HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from .common import async_settle, async_setup_agreement, events_named, state_value


async def _fire_alarm_automation(
    hass: HomeAssistant, entry: MockConfigEntry, action_data: dict[str, Any]
) -> None:
    """A fire alarm input and the automation that starts sharing when it trips."""
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"fire_alarm": {"name": "Fire alarm"}}}
    )
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "Fire alarm",
                "triggers": [
                    {
                        "trigger": "state",
                        "entity_id": "input_boolean.fire_alarm",
                        "to": "on",
                    }
                ],
                "actions": [
                    {
                        "action": "school_emergency_share.activate",
                        "data": {"config_entry_id": entry.entry_id, **action_data},
                    }
                ],
            }
        },
    )
    await hass.async_block_till_done()


async def _trip(hass: HomeAssistant, context: Context | None = None) -> None:
    await hass.services.async_call(
        "input_boolean",
        "turn_on",
        {ATTR_ENTITY_ID: "input_boolean.fire_alarm"},
        blocking=True,
        context=context,
    )
    await async_settle(hass)


async def test_an_automation_activation_names_the_automation_and_its_trigger(
    hass: HomeAssistant, cameras: object
) -> None:
    """The record says which automation acted and what set it off."""
    entry = await async_setup_agreement(hass)
    await _fire_alarm_automation(
        hass, entry, {"reason": "Fire alarm", "incident_id": "FA-1"}
    )

    await _trip(hass)

    assert state_value(hass, entry, "emergency_sharing") == "on"
    (started,) = events_named(entry, "session_started")
    actor = started["actor"]
    assert actor["kind"] == "automation"
    assert actor["id"] == "automation.fire_alarm"
    assert actor["name"] == "Fire alarm"
    assert "input_boolean.fire_alarm" in actor["trigger"]
    assert started["data"]["reason"] == "Fire alarm"
    assert started["data"]["incident_id"] == "FA-1"


async def test_an_automation_set_off_by_a_person_is_still_the_automation(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """A user pressing the alarm does not make the automation act as that user."""
    entry = await async_setup_agreement(hass, allowed_users=[])
    await _fire_alarm_automation(hass, entry, {"reason": "Fire alarm"})

    await _trip(hass, Context(user_id=hass_admin_user.id))

    assert state_value(hass, entry, "emergency_sharing") == "on"
    (started,) = events_named(entry, "session_started")
    assert started["actor"]["kind"] == "automation"
    assert started["actor"]["id"] == "automation.fire_alarm"


async def test_an_automation_refused_by_the_rules_is_recorded(
    hass: HomeAssistant, cameras: object
) -> None:
    """An automation asking for too long is refused, and the refusal names it."""
    entry = await async_setup_agreement(hass)
    await _fire_alarm_automation(
        hass, entry, {"reason": "Fire alarm", "duration_minutes": 600}
    )

    await _trip(hass)

    assert state_value(hass, entry, "emergency_sharing") == "off"
    (denied,) = events_named(entry, "access_denied")
    assert denied["data"]["why"] == "duration_too_long"
    assert denied["actor"]["kind"] == "automation"
    assert denied["actor"]["id"] == "automation.fire_alarm"


async def test_a_script_activation_names_the_script(
    hass: HomeAssistant, cameras: object
) -> None:
    """A script run by Home Assistant itself is recorded as that script."""
    entry = await async_setup_agreement(hass)
    assert await async_setup_component(
        hass,
        "script",
        {
            "script": {
                "lockdown": {
                    "alias": "Lockdown",
                    "sequence": [
                        {
                            "action": "school_emergency_share.activate",
                            "data": {
                                "config_entry_id": entry.entry_id,
                                "reason": "Lockdown",
                            },
                        }
                    ],
                }
            }
        },
    )

    await hass.services.async_call("script", "lockdown", blocking=True)
    await async_settle(hass)

    (started,) = events_named(entry, "session_started")
    assert started["actor"]["kind"] == "script"
    assert started["actor"]["id"] == "script.lockdown"


async def test_a_script_run_by_a_person_is_that_persons_request(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """A script started from a dashboard acts for the user, and obeys the MOU."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])
    assert await async_setup_component(
        hass,
        "script",
        {
            "script": {
                "lockdown": {
                    "sequence": [
                        {
                            "action": "school_emergency_share.activate",
                            "data": {
                                "config_entry_id": entry.entry_id,
                                "reason": "Lockdown",
                            },
                        }
                    ]
                }
            }
        },
    )

    await hass.services.async_call(
        "script",
        "lockdown",
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await async_settle(hass)

    (started,) = events_named(entry, "session_started")
    assert started["actor"]["kind"] == "user"
    assert started["actor"]["id"] == hass_admin_user.id


async def test_an_automation_that_runs_a_script_is_recorded_with_its_trigger(
    hass: HomeAssistant, cameras: object
) -> None:
    """A blueprint-style automation calling a script keeps what set it off."""
    entry = await async_setup_agreement(hass)
    assert await async_setup_component(
        hass,
        "script",
        {
            "script": {
                "start_sharing": {
                    "sequence": [
                        {
                            "action": "school_emergency_share.activate",
                            "data": {
                                "config_entry_id": entry.entry_id,
                                "reason": "Fire alarm",
                            },
                        }
                    ]
                }
            }
        },
    )
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"fire_alarm": {"name": "Fire alarm"}}}
    )
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "Fire alarm",
                "triggers": [
                    {
                        "trigger": "state",
                        "entity_id": "input_boolean.fire_alarm",
                        "to": "on",
                    }
                ],
                "actions": [{"action": "script.start_sharing"}],
            }
        },
    )
    await hass.async_block_till_done()

    await _trip(hass)

    (started,) = events_named(entry, "session_started")
    assert started["actor"]["kind"] == "automation"
    assert started["actor"]["id"] == "automation.fire_alarm"
    assert "input_boolean.fire_alarm" in started["actor"]["trigger"]
