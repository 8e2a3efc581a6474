"""Buttons: extend the session, revoke every viewer link."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import EXTEND_BUTTON_MINUTES
from .core.session import remaining_extension
from .data import ShareConfigEntry
from .entity import ShareEntity
from .manager import AgreementManager

EXTEND_SESSION = ButtonEntityDescription(
    key="extend_session", translation_key="extend_session"
)
REVOKE_ALL_LINKS = ButtonEntityDescription(
    key="revoke_all_links", translation_key="revoke_all_links"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The agreement's buttons."""
    manager = entry.runtime_data
    async_add_entities([ExtendSessionButton(manager), RevokeAllLinksButton(manager)])


class ExtendSessionButton(ShareEntity, ButtonEntity):
    """Adds 15 minutes, or what is left of the agreement's extension cap."""

    def __init__(self, manager: AgreementManager) -> None:
        """The extend button."""
        super().__init__(manager, EXTEND_SESSION, EXTEND_SESSION.key)

    async def async_press(self) -> None:
        """Extend the open session."""
        minutes = EXTEND_BUTTON_MINUTES
        if (session := self.manager.session) is not None:
            left = int(
                remaining_extension(self.manager.agreement, session).total_seconds()
            )
            minutes = min(minutes, left // 60) or minutes
        await self.manager.async_extend(await self.async_actor(), minutes)


class RevokeAllLinksButton(ShareEntity, ButtonEntity):
    """Revokes every viewer link of the agreement, standing ones included."""

    def __init__(self, manager: AgreementManager) -> None:
        """The revoke-all button."""
        super().__init__(manager, REVOKE_ALL_LINKS, REVOKE_ALL_LINKS.key)

    async def async_press(self) -> None:
        """Revoke every link."""
        await self.manager.async_revoke_links(await self.async_actor(), None)
