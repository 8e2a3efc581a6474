"""The police viewer page in a real Chromium on a phone-sized screen.

Each test opens a real viewer link against Home Assistant's test server and
judges what an officer would see: moving pictures with small ages, STALE when
a camera stops, the end of the session, the waiting page, and the keyboard.
"""

from __future__ import annotations

import asyncio
import re
import time

from homeassistant.core import HomeAssistant
from playwright.async_api import Browser, Page, Request, expect
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.ha.common import (
    ENTRANCE,
    GYM,
    OUTSIDE,
    StillCamera,
    async_call,
    manager_of,
)
from tests.ha.viewing import Client, async_link

from .viewer_page import open_viewer, picture, snap, tile

pytestmark = pytest.mark.timeout(120)

AGE_TEXT = re.compile(r"^\d+\.\d s$")


async def test_live_tiles_show_moving_pictures_by_floor_with_their_age(
    hass: HomeAssistant, active: MockConfigEntry, client: Client, phone: Page
) -> None:
    """Cameras come grouped by floor, each live with a fresh, changing picture.

    The phone's clock is ten minutes fast: ages are measured on the server's.
    """
    await phone.clock.install(time=time.time() + 600)
    _link_id, path = await async_link(hass, active)
    await open_viewer(phone, client, path)
    assert 590 < await phone.evaluate("Date.now()") / 1000 - time.time() < 610
    await expect(phone.locator("body")).to_have_attribute("data-state", "active")

    floors = await phone.locator(".floor > summary").all_text_contents()
    assert floors == ["Ground floor (2)", "First floor (2)", "Other cameras (1)"]
    names = await phone.locator(".tile .name").all_text_contents()
    # By floor level, then by area: Front office before Gymnasium.
    assert names == ["Main entrance", "Gym", "Hallway B", "Library", "Parking lot"]
    assert await tile(phone, GYM).locator(".where").text_content() == "Gymnasium"
    header = phone.locator("header")
    await expect(header).to_contain_text("Lincoln High School")
    await expect(header).to_contain_text("Springfield Police Department")
    await expect(header).to_contain_text("Fire alarm, building B · Incident 24-0173")
    await expect(header).to_contain_text("Unit 12")
    await expect(phone.locator("#remaining")).to_have_text(
        re.compile(r"^(60:00|59:\d\d)$")
    )
    await expect(tile(phone, ENTRANCE).locator(".watermark")).to_have_text("Unit 12")

    await expect(tile(phone, ENTRANCE)).to_have_attribute("data-state", "live")
    first = await picture(phone, ENTRANCE)
    async with asyncio.timeout(20):  # stills are polled at 2 fps
        while (later := await picture(phone, ENTRANCE)).frames < first.frames + 2:
            await asyncio.sleep(0.2)
    assert later.state == "live"
    assert later.pixels != first.pixels
    assert later.age_ms is not None
    # Live, on the server's clock: the phone's, ten minutes fast, would say
    # 600 s; a live tile is younger than the 3 s after which it turns STALE.
    assert 0 <= later.age_ms <= 3000
    assert AGE_TEXT.match(later.age_text), later.age_text

    manifest = await phone.evaluate(
        """async () => {
            const link = document.querySelector('link[rel="manifest"]');
            const response = await fetch(link.href);
            return { status: response.status, body: await response.json() };
        }"""
    )
    assert manifest["status"] == 200
    assert manifest["body"]["start_url"] == path

    await snap(phone, "phone-live")
    await snap(phone, "phone-live-full-page", full_page=True)


async def test_dispatch_screen_streams_no_more_cameras_than_connections_allow(
    hass: HomeAssistant, active: MockConfigEntry, client: Client, browser: Browser
) -> None:
    """On a wide screen every camera is visible; HTTP/1.1 allows four streams."""
    _link_id, path = await async_link(hass, active, label="Dispatch desk 2")
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = await context.new_page()
        await open_viewer(page, client, path)
        for camera in (ENTRANCE, GYM):
            await expect(tile(page, camera)).to_have_attribute("data-state", "live")
        # Four of five on screen stream; the fifth says why it does not.
        await expect(page.locator("body")).to_have_attribute("data-streams", "4")
        paused = tile(page, OUTSIDE)
        await expect(paused).to_have_attribute("data-state", "paused")
        await expect(paused.locator(".placeholder")).to_contain_text("too many cameras")
        await asyncio.sleep(0.5)
        await snap(page, "dispatch-live")
    finally:
        await context.close()


