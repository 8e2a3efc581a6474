"""A police viewer's side: every status code, header and closing rule of the links.

The link is the only credential. These tests attack it: malformed, unknown,
revoked and expired links; links used outside a session or beyond their scope;
brute force from one address; junk paths.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import json
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest

from custom_components.school_emergency_share.const import URL_PREFIX

from .common import (
    ENTRANCE,
    GYM,
    HALLWAY,
    LIBRARY,
    LOCKER_ROOM,
    OPERATOR_ID,
    StillCamera,
    async_call,
    async_setup_agreement,
    events_named,
    manager_of,
)
from .viewing import Client, async_link, get, read_parts, token_of, wait_closed

GYM_SWITCH = "switch.lincoln_high_school_springfield_police_department_share_gym"
SECURITY = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def assert_secure(response: Any) -> None:
    """Every viewer response carries the security headers."""
    for header, value in SECURITY.items():
        assert response.headers.get(header) == value, (header, response.status)


@pytest.fixture
async def active(hass: HomeAssistant, cameras: dict[str, StillCamera]) -> Any:
    """An agreement with an active session."""
    entry = await async_setup_agreement(hass)
    await async_call(hass, "activate", entry, reason="Fire alarm, building B")
    return entry


async def test_link_opens_page_and_cameras_json_with_security_headers(
    hass: HomeAssistant, active: Any, client: Client
) -> None:
    """A session link shows the page and the cameras grouped by floor and area."""
    _link_id, path = await async_link(hass, active)
    page = await get(client, path)
    assert page.status == 200
    assert page.content_type == "text/html"
    assert_secure(page)
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]

    listing = await get(client, path + "/cameras.json")
    assert listing.status == 200
    assert_secure(listing)
    body = await listing.json()
    session = body["session"]
    assert session["school"] == "Lincoln High School"
    assert session["agency"] == "Springfield Police Department"
    assert session["reason"] == "Fire alarm, building B"
    assert session["link"]["label"] == "Unit 12"
    by_id = {camera["id"]: camera for camera in body["cameras"]}
    assert set(by_id) == {ENTRANCE, GYM, LIBRARY, HALLWAY}
    library = by_id[LIBRARY]
    assert library["name"] == "Library"
    assert library["area"] == "Library"
    assert library["floor"] == "First floor"
    assert library["mjpeg"] == f"{path}/mjpeg/{LIBRARY}"
    assert library["snapshot"] == f"{path}/snapshot/{LIBRARY}"
    assert library["status"] in {"idle", "connecting", "live"}
    assert LOCKER_ROOM not in by_id


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "A" * 31,
        "A" * 33,
        "%00" * 11,
        "Z" * 32,
        "😀" * 8,
    ],
)
async def test_bad_links_get_401_and_count_as_failures(
    hass: HomeAssistant, active: Any, client: Client, token: str
) -> None:
    """Malformed and unknown links are refused with 401, never a 5xx."""
    for suffix in ("", "/cameras.json", f"/mjpeg/{GYM}", f"/snapshot/{GYM}", "/events"):
        response = await get(client, f"{URL_PREFIX}/{token}{suffix}")
        assert response.status == 401, (token, suffix, response.status)
        assert_secure(response)
    assert (
        hass.data["school_emergency_share"].failures.is_locked(
            "127.0.0.1", dt_util.utcnow()
        )
        is False
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    denied = events_named(active, "access_denied")
    assert denied
    assert all(token not in json.dumps(record) for record in denied)


async def test_revoked_link_gets_401(
    hass: HomeAssistant, active: Any, client: Client
) -> None:
    """After revocation the link opens nothing."""
    link_id, path = await async_link(hass, active)
    assert (await get(client, path + "/cameras.json")).status == 200
    await async_call(hass, "revoke_viewer_link", active, link_id=link_id)
    response = await get(client, path + "/cameras.json")
    assert response.status == 401
    assert (await response.json()) == {"error": "revoked_link"}


async def test_session_link_expires_with_its_session(
    hass: HomeAssistant, active: Any, client: Client
) -> None:
    """A session link is dead once its session ends, even when a new one starts."""
    _link_id, path = await async_link(hass, active)
    await async_call(hass, "deactivate", active, reason="All clear")
    assert (await get(client, path + "/cameras.json")).status == 401
    await async_call(hass, "activate", active, reason="Second alarm")
    assert (await get(client, path + "/cameras.json")).status == 401


async def test_link_with_own_expiry_stops_at_it(
    hass: HomeAssistant,
    active: Any,
    client: Client,
    freezer: FrozenDateTimeFactory,
) -> None:
    """`minutes` makes a link expire before the session does."""
    _link_id, path = await async_link(hass, active, minutes=5)
    assert (await get(client, path + "/cameras.json")).status == 200
    freezer.tick(timedelta(minutes=5, seconds=1))
    assert (await get(client, path + "/cameras.json")).status == 401


async def test_standing_link_opens_only_during_a_session(
    hass: HomeAssistant, cameras: dict[str, StillCamera], client: Client
) -> None:
    """Issued in advance: 403 between sessions, 200 during one.

    Between sessions the page itself still comes (as a 403): it waits for the
    next session and offers to ask for one.
    """
    entry = await async_setup_agreement(hass)
    _link_id, path = await async_link(hass, entry, label="Dispatch desk", standing=True)
    page = await get(client, path)
    assert page.status == 403
    assert_secure(page)
    text = await page.text()
    assert "No emergency sharing is active" in text
    assert "Request camera access" in text
    assert (await get(client, path + "/cameras.json")).status == 403
    assert (await get(client, path + f"/mjpeg/{GYM}")).status == 403
    manifest = await get(client, path + "/manifest.webmanifest")
    assert manifest.status == 200
    assert (await manifest.json())["start_url"] == path

    await async_call(hass, "activate", entry, reason="Panic button")
    assert (await get(client, path + "/cameras.json")).status == 200
    await async_call(hass, "deactivate", entry)
    assert (await get(client, path + "/cameras.json")).status == 403


async def test_scope_unknown_routes_and_cameras(
    hass: HomeAssistant, active: Any, client: Client
) -> None:
    """403 outside the link's cameras, 404 for unknown cameras and routes."""
    _link_id, path = await async_link(hass, active, cameras=[LIBRARY])
    body = await (await get(client, path + "/cameras.json")).json()
    assert [camera["id"] for camera in body["cameras"]] == [LIBRARY]
    for response, status in [
        (await get(client, f"{path}/snapshot/{GYM}"), 403),
        (await get(client, f"{path}/mjpeg/{GYM}"), 403),
        (await get(client, f"{path}/mjpeg/camera.nowhere"), 404),
        (await get(client, f"{path}/mjpeg/{LOCKER_ROOM}"), 404),
        (await get(client, f"{path}/nothing/here"), 404),
        (await get(client, f"{path}/cameras.json/extra"), 404),
    ]:
        assert response.status == status, (response.url, response.status)
        assert_secure(response)


