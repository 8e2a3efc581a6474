"""dashboards/school_emergency_share.yaml: Home Assistant loads it, and it fits.

Every entity id it names exists once the agreement it was written for is set
up, every action that changes something asks for confirmation, and the viewer
list renders from the Active viewers sensor.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.template import Template
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from tests.ha.common import (
    async_settle,
    async_setup_agreement,
    async_setup_cameras,
    entity_id_of,
)

DASHBOARD = (
    Path(__file__).resolve().parents[2] / "dashboards/school_emergency_share.yaml"
)
URL_PATH = "emergency-sharing"
ENTITY_ID = re.compile(r"\b(?:switch|sensor|button|camera)\.[a-z0-9_]+\b")
# The agreement's entities, by the key of their unique id.
SHOWN = (
    "emergency_sharing",
    "session_expires",
    "session_state",
    "active_viewers",
    "extend_session",
    "revoke_all_links",
    "police_request",
    "approve_request",
    "deny_request",
    "camera:camera.main_entrance",
    "camera:camera.gym",
    "camera:camera.library",
    "camera:camera.hallway_b",
)
VIEWERS = "sensor.lincoln_high_school_springfield_police_department_active_viewers"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from this repository."""
    return


@pytest.fixture(autouse=True)
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """The agreement writes its audit log in a folder of its own."""
    hass.config.config_dir = str(tmp_path)
    return tmp_path


async def _demo_agreement(hass: HomeAssistant) -> dict[str, str]:
    """The agreement the dashboard was written for: its entity ids by key."""
    await async_setup_cameras(hass)
    entry = await async_setup_agreement(hass)
    await async_settle(hass)
    assert entry.title == "Lincoln High School - Springfield Police Department"
    return {key: entity_id_of(hass, entry, key) for key in SHOWN}


def _strings(node: object) -> Iterator[str]:
    """Every text in the dashboard but action names (`button.press`)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            if key != "perform_action":
                yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _actions(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("action") not in (None, "none", "more-info"):
            yield node
        for value in node.values():
            yield from _actions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _actions(value)


def _markdown(config: dict[str, Any], mentioning: str) -> str:
    contents = [
        text
        for text in _strings(config)
        if mentioning in text and "{%" in text and "viewers" in text
    ]
    assert len(contents) == 1
    return contents[0]


async def test_home_assistant_serves_it_as_a_yaml_dashboard(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> None:
    """Declared as its top comment says, the frontend gets exactly the file."""
    await _demo_agreement(hass)
    assert await async_setup_component(
        hass,
        "lovelace",
        {
            "lovelace": {
                "dashboards": {
                    URL_PATH: {
                        "mode": "yaml",
                        "filename": str(DASHBOARD),
                        "title": "Emergency sharing",
                        "icon": "mdi:cctv",
                    }
                }
            }
        },
    )
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "lovelace/config", "url_path": URL_PATH})
    response = await client.receive_json()

    assert response["success"], response
    assert response["result"] == load_yaml_dict(DASHBOARD)


async def test_every_entity_it_names_exists_for_the_demo_agreement(
    hass: HomeAssistant,
) -> None:
    """No typo and nothing missing: all thirteen controls, and nothing else."""
    ids = await _demo_agreement(hass)
    named = {
        match
        for text in _strings(load_yaml_dict(DASHBOARD))
        for match in ENTITY_ID.findall(text)
    }

    assert named == set(ids.values())
    for entity_id in named:
        assert hass.states.get(entity_id) is not None, entity_id


def test_every_action_that_changes_something_asks_first() -> None:
    """Sharing, extending and revoking links each need a confirmation."""
    actions = list(_actions(load_yaml_dict(DASHBOARD)))

    assert {a["action"] for a in actions} == {"toggle", "perform-action"}
    assert {a.get("perform_action") for a in actions} == {None, "button.press"}
    for action in actions:
        assert action["confirmation"]["text"].strip(), action


def test_the_countdown_is_shown_relative() -> None:
    """Ends "in 42 minutes", not a clock time to subtract in one's head."""
    rows = [
        row
        for row in _rows(load_yaml_dict(DASHBOARD))
        if isinstance(row, dict)
        and str(row.get("entity", "")).endswith("_session_expires")
    ]
    assert rows == [
        {
            "entity": (
                "sensor.lincoln_high_school_springfield_police_department"
                "_session_expires"
            ),
            "name": "Ends",
            "format": "relative",
        }
    ]


