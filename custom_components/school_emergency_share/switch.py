"""Switches: Emergency sharing, and whether each eligible camera is shared."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import DASHBOARD_REASON, signal_agreement_changed
from .core.actor import Actor
from .core.session import ActivationRequest
from .data import ShareConfigEntry
from .entity import ShareEntity
from .manager import AgreementManager

CAMERA_KEY_PREFIX = "camera:"

type Turn = Callable[[AgreementManager, Actor], Awaitable[Any]]


@dataclass(frozen=True, kw_only=True)
class ShareSwitchDescription(SwitchEntityDescription):
    """A switch of the agreement: its state and what turning it asks for."""

    is_on_fn: Callable[[AgreementManager], bool]
    turn_on_fn: Turn
    turn_off_fn: Turn
    attributes_fn: Callable[[AgreementManager], dict[str, Any]] | None = None


def _session_attributes(manager: AgreementManager) -> dict[str, Any]:
    """The open session's end, with the state (automations read them together)."""
    session = manager.session
    if session is None or not session.is_open(dt_util.utcnow()):
        return {"expires_at": None}
    return {"expires_at": session.expires_at.isoformat()}


EMERGENCY_SHARING = ShareSwitchDescription(
    key="emergency_sharing",
    translation_key="emergency_sharing",
    is_on_fn=lambda manager: manager.session_open(dt_util.utcnow()),
    # Turning it on is an activation by that user, with the agreement's defaults.
    turn_on_fn=lambda manager, actor: manager.async_activate(
        actor, ActivationRequest(reason=DASHBOARD_REASON)
    ),
    turn_off_fn=lambda manager, actor: manager.async_deactivate(
        actor, DASHBOARD_REASON
    ),
    attributes_fn=_session_attributes,
)


def _camera_attributes(camera: str) -> Callable[[AgreementManager], dict[str, Any]]:
    """The camera, how its picture is (idle, live, offline…) and its last picture.

    A dashboard shows "OFFLINE · last picture 2 minutes ago" from these.
    """

    def attributes(manager: AgreementManager) -> dict[str, Any]:
        last = manager.streams.last_frame_at(camera)
        return {
            "camera": camera,
            "status": manager.streams.status(camera),
            "last_frame_at": last.isoformat() if last is not None else None,
        }

    return attributes


def camera_shared(camera: str) -> ShareSwitchDescription:
    """The switch for whether `camera` is shared; off closes its streams at once."""
    return ShareSwitchDescription(
        key=f"camera_shared_{camera}",
        translation_key="camera_shared",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda manager: camera not in manager.state.disabled_cameras,
        turn_on_fn=lambda manager, actor: manager.async_set_camera_shared(
            actor, camera, shared=True
        ),
        turn_off_fn=lambda manager, actor: manager.async_set_camera_shared(
            actor, camera, shared=False
        ),
        attributes_fn=_camera_attributes(camera),
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One sharing switch, and one switch per shareable camera."""
    manager = entry.runtime_data
    async_add_entities([ShareSwitch(manager, EMERGENCY_SHARING)])
    shown: set[str] = set()

    @callback
    def _follow_agreement() -> None:
        """Add and remove camera switches as the agreement's cameras change."""
        wanted = manager.agreement.shareable_cameras
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
        async_add_entities(CameraSwitch(manager, camera) for camera in added)

    _follow_agreement()
    entry.async_on_unload(
        async_dispatcher_connect(
            hass, signal_agreement_changed(entry.entry_id), _follow_agreement
        )
    )


class ShareSwitch(ShareEntity, SwitchEntity):
    """One of the agreement's switches; turning it acts as whoever turned it."""

    entity_description: ShareSwitchDescription

    @property
    def is_on(self) -> bool:
        """The described state."""
        return self.entity_description.is_on_fn(self.manager)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The described attributes, if any."""
        if (attributes := self.entity_description.attributes_fn) is None:
            return self._attr_extra_state_attributes or None
        return attributes(self.manager)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Ask the manager, as the caller."""
        await self.entity_description.turn_on_fn(self.manager, await self.async_actor())

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Ask the manager, as the caller."""
        await self.entity_description.turn_off_fn(
            self.manager, await self.async_actor()
        )


class CameraSwitch(ShareSwitch):
    """Whether one eligible camera is shared during sessions, named after it."""

    def __init__(self, manager: AgreementManager, camera: str) -> None:
        """A switch for `camera`; its unique id is the camera's."""
        super().__init__(manager, camera_shared(camera), f"{CAMERA_KEY_PREFIX}{camera}")
        self.camera = camera
        self._attr_translation_placeholders = {
            "camera": _camera_name(manager.hass, camera)
        }


def _camera_name(hass: HomeAssistant, camera: str) -> str:
    if (state := hass.states.get(camera)) is not None:
        return state.name
    if (entry := er.async_get(hass).async_get(camera)) is not None:
        return entry.name or entry.original_name or camera
    return camera