async def test_private_camera_cannot_be_put_in_a_link(
    hass: HomeAssistant, active: Any
) -> None:
    """Private cameras never appear in a link's scope, whatever is asked."""
    with pytest.raises(Exception) as caught:
        await async_link(hass, active, cameras=[LOCKER_ROOM])
    assert getattr(caught.value, "translation_key", None) == "camera_private"


async def test_snapshot_is_a_jpeg(
    hass: HomeAssistant, active: Any, client: Client
) -> None:
    """A snapshot is the camera's current JPEG, with its capture time."""
    _link_id, path = await async_link(hass, active)
    response = await get(client, f"{path}/snapshot/{GYM}")
    assert response.status == 200
    assert response.content_type == "image/jpeg"
    assert (await response.read())[:2] == b"\xff\xd8"
    assert int(response.headers["X-Capture-Time"]) > 0
    assert_secure(response)


async def test_unavailable_camera_gets_503(
    hass: HomeAssistant, active: Any, client: Client
) -> None:
    """A camera Home Assistant reports unavailable is a 503, not a hang."""
    _link_id, path = await async_link(hass, active)
    hass.states.async_set(GYM, "unavailable")
    for suffix in (f"/mjpeg/{GYM}", f"/snapshot/{GYM}"):
        response = await get(client, path + suffix)
        assert response.status == 503
        assert_secure(response)