async def test_stale_picture_is_unmistakable_and_clears_when_frames_return(
    hass: HomeAssistant,
    active: MockConfigEntry,
    cameras: dict[str, StillCamera],
    client: Client,
    phone: Page,
) -> None:
    """A camera that stops sending turns STALE within seconds, and live again.

    The phone's clock is an hour slow, which would make naive ages negative.
    """
    await phone.clock.install(time=time.time() - 3600)
    _link_id, path = await async_link(hass, active)
    await open_viewer(phone, client, path)
    entrance = tile(phone, ENTRANCE)
    await expect(entrance).to_have_attribute("data-state", "live")

    cameras["Main entrance"].failing = True
    stopped = time.monotonic()
    await expect(entrance).to_have_attribute("data-state", "stale")
    took = time.monotonic() - stopped
    # Not before its last frame (polled every 0.5 s) is 3 s old.
    assert took >= 2.0, f"STALE after {took:.1f} s"
    banner = entrance.locator(".banner")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text(re.compile(r"STALE · \d+\.\d s"))
    await expect(banner).to_contain_text("Not live")
    frame = entrance.locator(".frame")
    await expect(frame).to_have_css("border-top-color", "rgb(224, 0, 0)")
    await expect(frame.locator("canvas")).to_have_css(
        "filter", "grayscale(1) brightness(0.4)"
    )
    # The other cameras are untouched.
    await expect(tile(phone, GYM)).to_have_attribute("data-state", "live")
    await asyncio.sleep(1.2)  # let the age grow past 4 s for the picture
    await snap(phone, "phone-stale")

    cameras["Main entrance"].failing = False
    await expect(entrance).to_have_attribute("data-state", "live")
    await expect(banner).to_be_hidden()


async def test_unavailable_camera_says_so_and_comes_back_by_itself(
    hass: HomeAssistant,
    active: MockConfigEntry,
    cameras: dict[str, StillCamera],
    client: Client,
    phone: Page,
) -> None:
    """A camera refused with 503 shows OFFLINE and a retry; it returns unaided."""
    entrance_camera = cameras["Main entrance"]
    entrance_camera._attr_available = False
    entrance_camera.async_write_ha_state()
    _link_id, path = await async_link(hass, active)
    await open_viewer(phone, client, path)
    entrance = tile(phone, ENTRANCE)
    await expect(entrance).to_have_attribute("data-state", "offline")
    await expect(entrance.locator(".placeholder")).to_have_text(
        re.compile(r"^Camera unavailable · retrying in \d+ s$")
    )
    await expect(tile(phone, GYM)).to_have_attribute("data-state", "live")
    await snap(phone, "phone-offline")

    entrance_camera._attr_available = True
    entrance_camera.async_write_ha_state()
    # The server asks for 5 s between attempts (Retry-After).
    await expect(entrance).to_have_attribute("data-state", "live", timeout=30_000)


async def test_session_end_shows_on_page_and_stops_every_stream(
    hass: HomeAssistant, active: MockConfigEntry, client: Client, phone: Page
) -> None:
    """Ending the session empties the page, says so, and closes every connection."""
    _link_id, path = await async_link(hass, active)
    await open_viewer(phone, client, path)
    await expect(tile(phone, ENTRANCE)).to_have_attribute("data-state", "live")
    manager = manager_of(active)
    assert manager.active_viewers() != []

    requests: list[tuple[float, str]] = []

    def on_request(request: Request) -> None:
        requests.append((time.monotonic(), request.url))

    phone.on("request", on_request)
    await async_call(hass, "deactivate", active, reason="All clear")
    # How fast is the benchmark's to measure; here: it happens, and stays so.
    await expect(phone.locator("body")).to_have_attribute("data-state", "ended")
    await expect(phone.locator("#notice-title")).to_have_text("Sharing has ended")
    await expect(phone.locator("#status")).to_have_text("Sharing has ended")
    await expect(phone.locator("canvas:visible")).to_have_count(0)
    await expect(phone.locator("body")).to_have_attribute("data-streams", "0")

    async with asyncio.timeout(20):
        while manager.active_viewers():
            await asyncio.sleep(0.05)
    await asyncio.sleep(2)  # long enough for a retrying stream to come back
    assert manager.active_viewers() == []
    streams_asked = [
        url
        for _at, url in requests
        if "/mjpeg/" in url or "/mp4/" in url or url.endswith("/events")
    ]
    assert streams_asked == []
    await snap(phone, "phone-ended")


