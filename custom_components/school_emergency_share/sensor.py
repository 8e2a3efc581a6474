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
from homeassistant.util import dt as dt_util

from .core.requests import RequestStatus
from .core.session import SessionState
from .entity import ShareEntity, described_platform
from .manager import AgreementManager


@dataclass(frozen=True, kw_only=True)
class ShareSensorDescription(SensorEntityDescription):
    """A sensor of the agreement: its value, and attributes if any."""

    value_fn: Callable[[AgreementManager], StateType | datetime]
    attributes_fn: Callable[[AgreementManager], dict[str, Any]] | None = None


def _request_status(manager: AgreementManager) -> str:
    request = manager.state.request
    if request is None:
        return "none"
    if request.status is RequestStatus.PENDING and not request.pending(
        dt_util.utcnow()
    ):
        return RequestStatus.EXPIRED.value
    return request.status.value


def _request_details(manager: AgreementManager) -> dict[str, Any]:
    if (request := manager.state.request) is None:
        return {}
    return {
        "request_id": request.id,
        "officer": request.officer,
        "reason": request.reason,
        "link_label": request.link_label,
        "created_at": request.created_at.isoformat(),
        "expires_at": request.expires_at.isoformat(),
        "answer": request.note,
    }


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
    ShareSensorDescription(
        key="police_request",
        translation_key="police_request",
        device_class=SensorDeviceClass.ENUM,
        options=["none", *(status.value for status in RequestStatus)],
        value_fn=_request_status,
        attributes_fn=_request_details,
    ),
)


class ShareSensor(ShareEntity, SensorEntity):
    """One of the agreement's sensors."""

    entity_description: ShareSensorDescription
    # Who watched, and what the police asked, is in the audit log; the recorder
    # keeps only the count and the request's status.
    _unrecorded_attributes = frozenset(
        {"viewers", "officer", "reason", "link_label", "answer"}
    )

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
