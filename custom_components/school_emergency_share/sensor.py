"""Sensors: when the session expires, who is watching, and the session's state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .core.session import SessionState
from .data import ShareConfigEntry
from .entity import ShareEntity
from .manager import AgreementManager

SESSION_EXPIRES = SensorEntityDescription(
    key="session_expires",
    translation_key="session_expires",
    device_class=SensorDeviceClass.TIMESTAMP,
)
ACTIVE_VIEWERS = SensorEntityDescription(
    key="active_viewers", translation_key="active_viewers"
)
SESSION_STATE = SensorEntityDescription(
    key="session_state",
    translation_key="session_state",
    device_class=SensorDeviceClass.ENUM,
    options=[state.value for state in SessionState],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The agreement's sensors."""
    manager = entry.runtime_data
    async_add_entities(
        [
            SessionExpiresSensor(manager),
            ActiveViewersSensor(manager),
            SessionStateSensor(manager),
        ]
    )


class SessionExpiresSensor(ShareEntity, SensorEntity):
    """The open session's deadline; unknown when no session is open."""

    def __init__(self, manager: AgreementManager) -> None:
        """The deadline sensor."""
        super().__init__(manager, SESSION_EXPIRES, SESSION_EXPIRES.key)

    @property
    def native_value(self) -> datetime | None:
        """The deadline of the open session."""
        session = self.manager.session
        if session is None or session.ended_at is not None:
            return None
        return session.expires_at


class ActiveViewersSensor(ShareEntity, SensorEntity):
    """How many viewers watch now; the list is in the attributes (not recorded)."""

    # Who watched is in the audit log; the recorder keeps only the count.
    _unrecorded_attributes = frozenset({"viewers"})

    def __init__(self, manager: AgreementManager) -> None:
        """The viewers sensor."""
        super().__init__(manager, ACTIVE_VIEWERS, ACTIVE_VIEWERS.key)

    @property
    def native_value(self) -> int:
        """The number of viewers (a link used from one address)."""
        return len(self.manager.active_viewers())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Who is watching what, from where, since when."""
        return {"viewers": self.manager.active_viewers()}


class SessionStateSensor(ShareEntity, SensorEntity):
    """idle, active, extended or ended."""

    def __init__(self, manager: AgreementManager) -> None:
        """The session state sensor."""
        super().__init__(manager, SESSION_STATE, SESSION_STATE.key)

    @property
    def native_value(self) -> str:
        """The session's lifecycle state."""
        session = self.manager.session
        return session.state.value if session else SessionState.IDLE.value
