"""Sensors: when the session expires, who is watching, and the session's state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.helpers.typing import StateType

from .core.session import SessionState
from .entity import ShareEntity, described_platform
from .manager import AgreementManager


@dataclass(frozen=True, kw_only=True)
class ShareSensorDescription(SensorEntityDescription):
    """A sensor of the agreement: its value, and attributes if any."""

    value_fn: Callable[[AgreementManager], StateType | datetime]
    attributes_fn: Callable[[AgreementManager], dict[str, Any]] | None = None


def _session_expires(manager: AgreementManager) -> datetime | None:
    session = manager.session
    if session is None or session.ended_at is not None:
        return None
    return session.expires_at


SENSORS: tuple[ShareSensorDescription, ...] = (
    ShareSensorDescription(
        key="session_expires",
        translation_key="session_expires",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_session_expires,
    ),
    ShareSensorDescription(
        key="active_viewers",
        translation_key="active_viewers",
        # A viewer is a link used from one address.
        value_fn=lambda manager: len(manager.active_viewers()),
        attributes_fn=lambda manager: {"viewers": manager.active_viewers()},
    ),
    ShareSensorDescription(
        key="session_state",
        translation_key="session_state",
        device_class=SensorDeviceClass.ENUM,
        options=[state.value for state in SessionState],
        value_fn=lambda manager: (
            manager.session.state.value if manager.session else SessionState.IDLE.value
        ),
    ),
)


class ShareSensor(ShareEntity, SensorEntity):
    """One of the agreement's sensors."""

    entity_description: ShareSensorDescription
    # Who watched is in the audit log; the recorder keeps only the count.
    _unrecorded_attributes = frozenset({"viewers"})

    @property
    def native_value(self) -> StateType | datetime:
        """The described value."""
        return self.entity_description.value_fn(self.manager)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The described attributes, if any."""
        if (attributes := self.entity_description.attributes_fn) is None:
            return None
        return attributes(self.manager)


async_setup_entry = described_platform(ShareSensor, SENSORS)
