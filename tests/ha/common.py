"""Building blocks for tests that run the integration inside Home Assistant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
import functools
import json
import subprocess
from typing import Any

from homeassistant.auth.const import GROUP_ID_ADMIN, GROUP_ID_USER
from homeassistant.components.camera import Camera
from homeassistant.core import Context, HomeAssistant, ServiceResponse
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    area_registry as ar,
    entity_registry as er,
    floor_registry as fr,
)
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockPlatform,
    MockUser,
    mock_platform,
)

from custom_components.school_emergency_share.const import (
    DOMAIN,
    SERVICE_DEACTIVATE,
    SERVICE_DENY_REQUEST,
    SERVICE_REVOKE_VIEWER_LINK,
)
from custom_components.school_emergency_share.manager import AgreementManager

# name -> (area, floor, floor level)
CAMERAS: dict[str, tuple[str, str, int]] = {
    "Main entrance": ("Front office", "Ground floor", 0),
    "Gym": ("Gymnasium", "Ground floor", 0),
    "Library": ("Library", "First floor", 1),
    "Hallway B": ("Hallway B", "First floor", 1),
    "Locker room": ("Locker rooms", "Ground floor", 0),
}
ENTRANCE = "camera.main_entrance"
GYM = "camera.gym"
LIBRARY = "camera.library"
HALLWAY = "camera.hallway_b"
LOCKER_ROOM = "camera.locker_room"
OUTSIDE = "camera.parking_lot"  # a camera the agreement does not cover
FRAME_COLORS = ("blue", "navy", "teal", "purple")
# The school's operator: named by every test agreement, and who `async_call`
# acts as unless a test says otherwise. Calls with no person behind them are
# refused (the rules fail closed).
OPERATOR_ID = "operator-user-id"
# A user every Home Assistant has plenty of: may use the dashboard, not named.
TEACHER_ID = "teacher-user-id"


@functools.cache
def jpeg(color: str = "blue", size: str = "64x48") -> bytes:
    """A real, small JPEG made by ffmpeg."""
    return subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"color=c={color}:s={size}",
            "-frames:v",
            "1",
            "-f",
            "image2",
            "-c:v",
            "mjpeg",
            "pipe:1",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout


class StillCamera(Camera):
    """A camera with stills only (read by polling); can be made to fail."""

    def __init__(self, name: str) -> None:
        """A camera called `name`."""
        super().__init__()
        self._attr_name = name
        self._attr_unique_id = f"still-{name}"
        self.failing = False
        self.images_served = 0

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """The same small JPEG, or an error while failing."""
        if self.failing:
            raise HomeAssistantError("camera offline")
        self.images_served += 1
        # A live camera never sends the same bytes twice (sensor noise);
        # identical stills are treated as a frozen camera.
        return jpeg(FRAME_COLORS[self.images_served % len(FRAME_COLORS)])


async def async_setup_camera_platform(
    hass: HomeAssistant, platform: str, cameras: Sequence[Camera]
) -> None:
    """`cameras` as the entities of a camera platform `platform`, set up."""

    async def setup_platform(
        hass: HomeAssistant,
        config: dict[str, Any],
        async_add_entities: AddEntitiesCallback,
        discovery_info: dict[str, Any] | None = None,
    ) -> None:
        async_add_entities(list(cameras))

    mock_platform(
        hass, f"{platform}.camera", MockPlatform(async_setup_platform=setup_platform)
    )
    assert await async_setup_component(
        hass, "camera", {"camera": [{"platform": platform}]}
    )
    await hass.async_block_till_done()


async def async_setup_cameras(hass: HomeAssistant) -> dict[str, StillCamera]:
    """The test school's cameras, placed in areas on floors."""
    cameras = {name: StillCamera(name) for name in [*CAMERAS, "Parking lot"]}
    await async_setup_camera_platform(hass, "test", list(cameras.values()))
    floors, areas, entities = fr.async_get(hass), ar.async_get(hass), er.async_get(hass)
    for name, (area_name, floor_name, level) in CAMERAS.items():
        floor = floors.async_get_floor_by_name(floor_name) or floors.async_create(
            floor_name, level=level
        )
        area = areas.async_get_area_by_name(area_name) or areas.async_create(
            area_name, floor_id=floor.floor_id
        )
        entity_id = entities.async_get_entity_id("camera", "test", f"still-{name}")
        assert entity_id is not None
        entities.async_update_entity(entity_id, area_id=area.id)
    return cameras