async def test_standing_link_outside_a_session_shows_the_waiting_message(
    hass: HomeAssistant, entry: MockConfigEntry, client: Client, phone: Page
) -> None:
    """A standing link between emergencies opens a styled page that waits."""
    _link_id, path = await async_link(hass, entry, label="Patrol car 7", standing=True)
    response = await open_viewer(phone, client, path)
    assert response.status == 403
    await expect(phone.locator("body")).to_have_attribute("data-state", "idle")
    await expect(phone.locator("#idle")).to_contain_text(
        "No emergency sharing is active"
    )
    await expect(phone.get_by_role("status").first).to_contain_text(
        "Waiting for the school"
    )
    await expect(phone.locator("body")).to_have_css("background-color", "rgb(0, 0, 0)")
    await snap(phone, "phone-waiting")


async def test_keyboard_opens_a_camera_full_screen_and_escape_returns(
    hass: HomeAssistant, active: MockConfigEntry, client: Client, phone: Page
) -> None:
    """Tab reaches a tile, Enter opens it full screen, Escape and Back return."""
    _link_id, path = await async_link(hass, active)
    await open_viewer(phone, client, path)
    entrance = tile(phone, ENTRANCE)
    await expect(entrance).to_have_attribute("data-state", "live")

    # The floor's heading comes first: it folds the floor from the keyboard.
    await phone.keyboard.press("Tab")
    await expect(phone.locator(".floor > summary").first).to_be_focused()
    await phone.keyboard.press("Tab")
    await expect(entrance).to_be_focused()
    await expect(entrance).to_have_css("outline-style", "solid")
    await expect(entrance).to_have_accessible_name(
        "Main entrance, Front office. Open full screen."
    )

    await phone.keyboard.press("Enter")
    dialog = phone.locator("dialog#full")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_have_accessible_name("Main entrance")
    await expect(phone.locator("#back")).to_be_focused()
    await expect(dialog).to_have_attribute("data-state", "live")
    await expect(dialog.locator(".where")).to_have_text("Front office · Ground floor")
    # Only the camera in front of the officer streams.
    await expect(phone.locator("body")).to_have_attribute("data-streams", "1")
    await snap(phone, "phone-full-screen")

    await phone.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(entrance).to_be_focused()

    # Space opens it too; the phone's back button closes it.
    await phone.keyboard.press("Space")
    await expect(dialog).to_be_visible()
    await phone.go_back()
    await expect(dialog).to_be_hidden()
    await expect(entrance).to_be_focused()
    await expect(phone.locator("body")).to_have_attribute("data-state", "active")


async def test_a_failed_camera_says_offline_and_how_old_its_last_picture_is(
    hass: HomeAssistant,
    active: MockConfigEntry,
    cameras: dict[str, StillCamera],
    client: Client,
    phone: Page,
) -> None:
    """Stale first; once the server gives up on the camera, OFFLINE; then live."""
    _link_id, path = await async_link(hass, active)
    await open_viewer(phone, client, path)
    entrance = tile(phone, ENTRANCE)
    await expect(entrance).to_have_attribute("data-state", "live")

    cameras["Main entrance"].failing = True
    await expect(entrance).to_have_attribute("data-state", "stale")
    # The server declares it offline after 10 s without a picture.
    badge = entrance.locator(".badge")
    await expect(badge).to_have_text("OFFLINE", timeout=20_000)
    banner = entrance.locator(".banner")
    await expect(banner).to_contain_text("OFFLINE")
    await expect(banner).to_contain_text(re.compile(r"Last picture \d+ s ago"))
    await expect(banner).to_contain_text("Camera offline")
    await snap(phone, "phone-camera-offline")

    cameras["Main entrance"].failing = False
    await expect(entrance).to_have_attribute("data-state", "live", timeout=30_000)
    await expect(badge).to_have_text("LIVE")
