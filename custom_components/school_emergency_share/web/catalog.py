"""What a viewer may know: the session, the link and its cameras, placed.

Cameras are named and placed (area, floor) from Home Assistant's registries,
so the page can group them the way responders think of a building.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
)
from homeassistant.util import dt as dt_util

from ..const import URL_PREFIX
from ..core.session import Session
from .gate import Access

# Home Assistant's floors are district-wide: a district names them after the
# school ("Lincoln High - Ground floor"), which is how the page groups them.
SCHOOL_SEPARATORS: Final = (" - ", " \u2013 ", " \u2014 ", " \u00b7 ", ": ")


def school_of(floor: str | None) -> str | None:
    """The school a floor's name starts with, if it names one."""
    for separator in SCHOOL_SEPARATORS:
        if floor and separator in floor:
            return floor.split(separator, 1)[0].strip() or None
    return None


def describe(hass: HomeAssistant, access: Access, token: str) -> dict[str, Any]:
    """What a viewer may know: the session, the link and its cameras.

    `session` is None while a standing link waits for a session; its cameras
    are then none, and `request` is the officer's request, if any.
    """
    manager, link = access.manager, access.link
    session = manager.session if manager.session_open(dt_util.utcnow()) else None
    request = manager.state.request
    return {
        "session": _session(access, session) if session is not None else None,
        "school": manager.agreement.school,
        "agency": manager.agreement.agency,
        "link": {
            "label": link.label,
            "standing": link.standing,
            "expires_at": manager.link_expiry(link).isoformat(),
        },
        "request": (
            request.public()
            if request is not None and request.link_id == link.id
            else None
        ),
        "now": dt_util.utcnow().isoformat(),
        "cameras": _cameras(hass, access, token) if session is not None else [],
    }


def _session(access: Access, session: Session) -> dict[str, Any]:
    manager, link = access.manager, access.link
    agreement = manager.agreement
    return {
        "id": session.id,
        "state": session.state.value,
        "school": agreement.school,
        "agency": agreement.agency,
        "reason": session.reason,
        "incident_id": session.incident_id,
        "started_at": session.started_at.isoformat(),
        "expires_at": session.expires_at.isoformat(),
        "now": dt_util.utcnow().isoformat(),
        "link": {
            "label": link.label,
            "standing": link.standing,
            "expires_at": manager.link_expiry(link).isoformat(),
        },
    }


def _cameras(hass: HomeAssistant, access: Access, token: str) -> list[dict[str, Any]]:
    manager, link = access.manager, access.link
    base = f"{URL_PREFIX}/{token}"
    entities, areas, floors = er.async_get(hass), ar.async_get(hass), fr.async_get(hass)
    cameras = []
    for camera in sorted(link.scope(manager.shared_cameras())):
        area = floor = None
        level: int | None = None
        if (entry := entities.async_get(camera)) is not None:
            area_id = entry.area_id
            if area_id is None and entry.device_id:
                device = dr.async_get(hass).async_get(entry.device_id)
                area_id = device.area_id if device else None
            if area_id and (area_entry := areas.async_get_area(area_id)):
                area = area_entry.name
                if area_entry.floor_id and (
                    floor_entry := floors.async_get_floor(area_entry.floor_id)
                ):
                    floor, level = floor_entry.name, floor_entry.level
        state = hass.states.get(camera)
        cameras.append(
            {
                "id": camera,
                "name": state.name if state else camera,
                "school": school_of(floor),
                "area": area,
                "floor": floor,
                "floor_level": level,
                "mjpeg": f"{base}/mjpeg/{camera}",
                "mp4": (
                    f"{base}/mp4/{camera}"
                    if manager.streams.mp4_available(camera)
                    else None
                ),
                "snapshot": f"{base}/snapshot/{camera}",
                "status": manager.streams.status(camera),
                "last_frame_at": _isoformat(manager.streams.last_frame_at(camera)),
            }
        )
    return cameras


def _isoformat(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None
