"""The base of every entity: one device per agreement, updated by its manager."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from homeassistant.components.homeassistant.exposed_entities import (
    KNOWN_ASSISTANTS,
    async_expose_entity,
    async_get_entity_settings,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .contexts import async_actor_for
from .core.actor import Actor
from .data import DATA_DOMAIN, ShareConfigEntry
from .manager import AgreementManager


class ShareEntity(Entity):
    """An entity of one agreement, described by its `EntityDescription`."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        manager: AgreementManager,
        description: EntityDescription,
        unique_key: str | None = None,
    ) -> None:
        """Place the entity on the agreement's device, unique by its key."""
        self.manager = manager
        self.entity_description = description
        entry = manager.entry
        self._attr_unique_id = f"{entry.entry_id}:{unique_key or description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer="School Emergency Share",
            model=f"Agreement with {manager.agreement.agency}",
            entry_type=DeviceEntryType.SERVICE,
        )

    async def async_actor(self) -> Actor:
        """Who is behind the service call being handled: a user or an automation."""
        return await async_actor_for(
            self.hass, self.hass.data[DATA_DOMAIN].contexts, self._context
        )

    async def async_added_to_hass(self) -> None:
        """Follow the manager's changes; stay away from voice assistants."""
        self.async_on_remove(self.manager.async_add_listener(self.async_write_ha_state))
        keep_from_voice_assistants(self.hass, self.entity_id)


@callback
def keep_from_voice_assistants(hass: HomeAssistant, entity_id: str) -> None:
    """Not exposed to Assist, Alexa or Google unless an administrator says so.

    A switch would be by default, and anyone in earshot of a voice satellite
    could then ask to end sharing. (Such a call is refused anyway: nobody the
    agreement names is behind it.) A choice an administrator made is kept.
    """
    try:
        settings = async_get_entity_settings(hass, entity_id)
    except (HomeAssistantError, KeyError):
        return  # no registry entry, or Home Assistant's own component not set up
    for assistant in KNOWN_ASSISTANTS:
        if "should_expose" not in settings.get(assistant, {}):
            async_expose_entity(hass, assistant, entity_id, should_expose=False)


type PlatformSetup = Callable[
    [HomeAssistant, ShareConfigEntry, AddConfigEntryEntitiesCallback], Awaitable[None]
]


def described_platform[D: EntityDescription](
    entity: Callable[[AgreementManager, D], ShareEntity], descriptions: Iterable[D]
) -> PlatformSetup:
    """A platform's `async_setup_entry`: one entity per description."""

    async def async_setup_entry(
        hass: HomeAssistant,
        entry: ShareConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        manager = entry.runtime_data
        async_add_entities(entity(manager, description) for description in descriptions)

    return async_setup_entry
