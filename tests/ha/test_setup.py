"""The integration loads, creates its device and entities, and unloads cleanly."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from custom_components.school_emergency_share.const import DOMAIN

from .common import async_setup_agreement


async def test_agreement_loads_with_one_device_and_its_entities(
    hass: HomeAssistant, cameras: object
) -> None:
    """One device per agreement with the entities PRODUCT.md lists."""
    entry = await async_setup_agreement(hass)
    assert entry.state is ConfigEntryState.LOADED

    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 1
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    keys = sorted(e.unique_id.split(":", 1)[1] for e in entities)
    assert keys == [
        "active_viewers",
        "approve_request",
        "camera:camera.gym",
        "camera:camera.hallway_b",
        "camera:camera.library",
        "camera:camera.main_entrance",
        "deny_request",
        "emergency_sharing",
        "extend_session",
        "police_request",
        "revoke_all_links",
        "session_expires",
        "session_state",
    ]
    assert all(e.device_id == devices[0].id for e in entities)

    state = hass.states.get(
        "switch.lincoln_high_school_springfield_police_department_emergency_sharing"
    )
    assert state is not None
    assert state.state == "off"
    assert state.attributes["friendly_name"].endswith("Emergency sharing")


async def test_services_are_registered(hass: HomeAssistant, cameras: object) -> None:
    """Every service of the public interface exists."""
    await async_setup_agreement(hass)
    assert set(hass.services.async_services_for_domain(DOMAIN)) == {
        "activate",
        "deactivate",
        "extend",
        "create_viewer_link",
        "revoke_viewer_link",
        "export_audit",
        "approve_request",
        "deny_request",
    }


async def test_unloading_leaves_nothing_running(
    hass: HomeAssistant, cameras: object
) -> None:
    """Unload stops the agreement; it can be loaded again."""
    entry = await async_setup_agreement(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(entry) is ConfigEntryState.NOT_LOADED
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(entry) is ConfigEntryState.LOADED


def state_of(entry: ConfigEntry[object]) -> ConfigEntryState:
    """Read the state afresh (it changes behind the type checker's back)."""
    return entry.state