async def test_mjpeg_stream_carries_capture_time_of_each_frame(
    hass: HomeAssistant, active: Any, client: Client
) -> None:
    """Every part says when its frame was captured, so staleness can be shown."""
    _link_id, path = await async_link(hass, active)
    response = await client.get(f"{path}/mjpeg/{GYM}")
    assert response.status == 200
    assert response.content_type == "multipart/x-mixed-replace"
    assert_secure(response)
    parts = await read_parts(response, 2)
    now_ms = dt_util.utcnow().timestamp() * 1000
    for part in parts:
        assert part.jpeg[:2] == b"\xff\xd8"
        assert abs(now_ms - part.capture_ms) < 10_000
    response.close()


@pytest.mark.parametrize(
    "end",
    ["revoke_one", "revoke_all", "deactivate", "camera_switch_off", "options_shrink"],
)
async def test_open_stream_closes_when_access_ends(
    hass: HomeAssistant, active: Any, client: Client, end: str
) -> None:
    """Revocation, session end and scope changes close open streams at once.

    How fast is the benchmark's to measure (all streams closed within 0.5 s of
    `deactivate`); here the stream must end, and for this reason, on a box
    that may be busy with other work.
    """
    link_id, path = await async_link(hass, active)
    response = await client.get(f"{path}/mjpeg/{GYM}")
    await read_parts(response, 1)
    assert manager_of(active).active_viewers()

    if end == "revoke_one":
        await async_call(hass, "revoke_viewer_link", active, link_id=link_id)
    elif end == "revoke_all":
        await async_call(hass, "revoke_viewer_link", active)
    elif end == "deactivate":
        await async_call(hass, "deactivate", active, reason="All clear")
    elif end == "camera_switch_off":
        await hass.services.async_call(
            "switch",
            "turn_off",
            {"entity_id": GYM_SWITCH},
            blocking=True,
            context=Context(user_id=OPERATOR_ID),
        )
    else:
        options = dict(active.options)
        options["cameras"] = [c for c in options["cameras"] if c != GYM]
        hass.config_entries.async_update_entry(active, options=options)

    await wait_closed(response, timeout=10.0)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert manager_of(active).active_viewers() == []
    ended = events_named(active, "view_ended")
    assert ended
    assert ended[-1]["data"]["camera"] == GYM


async def test_stream_closes_at_the_deadline(
    hass: HomeAssistant, active: Any, client: Client
) -> None:
    """When the deadline timer fires, open streams close.

    The timer is fired directly: firing every due loop timer (as
    `async_fire_time_changed` does) would also fire the HTTP client's own.
    """
    _link_id, path = await async_link(hass, active)
    response = await client.get(f"{path}/mjpeg/{GYM}")
    await read_parts(response, 1)
    manager = manager_of(active)
    assert manager.session is not None
    manager._deadline.cancel()  # rung here instead of by the clock
    manager._deadline._fire(manager.session.expires_at)
    await wait_closed(response, timeout=10.0)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert events_named(active, "session_ended")[-1]["data"]["end_reason"] == "deadline"


async def test_events_stream_reports_status_and_closes_when_session_ends(
    hass: HomeAssistant, active: Any, client: Client
) -> None:
    """`/events` sends the session status and an `ended` event, then closes."""
    _link_id, path = await async_link(hass, active)
    response = await client.get(f"{path}/events")
    assert response.status == 200
    assert response.content_type == "text/event-stream"
    assert_secure(response)
    first = await asyncio.wait_for(response.content.readuntil(b"\n\n"), 5)
    assert first.startswith(b"event: status\ndata: ")
    status = json.loads(first.split(b"data: ", 1)[1])
    assert status["session"]["agency"] == "Springfield Police Department"

    await async_call(hass, "deactivate", active)
    rest = b""
    async with asyncio.timeout(10.0):
        while chunk := await response.content.readany():
            rest += chunk
    assert b"event: ended" in rest


