"""Privacy masks: what a viewer gets through every path is masked, the rest intact.

Every camera shows the same known picture (`tests.media.scenes`): its left
half a fine checkerboard, its right half flat grey. The agreement masks the
left half of some cameras; the tests read the pictures a police viewer gets
(the MJPEG stream, a snapshot) from each way a camera is read (its MJPEG
stream through ffmpeg, its stills polled, its H.264 decoded) and find the
left half black or blurred and the right half the grey it was, while an
unmasked camera's left half keeps its checkerboard.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from homeassistant.components.camera import Camera, CameraEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.school_emergency_share import camera_streams
from custom_components.school_emergency_share.const import DOMAIN
from custom_components.school_emergency_share.core.masks import (
    Mask,
    masks_as_options,
)
from testbed.cameras import H264HttpCamera, MjpegCamera, Picture
from tests.media.scenes import (
    LEFT_HALF_BLACK,
    LEFT_HALF_BLURRED,
    is_black,
    is_blurred,
    is_open_grey,
    masked_half,
    scene,
)

from .common import (
    async_call,
    async_setup_agreement,
    async_setup_camera_platform,
    events_named,
)
from .test_streaming import read_mp4
from .viewing import Client, async_link, read_parts, wait_closed

pytestmark = pytest.mark.timeout(120)

CORRIDOR = "camera.corridor"  # MJPEG stream, black mask
NURSE = "camera.nurse_door"  # stills only, blurred mask
STAIRS = "camera.stairs"  # H.264, black mask
GYM = "camera.gym"  # MJPEG stream, no mask
HALL = "camera.hall"  # H.264, no mask (until a test adds one)


class SceneCamera(Camera):
    """A camera: an MJPEG or H.264 stream, or stills of the known picture."""

    def __init__(self, name: str, url: str | None, *, video: bool = False) -> None:
        """A camera called `name`; `video`: it says so (Home Assistant's STREAM)."""
        super().__init__()
        self._attr_name = name
        self._attr_unique_id = f"scene-{name}"
        self._attr_supported_features = (
            CameraEntityFeature.STREAM if video else CameraEntityFeature(0)
        )
        self.url = url
        self.stills = 0

    async def stream_source(self) -> str | None:
        """The stream URL, None for a stills-only camera."""
        return self.url

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """The picture; a byte after its end makes each still a new one."""
        self.stills += 1
        return scene() + bytes([self.stills % 256])


@pytest.fixture(autouse=True)
def short_linger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers stop 0.3 s after their last viewer (3 s in production)."""
    monkeypatch.setattr(camera_streams, "LINGER", 0.3)


@pytest.fixture
async def site(
    hass: HomeAssistant,
    socket_enabled: None,
    hass_client_no_auth: ClientSessionGenerator,
) -> AsyncGenerator[tuple[MockConfigEntry, Client]]:
    """Five cameras, three masked, an active session."""
    async with (
        MjpegCamera(jpegs=(scene(),)) as mjpeg,
        H264HttpCamera(Picture(fps=10), respawn=True) as stairs,
        H264HttpCamera(Picture(fps=10), respawn=True) as hall,
    ):
        cameras = [
            SceneCamera("Corridor", mjpeg.stream_url_for("corridor")),
            SceneCamera("Nurse door", None),
            SceneCamera("Stairs", stairs.stream_url, video=True),
            SceneCamera("Gym", mjpeg.stream_url_for("gym")),
            SceneCamera("Hall", hall.stream_url, video=True),
        ]

        await async_setup_camera_platform(hass, "scenes", cameras)
        assert await async_setup_component(hass, DOMAIN, {})
        client = await hass_client_no_auth()
        masks: dict[str, tuple[Mask, ...]] = {
            CORRIDOR: LEFT_HALF_BLACK,
            NURSE: LEFT_HALF_BLURRED,
            STAIRS: LEFT_HALF_BLACK,
        }
        entry = await async_setup_agreement(
            hass,
            cameras=[CORRIDOR, NURSE, STAIRS, GYM, HALL],
            private_cameras=[],
            masks=masks_as_options(masks),
            max_streams_per_viewer=20,
        )
        await async_call(hass, "activate", entry, reason="Intruder alarm")
        yield entry, client
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)


async def _stream_picture(client: Client, path: str, camera: str) -> bytes:
    response = await client.get(f"{path}/mjpeg/{camera}")
    assert response.status == 200
    try:
        [part] = await read_parts(response, 1, timeout=30)
    finally:
        response.close()
    return part.jpeg


async def _snapshot(client: Client, path: str, camera: str) -> bytes:
    response = await client.get(f"{path}/snapshot/{camera}")
    assert response.status == 200
    return await response.read()


@pytest.mark.parametrize(
    ("camera", "masked"),
    [(CORRIDOR, is_black), (NURSE, is_blurred), (STAIRS, is_black)],
    ids=["mjpeg-stream-black", "polled-stills-blurred", "h264-black"],
)
async def test_every_path_a_viewer_has_shows_the_mask(
    site: tuple[MockConfigEntry, Client],
    hass: HomeAssistant,
    camera: str,
    masked: Any,
) -> None:
    """The stream and the snapshot: masked inside, untouched outside."""
    entry, client = site
    _link_id, path = await async_link(hass, entry)
    for picture in (
        await _stream_picture(client, path, camera),
        await _snapshot(client, path, camera),
    ):
        assert masked(picture)
        if camera != STAIRS:  # the H.264 camera shows ffmpeg's test pattern
            assert is_open_grey(picture)


async def test_an_unmasked_camera_keeps_its_detail(
    site: tuple[MockConfigEntry, Client], hass: HomeAssistant
) -> None:
    """The checks above would fail on an unmasked picture: this one passes whole."""
    entry, client = site
    _link_id, path = await async_link(hass, entry)
    picture = await _stream_picture(client, path, GYM)
    assert picture == scene()  # passed through as the camera sent it
    assert not is_black(picture)
    assert not is_blurred(picture)
    assert float(masked_half(picture).var()) > 5000


async def test_masked_cameras_offer_no_mp4(
    site: tuple[MockConfigEntry, Client], hass: HomeAssistant
) -> None:
    """Pictures sent only re-encoded with the mask: `mp4` null, /mp4 refused."""
    entry, client = site
    _link_id, path = await async_link(hass, entry)
    body = await (await client.get(f"{path}/cameras.json")).json()
    offered = {camera["id"]: camera["mp4"] for camera in body["cameras"]}
    assert offered[STAIRS] is None
    assert offered[HALL] == f"{path}/mp4/{HALL}"
    assert offered[CORRIDOR] is None  # no video stream
    assert offered[NURSE] is None  # stills only
    response = await client.get(f"{path}/mp4/{STAIRS}")
    assert response.status == 404


async def test_a_mask_added_in_the_options_reaches_open_streams_and_ends_mp4(
    site: tuple[MockConfigEntry, Client], hass: HomeAssistant
) -> None:
    """The running reader starts over with the mask; MP4 viewers are let go."""
    entry, client = site
    _link_id, path = await async_link(hass, entry)
    mp4 = await client.get(f"{path}/mp4/{HALL}")
    await read_mp4(mp4, 1)
    mjpeg = await client.get(f"{path}/mjpeg/{HALL}")
    [before] = await read_parts(mjpeg, 1, timeout=30)
    assert not is_black(before.jpeg)

    options = dict(entry.options)
    options["masks"] = {**options["masks"], HALL: [LEFT_HALF_BLACK[0].as_dict()]}
    hass.config_entries.async_update_entry(entry, options=options)

    await wait_closed(mp4, timeout=20.0)
    # Pictures already on their way may arrive; once a masked one has, no
    # unmasked one follows.
    async with asyncio.timeout(30):
        while not is_black((await read_parts(mjpeg, 1, timeout=30))[0].jpeg):
            pass
    after = await read_parts(mjpeg, 5, timeout=30)
    assert all(is_black(part.jpeg) for part in after)
    mjpeg.close()
    await hass.async_block_till_done(wait_background_tasks=True)
    ended = [
        r for r in events_named(entry, "view_ended") if r["data"]["format"] == "mp4"
    ]
    assert ended[-1]["data"]["reason"] == "masked"
    body = await (await client.get(f"{path}/cameras.json")).json()
    assert next(c for c in body["cameras"] if c["id"] == HALL)["mp4"] is None
