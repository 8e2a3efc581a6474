"""School Emergency Share: share school cameras with police only during an emergency.

One config entry is one agreement (MOU) between a school or district and a
police agency. The rules live in `core`; this package is the Home Assistant
shell around them.
"""

from __future__ import annotations

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util

from .blueprints import async_install_blueprints
from .const import DOMAIN, signal_agreement_changed
from .core.actor import Actor
from .core.agreement import Agreement
from .data import DATA_DOMAIN, DomainData, ShareConfigEntry
from .issues import async_check_cameras_exist, async_delete_entry_issues
from .manager import AgreementManager
from .services import async_register_services
from .storage import StateStore
from .web import async_register_views

PLATFORMS = [Platform.BUTTON, Platform.SENSOR, Platform.SWITCH]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register what every agreement shares: services, views, context memory."""
    data = hass.data[DATA_DOMAIN] = DomainData()
    data.contexts.async_start(hass)
    async_register_services(hass)
    await async_register_views(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ShareConfigEntry) -> bool:
    """Start one agreement."""
    try:
        manager = AgreementManager(hass, entry)
    except ValueError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="agreement_invalid",
            translation_placeholders={"error": str(err)},
        ) from err
    try:
        await manager.async_start()
    except Exception as err:
        # Nothing may keep running for an agreement that did not start.
        await manager.async_shutdown()
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="agreement_invalid",
            translation_placeholders={"error": str(err)},
        ) from err
    entry.runtime_data = manager
    data = hass.data[DATA_DOMAIN]
    data.managers[entry.entry_id] = manager
    data.refresh_failure_limit()

    async def _stop(_: Event) -> None:
        await manager.async_shutdown()

    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _stop))
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))

    @callback
    def _check_cameras(_: object = None) -> None:
        async_check_cameras_exist(hass, entry, manager.agreement)

    entry.async_on_unload(async_at_started(hass, _check_cameras))

    @callback
    def _camera_removed(event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        if event.data["action"] == "remove" and event.data["entity_id"] in (
            manager.agreement.cameras | manager.agreement.private_cameras
        ):
            _check_cameras()

    entry.async_on_unload(
        hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, _camera_removed)
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    hass.async_create_background_task(
        async_install_blueprints(hass), f"{DOMAIN} install blueprints"
    )
    return True


async def _async_entry_updated(hass: HomeAssistant, entry: ShareConfigEntry) -> None:
    """The one owner of every change to an agreement (options or reconfigure).

    Applied to the running agreement without a reload, which would end its
    session: the rules, the device's name, the camera switches.
    """
    manager = entry.runtime_data
    agreement = Agreement.from_options(entry.options, dt_util.get_default_time_zone())
    await manager.async_apply_agreement(Actor.system("Settings"), agreement)
    devices = dr.async_get(hass)
    # The agreement's own device, found without async_get_device (deprecated
    # in 2026.10, its replacements missing from 2025.4). A name the user gave
    # the device stays (name_by_user).
    for device in dr.async_entries_for_config_entry(devices, entry.entry_id):
        if (DOMAIN, entry.entry_id) in device.identifiers:
            devices.async_update_device(
                device.id, name=entry.title, model=f"Agreement with {agreement.agency}"
            )
    async_dispatcher_send(hass, signal_agreement_changed(entry.entry_id))
    hass.data[DATA_DOMAIN].refresh_failure_limit()
    async_check_cameras_exist(hass, entry, agreement)


async def async_unload_entry(hass: HomeAssistant, entry: ShareConfigEntry) -> bool:
    """Unloading ends the session and closes every viewer."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        manager: AgreementManager = entry.runtime_data
        await manager.async_unload()
        data = hass.data[DATA_DOMAIN]
        data.managers.pop(entry.entry_id, None)
        data.refresh_failure_limit()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ShareConfigEntry) -> None:
    """A deleted agreement leaves its audit log (the MOU review needs it)."""
    await StateStore(hass, entry.entry_id).async_remove()
    async_delete_entry_issues(hass, entry.entry_id)
