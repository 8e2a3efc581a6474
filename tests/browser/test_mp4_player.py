"""The player in a real Chromium: H.264 through Media Source Extensions, or MJPEG.

Debian's Chromium plays H.264 (`MediaSource.isTypeSupported` says so for the
camera's `avc1` codec, and its decoder presents the frames), so these tests
watch real playback: the page fetches `/mp4`, appends the init segment and
then fragments to a SourceBuffer, the video presents frames, and the tile
shows each picture's age from the capture time sent with its fragment. A
browser that cannot play H.264 is stood for by stubbing `isTypeSupported`:
that page must fetch `/mjpeg` only and show the camera all the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import re
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from playwright.async_api import Page, Request, expect
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from testbed.cameras import H264HttpCamera, MjpegCamera, Picture
from tests.ha.common import async_call, async_setup_agreement
from tests.ha.viewing import (
    Client,
    StreamCamera,
    async_link,
    async_setup_stream_cameras,
)

from .viewer_page import open_viewer, snap, tile

pytestmark = pytest.mark.timeout(120)

HALL = "camera.hall_h264"
GYM = "camera.gym_mjpeg"

# Counts what the page hands its SourceBuffers, before the page's own script.
RECORD_APPENDS = """
window.__appends = [];
const append = SourceBuffer.prototype.appendBuffer;
SourceBuffer.prototype.appendBuffer = function (data) {
  const bytes = ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
  window.__appends.push({
    size: bytes.length,
    head: String.fromCharCode(...bytes.subarray(4, 8)),
  });
  return append.call(this, data);
};
"""
NO_H264 = """
MediaSource.isTypeSupported = () => false;
if (window.ManagedMediaSource) ManagedMediaSource.isTypeSupported = () => false;
"""


@pytest.fixture
async def h264() -> AsyncGenerator[H264HttpCamera]:
    """A 640x360 H.264 camera at 10 fps, a keyframe a second."""
    picture = Picture(size="640x360", fps=10, keyframe_interval=1, clock=True)
    async with H264HttpCamera(picture, respawn=True) as camera:
        yield camera


@pytest.fixture
async def mjpeg() -> AsyncGenerator[MjpegCamera]:
    """An MJPEG camera behind an entity that says it streams video."""
    async with MjpegCamera(Picture(fps=10)) as camera:
        yield camera


@pytest.fixture
async def cameras(
    hass: HomeAssistant,
    socket_enabled: None,
    h264: H264HttpCamera,
    mjpeg: MjpegCamera,
) -> dict[str, StreamCamera]:
    """Replaces the still cameras of `conftest`: two streaming ones."""
    return await async_setup_stream_cameras(
        hass, {"Hall H264": h264.stream_url, "Gym MJPEG": mjpeg.stream_url}
    )


@pytest.fixture
async def entry(hass: HomeAssistant, client: Client) -> AsyncGenerator[MockConfigEntry]:
    """An agreement over both cameras (replaces `conftest`'s)."""
    assert await async_setup_component(hass, "school_emergency_share", {})
    entry = await async_setup_agreement(hass, cameras=[HALL, GYM], private_cameras=[])
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def stream_requests(page: Page) -> list[str]:
    """The stream paths the page asks for, as it asks."""
    asked: list[str] = []

    def on_request(request: Request) -> None:
        if match := re.search(r"/(mp4|mjpeg)/(camera\.\w+)$", request.url):
            asked.append(f"{match.group(1)} {match.group(2)}")

    page.on("request", on_request)
    return asked


async def playback(page: Page, camera: str) -> dict[str, Any]:
    """What the tile's video element has decoded and shows."""
    result: dict[str, Any] = await tile(page, camera).evaluate(
        """(tile) => {
            const video = tile.querySelector("video");
            if (!video) return { video: false };
            const canvas = document.createElement("canvas");
            canvas.width = 160;
            canvas.height = 90;
            canvas.getContext("2d").drawImage(video, 0, 0, 160, 90);
            return {
                video: true,
                width: video.videoWidth,
                height: video.videoHeight,
                decoded: video.getVideoPlaybackQuality().totalVideoFrames,
                lag: video.buffered.length
                    ? video.buffered.end(video.buffered.length - 1) - video.currentTime
                    : null,
                pixels: canvas.toDataURL("image/jpeg", 0.6),
                src: video.src.slice(0, 5),
            };
        }"""
    )
    return result


async def test_an_h264_camera_plays_through_media_source_with_its_age(
    hass: HomeAssistant, active: MockConfigEntry, client: Client, phone: Page
) -> None:
    """MSE in the real browser: fetched, appended, decoded, shown, dated."""
    await phone.add_init_script(RECORD_APPENDS)
    asked = stream_requests(phone)
    _link_id, path = await async_link(hass, active)
    await open_viewer(phone, client, path)
    hall = tile(phone, HALL)
    await expect(hall).to_have_attribute("data-player", "mp4")
    await expect(hall).to_have_attribute("data-state", "live")
    codec = await phone.evaluate(
        """async (url) => {
            const response = await fetch(url);
            const reader = response.body.getReader();
            const { value } = await reader.read();
            reader.cancel();
            return String.fromCharCode(...value.subarray(4, 8));
        }""",
        f"{path}/mp4/{HALL}",
    )
    assert codec == "ftyp"  # the init segment comes first on the wire too

    first = await playback(phone, HALL)
    async with asyncio.timeout(20):
        while (later := await playback(phone, HALL))["decoded"] < first["decoded"] + 10:
            await asyncio.sleep(0.2)
    assert later["video"]
    assert (later["width"], later["height"]) == (640, 360)
    assert later["src"] == "blob:"
    assert later["pixels"] != first["pixels"]  # the clock burned in moves
    assert later["lag"] is not None
    assert later["lag"] < 1.0  # kept at the live edge
    frames = int(await hall.get_attribute("data-frames") or 0)
    assert frames >= 10
    age = int(await hall.get_attribute("data-age") or -1)
    assert 0 <= age <= 3000
    await expect(hall.locator(".age")).to_have_text(re.compile(r"^\d+\.\d s$"))

    appends = await phone.evaluate("window.__appends")
    assert appends[0]["head"] == "ftyp"  # init segment first…
    assert {a["head"] for a in appends[1:]} == {"moof"}  # …then fragments
    assert f"mp4 {HALL}" in asked
    assert f"mjpeg {HALL}" not in asked
    await snap(phone, "phone-mp4-live")


async def test_the_mp4_picture_turns_stale_when_the_camera_stops(
    hass: HomeAssistant,
    active: MockConfigEntry,
    client: Client,
    phone: Page,
    h264: H264HttpCamera,
) -> None:
    """No new video for 3 s: dimmed, whatever the player; a dead camera: OFFLINE."""
    _link_id, path = await async_link(hass, active)
    await open_viewer(phone, client, path)
    hall = tile(phone, HALL)
    await expect(hall).to_have_attribute("data-player", "mp4")
    await expect(hall).to_have_attribute("data-state", "live")
    await h264.kill()
    stopped = time.monotonic()
    await expect(hall).to_have_attribute("data-state", "stale")
    assert time.monotonic() - stopped >= 2.0  # not before its last picture aged
    # The camera's process is gone: the server says so at once, and the page
    # says how old the picture on screen is.
    await expect(hall.locator(".banner")).to_contain_text("OFFLINE")
    await expect(hall.locator(".banner")).to_contain_text("Last picture")
    await expect(hall.locator("video")).to_have_css(
        "filter", "grayscale(1) brightness(0.4)"
    )
    await snap(phone, "phone-mp4-stale")


async def test_a_browser_without_h264_gets_mjpeg(
    hass: HomeAssistant, active: MockConfigEntry, client: Client, phone: Page
) -> None:
    """`isTypeSupported` says no: the page never asks for /mp4, and still shows it."""
    await phone.add_init_script(NO_H264)
    asked = stream_requests(phone)
    _link_id, path = await async_link(hass, active)
    await open_viewer(phone, client, path)
    hall = tile(phone, HALL)
    await expect(hall).to_have_attribute("data-player", "mjpeg")
    await expect(hall).to_have_attribute("data-state", "live")
    async with asyncio.timeout(20):
        while int(await hall.get_attribute("data-frames") or 0) < 5:
            await asyncio.sleep(0.2)
    assert await hall.locator("video").count() == 0
    assert not [a for a in asked if a.startswith("mp4")]


async def test_a_camera_that_cannot_give_mp4_falls_back_to_mjpeg(
    hass: HomeAssistant, active: MockConfigEntry, client: Client, phone: Page
) -> None:
    """Offered MP4 that turns out not to be H.264: MJPEG for that camera."""
    asked = stream_requests(phone)
    _link_id, path = await async_link(hass, active)
    await open_viewer(phone, client, path)
    gym = tile(phone, GYM)
    await expect(gym).to_have_attribute("data-player", "mjpeg")
    await expect(gym).to_have_attribute("data-state", "live")
    await expect(tile(phone, HALL)).to_have_attribute("data-player", "mp4")
    assert asked.index(f"mp4 {GYM}") < asked.index(f"mjpeg {GYM}")


async def test_full_screen_keeps_playing_the_same_video(
    hass: HomeAssistant, active: MockConfigEntry, client: Client, phone: Page
) -> None:
    """Opening a camera full screen moves its video; it keeps playing, one stream."""
    _link_id, path = await async_link(hass, active)
    await open_viewer(phone, client, path)
    hall = tile(phone, HALL)
    await expect(hall).to_have_attribute("data-state", "live")
    await hall.click()
    dialog = phone.locator("dialog#full")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("video")).to_have_count(1)
    await expect(phone.locator("body")).to_have_attribute("data-streams", "1")
    before = int(await hall.get_attribute("data-frames") or 0)
    async with asyncio.timeout(20):
        while int(await hall.get_attribute("data-frames") or 0) < before + 10:
            await asyncio.sleep(0.2)
    await expect(dialog).to_have_attribute("data-state", "live")
    await snap(phone, "phone-mp4-full-screen")
    await phone.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(hall.locator("video")).to_have_count(1)
    await expect(hall).to_have_attribute("data-state", "live")


async def test_session_end_stops_the_mp4_stream(
    hass: HomeAssistant, active: MockConfigEntry, client: Client, phone: Page
) -> None:
    """Ending the session closes /mp4 too, and the page asks for no more."""
    _link_id, path = await async_link(hass, active)
    await open_viewer(phone, client, path)
    await expect(tile(phone, HALL)).to_have_attribute("data-player", "mp4")
    asked = stream_requests(phone)
    await async_call(hass, "deactivate", active, reason="All clear")
    await expect(phone.locator("body")).to_have_attribute("data-state", "ended")
    await expect(phone.locator("video")).to_have_count(0)
    await expect(phone.locator("body")).to_have_attribute("data-streams", "0")
    await asyncio.sleep(2)
    assert asked == []
