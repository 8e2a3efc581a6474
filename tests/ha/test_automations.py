"""Who may act: named people, and automations or scripts no unnamed person caused.

Every path a Home Assistant user, integration or voice assistant could take
around the agreement: a trigger toggled by hand, `automation.trigger`, a
script run from a dashboard, a chain of automations, a call with nobody
behind it. Each is recorded with the whole chain, and refused unless the
person behind it is one the agreement names.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
    async_should_expose,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .common import (
    OPERATOR_ID,
    TEACHER_ID,
    async_settle,
    async_setup_agreement,
    entity_id_of,
    events_named,
    state_value,
)


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


async def test_a_named_person_who_sets_off_the_automation_is_recorded_with_it(
    hass: HomeAssistant, cameras: object
) -> None:
    """Toggling the alarm by hand: the automation acts, and the person is named."""
    entry = await async_setup_agreement(hass)
    await _fire_alarm_automation(hass, entry, {"reason": "Fire alarm"})

    await _trip(hass, Context(user_id=OPERATOR_ID))

    assert state_value(hass, entry, "emergency_sharing") == "on"
    (started,) = events_named(entry, "session_started")
    assert started["actor"]["kind"] == "automation"
    assert started["actor"]["id"] == "automation.fire_alarm"
    assert started["actor"]["person"] == {"id": OPERATOR_ID, "name": "School operator"}


async def test_a_person_the_agreement_does_not_name_cannot_act_through_an_automation(
    hass: HomeAssistant, cameras: object
) -> None:
    """A teacher toggling the alarm's input does not start sharing; it is recorded."""
    entry = await async_setup_agreement(hass)
    await _fire_alarm_automation(hass, entry, {"reason": "Fire alarm"})

    await _trip(hass, Context(user_id=TEACHER_ID))

    assert state_value(hass, entry, "emergency_sharing") == "off"
    (denied,) = events_named(entry, "access_denied")
    assert denied["data"]["why"] == "user_not_permitted"
    assert denied["actor"]["kind"] == "automation"
    assert denied["actor"]["person"]["id"] == TEACHER_ID


@pytest.mark.parametrize(("named", "shared"), [(True, "on"), (False, "off")])
async def test_automation_trigger_acts_only_for_a_person_the_agreement_names(
    hass: HomeAssistant,
    cameras: object,
    named: bool,
    shared: str,
) -> None:
    """`automation.trigger` (the UI's Run) carries its caller into the record."""
    caller = OPERATOR_ID if named else TEACHER_ID
    entry = await async_setup_agreement(hass)
    await _fire_alarm_automation(hass, entry, {"reason": "Fire alarm"})

    await hass.services.async_call(
        "automation",
        "trigger",
        {ATTR_ENTITY_ID: "automation.fire_alarm"},
        blocking=True,
        context=Context(user_id=caller),
    )
    await async_settle(hass)

    assert state_value(hass, entry, "emergency_sharing") == shared
    (record,) = events_named(entry, "session_started" if named else "access_denied")
    assert record["actor"]["kind"] == "automation"
    assert record["actor"]["person"]["id"] == caller


async def test_a_person_behind_an_automation_that_triggers_another_is_found(
    hass: HomeAssistant, cameras: object
) -> None:
    """A chain of runs does not hide who started it: a relay is refused too."""
    entry = await async_setup_agreement(hass)
    assert await async_setup_component(
        hass, "input_button", {"input_button": {"drill": {"name": "Drill"}}}
    )
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "alias": "Relay",
                    "triggers": [
                        {"trigger": "state", "entity_id": "input_button.drill"}
                    ],
                    "actions": [
                        {
                            "action": "automation.trigger",
                            "target": {"entity_id": "automation.fire_alarm"},
                        }
                    ],
                },
                {
                    "alias": "Fire alarm",
                    "triggers": [],
                    "actions": [
                        {
                            "action": "school_emergency_share.activate",
                            "data": {
                                "config_entry_id": entry.entry_id,
                                "reason": "Fire alarm",
                            },
                        }
                    ],
                },
            ]
        },
    )
    await hass.async_block_till_done()

    await hass.services.async_call(
        "input_button",
        "press",
        {ATTR_ENTITY_ID: "input_button.drill"},
        blocking=True,
        context=Context(user_id=TEACHER_ID),
    )
    await async_settle(hass)

    assert state_value(hass, entry, "emergency_sharing") == "off"
    (denied,) = events_named(entry, "access_denied")
    assert denied["actor"]["id"] == "automation.fire_alarm"
    assert denied["actor"]["person"]["id"] == TEACHER_ID


async def test_a_call_with_no_person_and_no_run_behind_it_is_refused(
    hass: HomeAssistant, cameras: object
) -> None:
    """A voice satellite, HomeKit or another integration: nobody to hold to the MOU."""
    entry = await async_setup_agreement(hass)
    switch = entity_id_of(hass, entry, "emergency_sharing")

    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            "switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True
        )

    assert refused.value.translation_key == "unattributable"
    assert state_value(hass, entry, "emergency_sharing") == "off"
    (denied,) = events_named(entry, "access_denied")
    assert denied["data"]["why"] == "unattributable"
    assert denied["actor"]["kind"] == "unattributed"


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


@pytest.mark.parametrize("service", ["lockdown", "turn_on"])
@pytest.mark.parametrize(("named", "shared"), [(True, "on"), (False, "off")])
async def test_a_script_run_by_a_person_acts_only_for_a_person_the_agreement_names(
    hass: HomeAssistant,
    cameras: object,
    service: str,
    named: bool,
    shared: str,
) -> None:
    """`script.lockdown` or `script.turn_on` from a dashboard: script and person."""
    caller = OPERATOR_ID if named else TEACHER_ID
    entry = await async_setup_agreement(hass)
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
                            # A refusal is the script's business: `turn_on`
                            # runs it where nobody hears an error.
                            "continue_on_error": True,
                        }
                    ]
                }
            }
        },
    )

    await hass.services.async_call(
        "script",
        service,
        {ATTR_ENTITY_ID: "script.lockdown"} if service == "turn_on" else {},
        blocking=True,
        context=Context(user_id=caller),
    )
    await async_settle(hass)

    assert state_value(hass, entry, "emergency_sharing") == shared
    (record,) = events_named(entry, "session_started" if named else "access_denied")
    assert record["actor"]["kind"] == "script"
    assert record["actor"]["id"] == "script.lockdown"
    assert record["actor"]["person"]["id"] == caller


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


async def test_the_agreements_entities_are_not_exposed_to_voice_assistants(
    hass: HomeAssistant, cameras: object
) -> None:
    """A switch is exposed to Assist by default; the agreement's are not."""
    assert await async_setup_component(hass, "homeassistant", {})
    entry = await async_setup_agreement(hass)

    for key in ("emergency_sharing", "extend_session", "revoke_all_links"):
        entity_id = entity_id_of(hass, entry, key)
        for assistant in ("conversation", "cloud.alexa", "cloud.google_assistant"):
            assert not async_should_expose(hass, assistant, entity_id), entity_id


async def test_an_administrators_choice_to_expose_is_kept(
    hass: HomeAssistant, cameras: object
) -> None:
    """Exposing is the district's decision; a restart does not undo it."""
    assert await async_setup_component(hass, "homeassistant", {})
    entry = await async_setup_agreement(hass)
    switch = entity_id_of(hass, entry, "emergency_sharing")
    async_expose_entity(hass, "conversation", switch, should_expose=True)

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    assert async_should_expose(hass, "conversation", switch)
