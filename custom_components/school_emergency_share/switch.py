"""Switches: Emergency sharing, and whether each eligible camera is shared."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import DASHBOARD_REASON
from .core.session import ActivationRequest
from .data import ShareConfigEntry
from .entity import ShareEntity
from .manager import AgreementManager

CAMERA_KEY_PREFIX = "camera:"
EMERGENCY_SHARING = SwitchEntityDescription(
    key="emergency_sharing", translation_key="emergency_sharing"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One sharing switch, and one switch per shareable camera."""
    manager = entry.runtime_data
    async_add_entities([EmergencySharingSwitch(manager)])
    shown: set[str] = set()

    @callback
    def _follow_agreement() -> None:
        """The options flow changes cameras without a reload: follow it."""
        wanted = manager.agreement.shareable_cameras
        if wanted == shown:
            return
        registry = er.async_get(hass)
        prefix = f"{entry.entry_id}:{CAMERA_KEY_PREFIX}"
        for item in er.async_entries_for_config_entry(registry, entry.entry_id):
            if (
                item.domain == Platform.SWITCH
                and item.unique_id.startswith(prefix)
                and item.unique_id.removeprefix(prefix) not in wanted
            ):
                registry.async_remove(item.entity_id)
        added = sorted(wanted - shown)
        shown.clear()
        shown.update(wanted)
        async_add_entities(
            CameraSharedSwitch(manager, camera, _camera_name(hass, camera))
            for camera in added
        )

    _follow_agreement()
    entry.async_on_unload(manager.async_add_listener(_follow_agreement))


class EmergencySharingSwitch(ShareEntity, SwitchEntity):
    """On while a session is active. Turning it on is an activation by that user."""

    def __init__(self, manager: AgreementManager) -> None:
        """The agreement's main switch."""
        super().__init__(manager, EMERGENCY_SHARING, EMERGENCY_SHARING.key)

    @property
    def is_on(self) -> bool:
        """Whether a session is active."""
        return self.manager.session_open(dt_util.utcnow())

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Activate with reason "Dashboard" and the agreement's defaults."""
        await self.manager.async_activate(
            await self.async_actor(), ActivationRequest(reason=DASHBOARD_REASON)
        )

    async def async_turn_off(self, **kwargs: Any) -> None:
        """End the session."""
        await self.manager.async_deactivate(await self.async_actor(), DASHBOARD_REASON)


class CameraSharedSwitch(ShareEntity, SwitchEntity):
    """Whether one eligible camera is shared during sessions."""

    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, manager: AgreementManager, camera: str, name: str) -> None:
        """A switch for `camera`, named after it."""
        description = SwitchEntityDescription(
            key=f"camera_shared_{camera}", translation_key="camera_shared"
        )
        super().__init__(manager, description, f"{CAMERA_KEY_PREFIX}{camera}")
        self.camera = camera
        self._attr_translation_placeholders = {"camera": name}

    @property
    def is_on(self) -> bool:
        """Whether the camera is shared."""
        return self.camera not in self.manager.state.disabled_cameras

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The camera this switch governs."""
        return {"camera": self.camera}

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Share the camera."""
        await self.manager.async_set_camera_shared(
            await self.async_actor(), self.camera, shared=True
        )

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop sharing the camera, closing its streams at once."""
        await self.manager.async_set_camera_shared(
            await self.async_actor(), self.camera, shared=False
        )


def _camera_name(hass: HomeAssistant, camera: str) -> str:
    if (state := hass.states.get(camera)) is not None:
        return state.name
    if (entry := er.async_get(hass).async_get(camera)) is not None:
        return entry.name or entry.original_name or camera
    return camera
