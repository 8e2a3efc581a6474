"""The base of every entity: one device per agreement, updated by its manager."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .actors import async_actor_for
from .const import DOMAIN
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
            self.hass, self.hass.data[DATA_DOMAIN].runs, self._context
        )

    async def async_added_to_hass(self) -> None:
        """Follow the manager's changes."""
        self.async_on_remove(self.manager.async_add_listener(self.async_write_ha_state))


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
