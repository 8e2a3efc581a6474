"""The demo district, and how it is put into Home Assistant through its APIs.

Springfield Public Schools: Lincoln High School (two floors) and Washington
Elementary (one floor), eight cameras. Most serve MJPEG over HTTP; Lincoln
High's Hallway B serves H.264 over RTSP; the boys' locker room camera is
private under the agreement with the Springfield Police Department.

Everything is created the way an administrator would, only through the API:
floors and areas (WebSocket), camera integrations (core `mjpeg` and `generic`
config flows), the agreement (this integration's config flow) and a standing
viewer link (the `create_viewer_link` service). Every step first looks for what
it would create, so running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from homeassistant.util.yaml import load_yaml_dict

from testbed.cameras import MjpegCamera, Picture, RtspCamera
from testbed.errors import SetupError
from testbed.hass import HassClient

DOMAIN: Final = "school_emergency_share"
DISTRICT: Final = "Springfield Public Schools"
AGENCY: Final = "Springfield Police Department"
STANDING_LINK_LABEL: Final = "Springfield PD dispatch"
DASHBOARD_PATH: Final = "emergency-sharing"
# Areas Home Assistant's onboarding creates; a school has none of them.
ONBOARDING_AREAS: Final = ("Living Room", "Kitchen", "Bedroom")
# Onboarding starts these integrations' flows; the demo district needs none.
ONBOARDING_INTEGRATIONS: Final = ("shopping_list", "met", "radio_browser")


@dataclass(frozen=True, slots=True)
class Floor:
    """A floor of one school (Home Assistant floors are district-wide)."""

    name: str
    level: int
    icon: str


@dataclass(frozen=True, slots=True)
class Area:
    """A place a camera watches."""

    name: str
    floor: str
    icon: str


@dataclass(frozen=True, slots=True)
class CameraSpec:
    """One camera of the district."""

    name: str
    """Its name in Home Assistant; also burned into its picture."""
    area: str
    kind: Literal["mjpeg", "rtsp"]
    port_offset: int
    """Its HTTP port is the camera base port plus this."""
    private: bool = False

    @property
    def entity_id(self) -> str:
        """The camera entity Home Assistant gives it."""
        slug = "".join(c if c.isalnum() else "_" for c in self.name.lower())
        return "camera." + "_".join(filter(None, slug.split("_")))


FLOORS: Final = (
    Floor("Lincoln High - Ground floor", 0, "mdi:home-floor-0"),
    Floor("Lincoln High - First floor", 1, "mdi:home-floor-1"),
    Floor("Washington Elementary - Ground floor", 0, "mdi:home-floor-g"),
)
AREAS: Final = (
    Area("Lincoln High - Main entrance", FLOORS[0].name, "mdi:door"),
    Area("Lincoln High - Gym", FLOORS[0].name, "mdi:basketball"),
    Area("Lincoln High - Boys' locker room", FLOORS[0].name, "mdi:locker"),
    Area("Lincoln High - Library", FLOORS[1].name, "mdi:bookshelf"),
    Area("Lincoln High - Hallway B", FLOORS[1].name, "mdi:walk"),
    Area("Washington Elementary - Main entrance", FLOORS[2].name, "mdi:door"),
    Area("Washington Elementary - Cafeteria", FLOORS[2].name, "mdi:silverware"),
    Area("Washington Elementary - Parking lot", FLOORS[2].name, "mdi:parking"),
)
CAMERAS: Final = (
    CameraSpec("Lincoln High Main entrance", AREAS[0].name, "mjpeg", 1),
    CameraSpec("Lincoln High Gym", AREAS[1].name, "mjpeg", 2),
    CameraSpec("Lincoln High Locker room", AREAS[2].name, "mjpeg", 3, private=True),
    CameraSpec("Lincoln High Library", AREAS[3].name, "mjpeg", 4),
    CameraSpec("Lincoln High Hallway B", AREAS[4].name, "rtsp", 5),
    CameraSpec("Washington Elementary Main entrance", AREAS[5].name, "mjpeg", 6),
    CameraSpec("Washington Elementary Cafeteria", AREAS[6].name, "mjpeg", 7),
    CameraSpec("Washington Elementary Parking lot", AREAS[7].name, "mjpeg", 8),
)
RTSP_PORT_OFFSET: Final = 54
"""The RTSP camera's RTSP port is the camera base port plus this."""
HELPERS: Final = (
    "input_boolean.fire_alarm",
    "input_boolean.panic_button_gym",
    "input_boolean.panic_button_cafeteria",
    "input_boolean.intrusion_sensor",
)
"""Alarm helpers, defined in config/configuration.yaml."""


