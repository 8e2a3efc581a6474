"""Building blocks for running the shipped blueprints as a user would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import area_registry as ar, entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.school_emergency_share.const import DOMAIN
from tests.ha.common import async_settle, async_setup_agreement

REPO = Path(__file__).resolve().parents[2]
REPO_BLUEPRINTS = REPO / "blueprints" / "automation" / DOMAIN
SHIPPED_BLUEPRINTS = REPO / "custom_components" / DOMAIN / "blueprints"
BLUEPRINTS = (
    "fire_alarm_activate.yaml",
    "panic_activate_area.yaml",
    "all_clear_deactivate.yaml",
    "notify_admins_actionable.yaml",
    "police_request_actionable.yaml",
)


def installed_folder(hass: HomeAssistant) -> Path:
    """Where the integration puts its blueprints in the user's config."""
    return Path(hass.config.path("blueprints", "automation", DOMAIN))


async def async_setup_agreement_with_blueprints(
    hass: HomeAssistant, **overrides: Any
) -> MockConfigEntry:
    """Load the demo agreement and wait for it to install its blueprints."""
    entry = await async_setup_agreement(hass, **overrides)
    await async_settle(hass)
    return entry


async def async_use_blueprints(
    hass: HomeAssistant, *automations: tuple[str, str, dict[str, Any]]
) -> None:
    """Create automations from installed blueprints: (alias, file, inputs) each.

    The path is relative to `<config>/blueprints/automation/`, exactly as the
    automation editor saves it.
    """
    config = [
        {
            "alias": alias,
            "use_blueprint": {"path": f"{DOMAIN}/{name}", "input": inputs},
        }
        for alias, name, inputs in automations
    ]
    assert await async_setup_component(hass, "automation", {"automation": config})
    await hass.async_block_till_done()
    for alias, _, _ in automations:
        state = automation_state(hass, alias)
        assert state.state == "on", f"automation {alias!r} did not load: {state}"


def automation_state(hass: HomeAssistant, alias: str) -> State:
    """The automation entity created for `alias`."""
    for state in hass.states.async_all("automation"):
        if state.attributes.get("friendly_name") == alias:
            return state
    msg = f"no automation {alias!r}"
    raise AssertionError(msg)


def add_sensor(
    hass: HomeAssistant,
    object_id: str,
    name: str,
    *,
    area: str | None = None,
    domain: str = "binary_sensor",
    state: str = "off",
) -> str:
    """A sensor in the entity registry (so it can have an area), in `state`."""
    entities = er.async_get(hass)
    entry = entities.async_get_or_create(
        domain, "test", object_id, suggested_object_id=object_id, original_name=name
    )
    if area is not None:
        areas = ar.async_get(hass)
        found = areas.async_get_area_by_name(area) or areas.async_create(area)
        entities.async_update_entity(entry.entity_id, area_id=found.id)
    hass.states.async_set(entry.entity_id, state, {"friendly_name": name})
    return entry.entity_id