async def test_viewer_cap_refuses_one_viewer_too_many(
    hass: HomeAssistant, cameras: dict[str, StillCamera], client: Client
) -> None:
    """With a cap of 2 viewers, a third link watching is refused (429)."""
    entry = await async_setup_agreement(hass, max_viewers=2)
    await async_call(hass, "activate", entry, reason="Drill")
    streams = []
    for label in ("Unit 1", "Unit 2"):
        _link_id, path = await async_link(hass, entry, label=label)
        response = await client.get(f"{path}/mjpeg/{GYM}")
        assert response.status == 200
        streams.append(response)
    # The same viewer may open a second camera.
    again = await client.get(f"{path}/mjpeg/{LIBRARY}")
    assert again.status == 200
    streams.append(again)
    _link_id, third = await async_link(hass, entry, label="Unit 3")
    refused = await get(client, f"{third}/mjpeg/{GYM}")
    assert refused.status == 429
    assert_secure(refused)
    state = hass.states.get(
        "sensor.lincoln_high_school_springfield_police_department_active_viewers"
    )
    assert state is not None
    assert state.state == "2"
    labels = sorted(viewer["label"] for viewer in state.attributes["viewers"])
    assert labels == ["Unit 1", "Unit 2"]
    for response in streams:
        response.close()


async def test_brute_force_ends_in_429_and_a_lockout_record(
    hass: HomeAssistant, active: Any, client: Client
) -> None:
    """20 bad links from one address lock its guesses out; its valid link works."""
    _link_id, path = await async_link(hass, active)
    for attempt in range(20):
        response = await get(client, f"{URL_PREFIX}/{'B' * 31}{attempt % 10}")
        assert response.status == 401
    locked = await get(client, f"{URL_PREFIX}/{'B' * 32}")
    assert locked.status == 429
    assert_secure(locked)
    assert int(locked.headers["Retry-After"]) > 0
    # Police share carrier NAT with the public: a valid link is never refused.
    assert (await get(client, path + "/cameras.json")).status == 200
    await hass.async_block_till_done(wait_background_tasks=True)
    lockouts = events_named(active, "lockout")
    assert len(lockouts) == 1
    assert lockouts[0]["data"]["address"] == "127.0.0.1"


@pytest.fixture
async def behind_proxy(hass: HomeAssistant) -> None:
    """Home Assistant configured behind a reverse proxy on 127.0.0.1."""
    assert await async_setup_component(
        hass,
        "http",
        {"http": {"use_x_forwarded_for": True, "trusted_proxies": ["127.0.0.1"]}},
    )


async def test_lockout_honours_only_trusted_proxies(
    hass: HomeAssistant,
    behind_proxy: None,
    cameras: dict[str, StillCamera],
    client: Client,
) -> None:
    """Behind a trusted proxy each client address is counted on its own."""
    entry = await async_setup_agreement(hass, failure_limit=3)
    await async_call(hass, "activate", entry, reason="Drill")
    _link_id, path = await async_link(hass, entry)
    attacker = {"X-Forwarded-For": "203.0.113.9"}
    officer = {"X-Forwarded-For": "198.51.100.7"}
    guess = f"{URL_PREFIX}/{'C' * 32}"
    for _ in range(3):
        assert (await get(client, guess, headers=attacker)).status == 401
    assert (await get(client, guess, headers=attacker)).status == 429
    assert (await get(client, guess, headers=officer)).status == 401
    assert (await get(client, path + "/cameras.json", headers=officer)).status == 200


async def test_forwarded_header_is_ignored_without_trusted_proxy(
    hass: HomeAssistant, active: Any, client: Client
) -> None:
    """An invented X-Forwarded-For gets nowhere: not a new address, not a frame."""
    _link_id, path = await async_link(hass, active)
    forged = {"X-Forwarded-For": "10.0.0.1"}
    assert (await get(client, path + "/cameras.json", headers=forged)).status == 400
    for _attempt in range(20):
        assert (await get(client, f"{URL_PREFIX}/{'D' * 32}")).status == 401
    assert (await get(client, path + "/cameras.json", headers=forged)).status == 400
    assert (await get(client, f"{URL_PREFIX}/{'D' * 32}")).status == 429
    assert (await get(client, path + "/cameras.json")).status == 200