type Camera = MjpegCamera | RtspCamera


def make_cameras(
    base_port: int, *, timezone: str | None = None, log_dir: Path | None = None
) -> dict[str, Camera]:
    """The district's cameras (not started), by name."""
    cameras: dict[str, Camera] = {}
    for spec in CAMERAS:
        port = base_port + spec.port_offset
        # The name and a clock with milliseconds burned in: a viewer sees
        # which camera it is and how old the picture is.
        picture = Picture(
            size="480x270",
            fps=6,
            quality=83,
            label=spec.name,
            clock=True,
            timezone=timezone,
        )
        if spec.kind == "rtsp":
            cameras[spec.name] = RtspCamera(
                replace(picture, fps=8, keyframe_interval=1.0),
                port=base_port + RTSP_PORT_OFFSET,
                path="hallway-b",
                still_port=port,
                rtp_start_port=base_port + 900,
                name=spec.name,
                log_dir=log_dir,
            )
        else:
            cameras[spec.name] = MjpegCamera(
                picture, port=port, name=spec.name, log_dir=log_dir
            )
    return cameras


def camera_ports(base_port: int) -> list[int]:
    """Every TCP port the cameras listen on."""
    return [
        *(base_port + spec.port_offset for spec in CAMERAS),
        base_port + RTSP_PORT_OFFSET,
    ]


@dataclass(slots=True)
class Populated:
    """What was found or created in Home Assistant."""

    entry_id: str
    admin_user_id: str
    cameras: dict[str, str] = field(default_factory=dict)
    """Camera name → entity id."""
    notes: list[str] = field(default_factory=list)


def agreement_dates(timezone: str, today: date | None = None) -> tuple[str, str]:
    """Valid from 30 days ago until 335 days from now, in the district's zone."""
    today = today or datetime.now(ZoneInfo(timezone)).date()
    return (
        (today - timedelta(days=30)).isoformat(),
        (today + timedelta(days=335)).isoformat(),
    )


async def _remove_onboarding_leftovers(client: HassClient) -> None:
    """Onboarding's default rooms and integrations are not part of a school."""
    for area in await client.ws("config/area_registry/list"):
        if area["name"] in ONBOARDING_AREAS:
            await client.ws("config/area_registry/delete", area_id=area["area_id"])
    for domain in ONBOARDING_INTEGRATIONS:
        for entry in await client.get(
            f"/api/config/config_entries/entry?domain={domain}"
        ):
            await client.request(
                "DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}"
            )


async def area_ids(client: HassClient) -> dict[str, str]:
    """Every area's id by name."""
    return {
        area["name"]: area["area_id"]
        for area in await client.ws("config/area_registry/list")
    }


async def ensure_floors_and_areas(client: HassClient) -> dict[str, str]:
    """Create the floors and areas that are missing; returns area name → id."""
    floors = {
        f["name"]: f["floor_id"] for f in await client.ws("config/floor_registry/list")
    }
    for floor in FLOORS:
        if floor.name not in floors:
            created = await client.ws(
                "config/floor_registry/create",
                name=floor.name,
                level=floor.level,
                icon=floor.icon,
            )
            floors[floor.name] = created["floor_id"]
    areas = {
        a["name"]: a["area_id"] for a in await client.ws("config/area_registry/list")
    }
    for area in AREAS:
        if area.name not in areas:
            created = await client.ws(
                "config/area_registry/create",
                name=area.name,
                floor_id=floors[area.floor],
                icon=area.icon,
            )
            areas[area.name] = created["area_id"]
    return areas