def agreement_options(**overrides: Any) -> dict[str, Any]:
    """A valid agreement, in force from yesterday to a year from now."""
    today = dt_util.now().date()
    options: dict[str, Any] = {
        "school": "Lincoln High School",
        "agency": "Springfield Police Department",
        "valid_from": (today - timedelta(days=1)).isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "cameras": [ENTRANCE, GYM, LIBRARY, HALLWAY],
        "private_cameras": [LOCKER_ROOM],
        "allowed_users": [OPERATOR_ID],
        "max_session_minutes": 60,
        "max_extension_minutes": 60,
        "max_viewers": 10,
        "notify_targets": [],
        "retention_days": 365,
        "failure_limit": 20,
        "max_streams_per_viewer": 8,
    }
    options.update(overrides)
    return options


async def async_setup_agreement(
    hass: HomeAssistant, **overrides: Any
) -> MockConfigEntry:
    """Add and load one agreement (and its operator and a teacher, real users)."""
    await async_add_user(hass, OPERATOR_ID, "School operator")
    await async_add_user(hass, TEACHER_ID, "A teacher")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Lincoln High School - Springfield Police Department",
        data={},
        options=agreement_options(**overrides),
        unique_id="lincoln-high-school__springfield-police-department",
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def async_add_user(
    hass: HomeAssistant, user_id: str, name: str, *, admin: bool = False
) -> None:
    """A real, active user (a non-admin may use entities, as in a real install)."""
    if await hass.auth.async_get_user(user_id) is not None:
        return
    group = await hass.auth.async_get_group(GROUP_ID_ADMIN if admin else GROUP_ID_USER)
    assert group is not None
    MockUser(id=user_id, name=name, groups=[group]).add_to_hass(hass)


def manager_of(entry: MockConfigEntry) -> AgreementManager:
    """The running agreement behind an entry."""
    manager: AgreementManager = entry.runtime_data
    return manager


async def async_call(
    hass: HomeAssistant,
    service: str,
    entry: MockConfigEntry,
    context: Context | None = None,
    **data: Any,
) -> ServiceResponse:
    """Call one of the integration's services (as the operator unless told)."""
    no_response = service in (
        SERVICE_DEACTIVATE,
        SERVICE_REVOKE_VIEWER_LINK,
        SERVICE_DENY_REQUEST,
    )
    return await hass.services.async_call(
        DOMAIN,
        service,
        {"config_entry_id": entry.entry_id, **data},
        blocking=True,
        context=context or Context(user_id=OPERATOR_ID),
        return_response=not no_response,
    )


def today() -> date:
    """Today in Home Assistant's time zone."""
    return dt_util.now().date()


def audit_records(entry: MockConfigEntry) -> list[dict[str, Any]]:
    """Every record of the agreement's audit log, as written on disk."""
    path = manager_of(entry).audit.path
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def events_named(entry: MockConfigEntry, name: str) -> list[dict[str, Any]]:
    """The audit records of one kind."""
    return [record for record in audit_records(entry) if record["event"] == name]


def entity_id_of(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> str:
    """The entity id of one of the agreement's entities, by its unique id's key."""
    unique_id = f"{entry.entry_id}:{key}"
    for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        if item.unique_id == unique_id:
            return item.entity_id
    msg = f"no entity {unique_id}"
    raise AssertionError(msg)


def state_value(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> str:
    """What the dashboard shows for one of the agreement's entities."""
    state = hass.states.get(entity_id_of(hass, entry, key))
    assert state is not None
    return state.state


def persistent_notice(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """The agreement's persistent notification (empty when there is none)."""
    from homeassistant.components import persistent_notification  # noqa: PLC0415

    notices = persistent_notification._async_get_or_create_notifications(hass)
    notice = notices.get(f"{DOMAIN}_{entry.entry_id}")
    return dict(notice) if notice is not None else {}


async def async_settle(hass: HomeAssistant) -> None:
    """Let every task finish, notifications (background tasks) included."""
    await hass.async_block_till_done(wait_background_tasks=True)