async def test_revoked_link_retries_do_not_lock_out_an_address(
    hass: HomeAssistant, active: Any, client: Client
) -> None:
    """A revoked link is not a guess: a dispatch centre keeps its access."""
    link_id, old = await async_link(hass, active, label="Old tab")
    await async_call(hass, "revoke_viewer_link", active, link_id=link_id)
    for _ in range(30):
        assert (await get(client, old + "/cameras.json")).status == 401
    _link_id, path = await async_link(hass, active, label="Desk 2")
    assert (await get(client, path + "/cameras.json")).status == 200


async def test_link_url_uses_external_url(hass: HomeAssistant, active: Any) -> None:
    """With an external URL set, links are absolute URLs an officer can open."""
    await hass.config.async_update(external_url="https://school.example.org")
    response = await async_call(hass, "create_viewer_link", active, label="Unit 7")
    assert response is not None
    assert str(response["url"]).startswith(f"https://school.example.org{URL_PREFIX}/")


async def test_tokens_are_never_stored_logged_or_audited(
    hass: HomeAssistant,
    active: Any,
    client: Client,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Only a digest of a token is kept; logs and the audit log never hold it."""
    caplog.set_level(logging.DEBUG)
    _link_id, path = await async_link(hass, active)
    token = token_of(path)
    await get(client, path + "/cameras.json")
    await get(client, path + "/nope")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert token not in json.dumps(hass_storage)
    # aiohttp's access log (silenced by Home Assistant) is the web server's own.
    ours = [r for r in caplog.records if r.name != "aiohttp.access"]
    assert ours
    assert all(token not in r.getMessage() for r in ours)
    assert token not in manager_of(active).audit.path.read_text()


async def test_only_permitted_users_create_or_revoke_links(
    hass: HomeAssistant, cameras: dict[str, StillCamera], hass_read_only_user: Any
) -> None:
    """Creating and revoking links is for the agreement's users and automations."""
    entry = await async_setup_agreement(hass)
    await async_call(hass, "activate", entry, reason="Drill")
    stranger = Context(user_id=hass_read_only_user.id)
    for service, data in (
        ("create_viewer_link", {"label": "Me"}),
        ("revoke_viewer_link", {}),
    ):
        with pytest.raises(Exception) as caught:
            await async_call(hass, service, entry, stranger, **data)
        assert getattr(caught.value, "translation_key", None) == "user_not_permitted"


async def test_links_survive_reload(
    hass: HomeAssistant, cameras: dict[str, StillCamera], client: Client
) -> None:
    """A standing link issued before a reload works in the next session."""
    entry = await async_setup_agreement(hass)
    _link_id, path = await async_link(hass, entry, label="Dispatch", standing=True)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_call(hass, "activate", entry, reason="After reload")
    assert (await get(client, path + "/cameras.json")).status == 200


JUNK = [
    "/api/school_emergency_share/view",
    "/api/school_emergency_share/view/",
    "/api/school_emergency_share/view//cameras.json",
    "/api/school_emergency_share/view/%2e%2e/%2e%2e/config",
    "/api/school_emergency_share/view/" + "a" * 5000,
    "/api/school_emergency_share/view/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/mjpeg/%00",
    "/api/school_emergency_share/view/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/snapshot/camera.gym?x=%ff",
    "/api/school_emergency_share/static/../manifest.json",
    "/api/school_emergency_share/static/nope.js",
]


@pytest.mark.parametrize("path", JUNK)
async def test_junk_never_yields_a_server_error(
    hass: HomeAssistant, active: Any, client: Client, path: str
) -> None:
    """Whatever a client sends, the answer is a 4xx, never a 5xx or a frame."""
    response = await get(client, path)
    assert 400 <= response.status < 500, (path, response.status)
    assert response.content_type != "multipart/x-mixed-replace"