async def _entries(client: HassClient, domain: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = await client.get(
        f"/api/config/config_entries/entry?domain={domain}"
    )
    return entries


async def _add_mjpeg(client: HassClient, camera: MjpegCamera) -> str:
    entry = await client.flow(
        "mjpeg",
        [
            {
                "name": camera.name,
                "mjpeg_url": camera.stream_url,
                "still_image_url": camera.still_url,
                "username": "",
                "password": "",
                "verify_ssl": False,
            }
        ],
    )
    return str(entry["entry_id"])


async def _add_generic(client: HassClient, camera: RtspCamera, *, stream: bool) -> str:
    user_input: dict[str, Any] = {
        "still_image_url": camera.still_url,
        "advanced": {
            "framerate": 2,
            "verify_ssl": False,
            "rtsp_transport": "udp",
            "authentication": "basic",
        },
    }
    if stream:
        user_input["stream_source"] = camera.stream_url
    entry = await client.flow("generic", [user_input, {"confirmed_ok": True}])
    entry_id = str(entry["entry_id"])
    # The generic flow names a camera after its URL; an administrator renames it.
    await client.ws("config_entries/update", entry_id=entry_id, title=camera.name)
    return entry_id


async def ensure_cameras(
    client: HassClient,
    cameras: dict[str, Camera],
    areas: dict[str, str],
    *,
    rtsp_stream: bool,
) -> dict[str, str]:
    """Add the cameras that are missing, each in its area; name → entity id."""
    by_title = {
        e["title"]: e["entry_id"]
        for domain in ("mjpeg", "generic")
        for e in await _entries(client, domain)
    }
    for spec in CAMERAS:
        if spec.name in by_title:
            continue
        camera = cameras[spec.name]
        if isinstance(camera, RtspCamera):
            by_title[spec.name] = await _add_generic(client, camera, stream=rtsp_stream)
        else:
            by_title[spec.name] = await _add_mjpeg(client, camera)
    entities: dict[str, dict[str, Any]] = {
        entity["config_entry_id"]: entity
        for entity in await client.ws("config/entity_registry/list")
        if entity["entity_id"].startswith("camera.")
    }
    for spec in CAMERAS:
        entity = entities.get(by_title[spec.name])
        if entity is None:
            raise SetupError(f"camera {spec.name!r} was added but has no entity")
        await _name_and_place(client, spec, entity, areas[spec.area])
    return {spec.name: spec.entity_id for spec in CAMERAS}


async def _name_and_place(
    client: HassClient, spec: CameraSpec, entity: dict[str, Any], area_id: str
) -> None:
    """Give a camera entity its name and entity id, and put it in its area."""
    changes: dict[str, Any] = {}
    if entity["entity_id"] != spec.entity_id:
        changes["new_entity_id"] = spec.entity_id
        changes["name"] = spec.name
    if entity["device_id"]:
        await client.ws(
            "config/device_registry/update",
            device_id=entity["device_id"],
            area_id=area_id,
            name_by_user=spec.name,
        )
    elif entity.get("area_id") != area_id:
        changes["area_id"] = area_id
    if changes:
        await client.ws(
            "config/entity_registry/update", entity_id=entity["entity_id"], **changes
        )


# A window of the nurse's office is in this camera's view: blurred for viewers.
MASKED_CAMERA: Final = "Washington Elementary Main entrance"
NURSE_WINDOW: Final = {
    "x": 0.62,
    "y": 0.08,
    "width": 0.3,
    "height": 0.38,
    "style": "blur",
}


async def ensure_notify_file(client: HassClient, path: Path) -> str:
    """A notify entity that writes every notice to `path` (core's `file`)."""
    entries = [
        e for e in await _entries(client, "file") if e["title"].endswith(f"[{path}]")
    ]
    if not entries:
        path.parent.mkdir(parents=True, exist_ok=True)
        entries = [
            await client.flow(
                "file",
                [
                    {"next_step_id": "notify"},
                    {"file_path": str(path), "timestamp": True},
                ],
            )
        ]
    entry_id = entries[0]["entry_id"]
    for entity in await client.ws("config/entity_registry/list"):
        if entity["config_entry_id"] == entry_id and entity["entity_id"].startswith(
            "notify."
        ):
            return str(entity["entity_id"])
    raise SetupError(f"the file notifier for {path} has no entity")


async def ensure_agreement(
    client: HassClient,
    camera_entities: dict[str, str],
    admin_user_id: str,
    timezone: str,
    notify_targets: list[str],
) -> str:
    """The agreement's config entry id, created through its config flow if missing.

    Then its options flow masks the nurse's window, as a district would.
    """
    for entry in await _entries(client, DOMAIN):
        return str(entry["entry_id"])
    valid_from, valid_until = agreement_dates(timezone)
    shared = [camera_entities[c.name] for c in CAMERAS if not c.private]
    private = [camera_entities[c.name] for c in CAMERAS if c.private]
    rules = {
        "allowed_users": [admin_user_id],
        "max_session_minutes": 60,
        "max_extension_minutes": 60,
        "max_viewers": 10,
        "notify_targets": notify_targets,
        "retention_days": 365,
        "failure_limit": 20,
    }
    entry = await client.flow(
        DOMAIN,
        [
            {
                "school": DISTRICT,
                "agency": AGENCY,
                "valid_from": valid_from,
                "valid_until": valid_until,
            },
            {"cameras": shared, "private_cameras": private},
            rules,
        ],
    )
    entry_id = str(entry["entry_id"])
    await client.options_flow(
        entry_id,
        [
            {"valid_from": valid_from, "valid_until": valid_until},
            {"cameras": shared, "private_cameras": private},
            {**rules, "max_streams_per_viewer": 8},
            {"masks": {camera_entities[MASKED_CAMERA]: [NURSE_WINDOW]}},
        ],
    )
    return entry_id


async def create_standing_link(client: HassClient, entry_id: str) -> str:
    """A new standing viewer link for the agency's dispatch; returns its path."""
    response = await client.call_service(
        DOMAIN,
        "create_viewer_link",
        {"config_entry_id": entry_id, "label": STANDING_LINK_LABEL, "standing": True},
        return_response=True,
    )
    url = str(response["url"])
    # Stored as a path: the demo's address may change between runs.
    return urlsplit(url).path


async def link_status(client: HassClient, path: str) -> int:
    """The HTTP status of a viewer link (403: valid, no session; 401: dead)."""
    async with client.http.get(
        f"{client.base_url}{path}/cameras.json", headers={"Authorization": ""}
    ) as response:
        return response.status


async def agreement_entities(client: HassClient, entry_id: str) -> dict[str, str]:
    """The agreement's entities by key (`emergency_sharing`, `active_viewers`…)."""
    result = {}
    for entity in await client.ws("config/entity_registry/list"):
        if entity["config_entry_id"] == entry_id and entity.get("unique_id"):
            key = str(entity["unique_id"]).removeprefix(f"{entry_id}:")
            result[key] = entity["entity_id"]
    return result


CONTROLS: Final = (
    ("emergency_sharing", "Emergency sharing"),
    ("session_state", "Session"),
    ("session_expires", "Session ends"),
    ("active_viewers", "Active viewers"),
    ("extend_session", "Extend session"),
    ("revoke_all_links", "Revoke all viewer links"),
    ("police_request", "Police request"),
    ("approve_request", "Approve police request"),
    ("deny_request", "Deny police request"),
)
"""The agreement's entities on the dashboard, by key, with short names."""
ALARM_NAMES: Final = {
    "input_boolean.fire_alarm": "Fire alarm (Lincoln High)",
    "input_boolean.panic_button_gym": "Panic button, Lincoln High Gym",
    "input_boolean.panic_button_cafeteria": "Panic button, Washington Cafeteria",
    "input_boolean.intrusion_sensor": "Intrusion, Washington entrance",
}


EXAMPLE_DASHBOARD: Final = (
    Path(__file__).resolve().parents[1] / "dashboards" / "school_emergency_share.yaml"
)


def camera_health_card() -> dict[str, Any]:
    """The example dashboard's card of failed cameras (it names no entity)."""
    cards: list[dict[str, Any]] = []

    def find(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "markdown" and "OFFLINE" in node["content"]:
                cards.append(node)
            for value in node.values():
                find(value)
        elif isinstance(node, list):
            for value in node:
                find(value)

    find(load_yaml_dict(EXAMPLE_DASHBOARD))
    (card,) = cards
    return {"type": "markdown", "title": "Camera health", "content": card["content"]}


def dashboard(
    entities: dict[str, str], camera_entities: dict[str, str]
) -> dict[str, Any]:
    """The administrators' dashboard: sharing controls, alarms, cameras.

    Args:
        entities: the agreement's entities by key (`agreement_entities`).
        camera_entities: camera name → entity id.

    """
    controls = [
        {"entity": entities[key], "name": name}
        for key, name in CONTROLS
        if key in entities
    ]
    # Every other switch of the agreement says whether one camera is shared.
    names = {entity_id: name for name, entity_id in camera_entities.items()}
    shared = [
        {
            "entity": entity_id,
            "name": next(
                (n for cam, n in names.items() if key.endswith(cam)), entity_id
            ),
        }
        for key, entity_id in sorted(entities.items())
        if entity_id.startswith("switch.") and key != "emergency_sharing"
    ]

    def camera_cards(school: str) -> list[dict[str, Any]]:
        return [
            {
                "type": "picture-entity",
                "entity": camera_entities[spec.name],
                "name": spec.name.removeprefix(school).strip()
                + (" (private)" if spec.private else ""),
                "camera_view": "auto",
                "show_state": False,
            }
            for spec in CAMERAS
            if spec.name.startswith(school)
        ]

    return {
        "title": DISTRICT,
        "views": [
            {
                "title": "Emergency sharing",
                "path": "emergency",
                "icon": "mdi:cctv",
                "cards": [
                    {
                        "type": "entities",
                        "title": "Sharing with police",
                        "show_header_toggle": False,
                        "entities": controls,
                    },
                    {
                        "type": "entities",
                        "title": "Alarms (demo)",
                        "show_header_toggle": False,
                        "entities": [
                            {"entity": entity_id, "name": ALARM_NAMES[entity_id]}
                            for entity_id in HELPERS
                        ],
                    },
                    {
                        "type": "logbook",
                        "title": "What happened",
                        "target": {"entity_id": [controls[0]["entity"]]},
                        "hours_to_show": 24,
                    },
                    {
                        "type": "grid",
                        "title": "Lincoln High School",
                        "columns": 2,
                        "square": False,
                        "cards": camera_cards("Lincoln High"),
                    },
                    {
                        "type": "grid",
                        "title": "Washington Elementary",
                        "columns": 2,
                        "square": False,
                        "cards": camera_cards("Washington Elementary"),
                    },
                    {
                        "type": "entities",
                        "title": "Cameras shared during a session",
                        "show_header_toggle": False,
                        "entities": shared,
                    },
                    camera_health_card(),
                ],
            }
        ],
    }


async def populate(
    client: HassClient,
    cameras: dict[str, Camera],
    *,
    timezone: str,
    rtsp_stream: bool,
    save_dashboard: bool,
    notify_file: Path | None = None,
) -> Populated:
    """Put the district into Home Assistant; safe to run again.

    With `notify_file`, the agreement's notices (and links sent to phones) are
    written there too.
    """
    user = await client.ws("auth/current_user")
    await _remove_onboarding_leftovers(client)
    areas = await ensure_floors_and_areas(client)
    camera_entities = await ensure_cameras(
        client, cameras, areas, rtsp_stream=rtsp_stream
    )
    targets = [await ensure_notify_file(client, notify_file)] if notify_file else []
    entry_id = await ensure_agreement(
        client, camera_entities, user["id"], timezone, targets
    )
    populated = Populated(entry_id, user["id"], camera_entities)
    if save_dashboard:
        entities = await agreement_entities(client, entry_id)
        await ensure_dashboard(client)
        await client.ws(
            "lovelace/config/save",
            url_path=DASHBOARD_PATH,
            config=dashboard(entities, camera_entities),
        )
    return populated


async def ensure_dashboard(client: HassClient) -> None:
    """A dashboard of its own in the sidebar (the default one is generated)."""
    existing = await client.ws("lovelace/dashboards/list")
    if any(item.get("url_path") == DASHBOARD_PATH for item in existing):
        return
    await client.ws(
        "lovelace/dashboards/create",
        url_path=DASHBOARD_PATH,
        title="Emergency sharing",
        icon="mdi:cctv",
        show_in_sidebar=True,
        require_admin=False,
        mode="storage",
    )