def _rows(node: object) -> Iterator[object]:
    """The rows of every entities card."""
    if isinstance(node, dict):
        yield from node.get("entities", [])
        for value in node.values():
            yield from _rows(value)
    elif isinstance(node, list):
        for value in node:
            yield from _rows(value)


async def test_the_viewer_list_shows_label_cameras_and_since(
    hass: HomeAssistant,
) -> None:
    """The markdown card turns the sensor's `viewers` attribute into a table."""
    await _demo_agreement(hass)
    content = _markdown(load_yaml_dict(DASHBOARD), VIEWERS)
    template = Template(content, hass)
    assert template.async_render(parse_result=False) == "No one is watching."

    since = dt_util.now().replace(hour=10, minute=2, second=5, microsecond=0)
    hass.states.async_set(
        VIEWERS,
        "2",
        {
            "viewers": [
                {
                    "label": "Unit 12 - Officer Diaz",
                    "link_id": "a1",
                    "since": since.isoformat(),
                    "cameras": ["camera.gym", "camera.library"],
                },
                {
                    "label": "Dispatch desk",
                    "link_id": "b2",
                    "since": since.isoformat(),
                    "cameras": [],
                },
            ]
        },
    )

    # Where a viewer watches from is in the audit log, not on a dashboard.
    assert template.async_render(parse_result=False) == (
        "| Viewer | Cameras | Since |\n"
        "|---|---|---|\n"
        "| Unit 12 - Officer Diaz | Gym, Library | 10:02:05 |\n"
        "| Dispatch desk | page only | 10:02:05 |"
    )


async def test_a_waiting_police_request_is_shown_with_who_why_and_until(
    hass: HomeAssistant,
) -> None:
    """The request card says who asks, why, from which link, answer by when."""
    ids = await _demo_agreement(hass)
    request = ids["police_request"]
    (content,) = [
        text
        for text in _strings(load_yaml_dict(DASHBOARD))
        if request in text and "{%" in text
    ]
    template = Template(content, hass)
    assert template.async_render(parse_result=False) == "No request from the police."

    until = dt_util.now().replace(hour=10, minute=12, second=0, microsecond=0)
    hass.states.async_set(
        request,
        "pending",
        {
            "officer": "Unit 12 Diaz",
            "link_label": "Dispatch",
            "reason": "Weapon reported near the gym",
            "expires_at": until.isoformat(),
        },
    )

    assert template.async_render(parse_result=False) == (
        '**Unit 12 Diaz** (link "Dispatch") asks to see the cameras: '
        "Weapon reported near the gym. Answer before 10:12."
    )


async def test_a_failed_camera_shows_offline_with_its_last_picture(
    hass: HomeAssistant,
) -> None:
    """The camera card names each failed camera and how old its last picture is."""
    ids = await _demo_agreement(hass)
    (content,) = [
        text
        for text in _strings(load_yaml_dict(DASHBOARD))
        if "OFFLINE" in text and "{%" in text
    ]
    template = Template(content, hass)
    assert template.async_render(parse_result=False) == (
        "Every shared camera gave a picture the last time it was watched."
    )

    gym, library = ids["camera:camera.gym"], ids["camera:camera.library"]
    last = dt_util.utcnow() - timedelta(minutes=3, seconds=5)
    hass.states.async_set(
        gym,
        "on",
        {
            "camera": "camera.gym",
            "status": "offline",
            "last_frame_at": last.isoformat(),
        },
    )
    hass.states.async_set(
        library,
        "on",
        {"camera": "camera.library", "status": "unavailable", "last_frame_at": None},
    )

    assert template.async_render(parse_result=False).splitlines() == [
        "**OFFLINE** · Gym · last picture 3 minutes ago",
        "**OFFLINE** · Library · no picture since Home Assistant started",
    ]
