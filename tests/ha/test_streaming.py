"""Real cameras behind the proxy: one upstream connection, however many viewers.

The cameras are real servers on loopback (an MJPEG-over-HTTP camera that counts
its connections, and H.264 from an ffmpeg that accepts exactly one client),
read by the integration through Home Assistant's ffmpeg.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import contextlib
from datetime import datetime
import gc
import os
from pathlib import Path
import signal
import socket
from typing import Any

from aiohttp import ClientResponse
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.school_emergency_share import camera_streams
from custom_components.school_emergency_share.const import DOMAIN
from custom_components.school_emergency_share.media import (
    FragmentedMp4Parser,
    InitSegment,
    MediaSegment,
)
from custom_components.school_emergency_share.web import streams
from testbed import procfs
from testbed.cameras import H264HttpCamera, MjpegCamera, Picture, RtspCamera

from .common import (
    async_call,
    async_setup_agreement,
    entity_id_of,
    events_named,
    manager_of,
)
from .viewing import (
    Client,
    Part,
    async_link,
    async_setup_stream_cameras,
    read_parts,
    reader_processes,
    wait_closed,
)

GYM = "camera.gym_mjpeg"
HALL = "camera.hall_h264"

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def short_linger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers stop 0.3 s after their last viewer (3 s in production)."""
    monkeypatch.setattr(camera_streams, "LINGER", 0.3)


@pytest.fixture
async def mjpeg_camera(socket_enabled: None) -> AsyncGenerator[MjpegCamera]:
    """An MJPEG IP camera at 10 fps."""
    async with MjpegCamera(Picture(fps=10)) as camera:
        yield camera


@pytest.fixture
async def h264_camera(socket_enabled: None) -> AsyncGenerator[H264HttpCamera]:
    """An H.264 camera that accepts one client at a time."""
    async with H264HttpCamera(Picture(fps=10), respawn=True) as camera:
        yield camera


@pytest.fixture
async def setup(
    hass: HomeAssistant,
    mjpeg_camera: MjpegCamera,
    h264_camera: H264HttpCamera,
    hass_client_no_auth: ClientSessionGenerator,
) -> AsyncGenerator[tuple[MockConfigEntry, Client]]:
    """An active session over both cameras, and a police client."""
    await async_setup_stream_cameras(
        hass,
        {"Gym MJPEG": mjpeg_camera.stream_url, "Hall H264": h264_camera.stream_url},
    )
    assert await async_setup_component(hass, DOMAIN, {})
    client = await hass_client_no_auth()
    entry = await async_setup_agreement(
        hass, cameras=[GYM, HALL], private_cameras=[], max_viewers=30
    )
    await async_call(hass, "activate", entry, reason="Intruder alarm")
    yield entry, client
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _watch(client: Client, path: str, camera: str, frames: int) -> list[Any]:
    response = await client.get(f"{path}/mjpeg/{camera}")
    assert response.status == 200
    try:
        return await read_parts(response, frames, timeout=30)
    finally:
        response.close()


async def _no_ffmpeg_left(timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while reader_processes():
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("viewers", [1, 20])
async def test_many_viewers_cost_one_camera_connection(
    setup: tuple[MockConfigEntry, Client],
    mjpeg_camera: MjpegCamera,
    hass: HomeAssistant,
    viewers: int,
) -> None:
    """N viewers of an MJPEG camera: one upstream connection, one ffmpeg."""
    entry, client = setup
    _link_id, path = await async_link(hass, entry)
    results = await asyncio.gather(
        *(_watch(client, path, GYM, 5) for _ in range(viewers))
    )
    assert all(len(parts) == 5 for parts in results)
    assert all(part.jpeg[:2] == b"\xff\xd8" for parts in results for part in parts)
    assert mjpeg_camera.connections_opened == 1
    assert len(reader_processes()) <= 1
    await _no_ffmpeg_left()
    async with asyncio.timeout(10):
        while mjpeg_camera.open_connections:
            await asyncio.sleep(0.05)


async def test_h264_camera_taking_one_client_serves_ten_viewers(
    setup: tuple[MockConfigEntry, Client],
    h264_camera: H264HttpCamera,
    hass: HomeAssistant,
) -> None:
    """A camera that accepts a single connection still feeds every viewer."""
    entry, client = setup
    _link_id, path = await async_link(hass, entry)
    results = await asyncio.gather(*(_watch(client, path, HALL, 3) for _ in range(10)))
    assert all(len(parts) == 3 for parts in results)
    assert h264_camera.spawned == 1
    await _no_ffmpeg_left()


async def _watch_until(
    client: Client, path: str, camera: str, done: asyncio.Event
) -> list[Part]:
    """Read the camera's parts until `done` is set."""
    response = await client.get(f"{path}/mjpeg/{camera}")
    assert response.status == 200
    parts: list[Part] = []
    try:
        while not done.is_set():
            parts += await read_parts(response, 1, timeout=30)
    finally:
        response.close()
    return parts


async def test_stalled_viewer_is_dropped_and_others_keep_their_frame_rate(
    setup: tuple[MockConfigEntry, Client],
    hass: HomeAssistant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A viewer that stops reading loses frames, never slows the others, then goes."""
    monkeypatch.setattr(streams, "STREAM_WRITE_TIMEOUT", 1.0)
    entry, client = setup
    _link_id, path = await async_link(hass, entry)

    # A viewer whose socket never reads: its receive buffer is made tiny so the
    # server's writes back up quickly.
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(stalled, (client.server.host, client.server.port))
    stalled.send(f"GET {path}/mjpeg/{GYM} HTTP/1.1\r\nHost: x\r\n\r\n".encode())

    done = asyncio.Event()
    healthy = [
        loop.create_task(_watch_until(client, path, GYM, done)) for _ in range(3)
    ]
    async with asyncio.timeout(60):
        while not (
            dropped := [
                record
                for record in events_named(entry, "view_ended")
                if record["data"].get("reason") == "write_timeout"
            ]
        ):
            await asyncio.sleep(0.1)
    done.set()
    seen = await asyncio.gather(*healthy)

    # The stalled viewer's last write hung for the whole write timeout, until
    # it was dropped. Had that held up the camera's reader, no frame would
    # have been captured meanwhile; every healthy viewer got frames captured
    # then (about ten at 10 fps).
    dropped_ms = datetime.fromisoformat(dropped[0]["ts"]).timestamp() * 1000
    during = [
        sum(1 for part in parts if dropped_ms - 1000 <= part.capture_ms <= dropped_ms)
        for parts in seen
    ]
    assert min(during) >= 2, during
    # The server lets go of the socket too: it does not wait for it to drain.
    async with asyncio.timeout(10):
        try:
            while await loop.sock_recv(stalled, 65536):
                pass
        except ConnectionResetError:
            pass
    stalled.close()


async def test_camera_that_dies_shows_offline_and_comes_back(
    setup: tuple[MockConfigEntry, Client],
    mjpeg_camera: MjpegCamera,
    hass: HomeAssistant,
) -> None:
    """A camera that drops out is reported offline, then live again.

    The page and the dashboard (the camera's switch) both say when its last
    picture was.
    """
    entry, client = setup
    _link_id, path = await async_link(hass, entry)
    switch = entity_id_of(hass, entry, f"camera:{GYM}")
    response = await client.get(f"{path}/mjpeg/{GYM}")
    seen = await read_parts(response, 2)

    async def listed() -> dict[str, Any]:
        listing = await client.get(f"{path}/cameras.json")
        body = await listing.json()
        return dict(next(c for c in body["cameras"] if c["id"] == GYM))

    async def status() -> str:
        return str((await listed())["status"])

    assert await status() == "live"
    await mjpeg_camera.kill()
    async with asyncio.timeout(15):
        while await status() != "offline":
            await asyncio.sleep(0.1)
    offline_seen = dt_util.utcnow()
    camera = await listed()
    last = datetime.fromisoformat(camera["last_frame_at"])
    # Its last picture: no older than what the viewer had before the camera
    # died, and from before it was seen offline (by order, not by a margin).
    assert last.timestamp() * 1000 >= seen[-1].capture_ms - 1
    assert last < offline_seen
    state = hass.states.get(switch)
    assert state is not None
    attributes = state.attributes
    assert attributes["status"] == "offline"
    assert attributes["last_frame_at"] == camera["last_frame_at"]

    await mjpeg_camera.revive()
    async with asyncio.timeout(30):
        while await status() != "live":
            await asyncio.sleep(0.2)
    assert datetime.fromisoformat((await listed())["last_frame_at"]) > last
    state = hass.states.get(switch)
    assert state is not None
    assert state.attributes["status"] == "live"
    response.close()


async def test_ffmpeg_killed_from_outside_is_replaced(
    setup: tuple[MockConfigEntry, Client], hass: HomeAssistant
) -> None:
    """SIGKILL of the reader: a new one starts and the viewer keeps getting frames."""
    entry, client = setup
    _link_id, path = await async_link(hass, entry)
    response = await client.get(f"{path}/mjpeg/{GYM}")
    await read_parts(response, 2)
    [pid] = reader_processes()
    os.kill(pid, signal.SIGKILL)
    parts = await read_parts(response, 5, timeout=30)
    assert len(parts) == 5
    assert pid not in reader_processes()
    assert len(reader_processes()) == 1
    response.close()


async def test_start_stop_cycles_leave_no_process_behind(
    setup: tuple[MockConfigEntry, Client], hass: HomeAssistant
) -> None:
    """Sessions started and ended while watching leave no process or socket behind.

    Five warm-up cycles first: the first ones open what stays open by design
    (the client's connection pool, the audit file), which is not a leak.
    """
    entry, client = setup
    await async_call(hass, "deactivate", entry)

    async def cycles(count: int) -> int:
        for cycle in range(count):
            await async_call(hass, "activate", entry, reason=f"Drill {cycle}")
            _link_id, path = await async_link(hass, entry)
            response = await client.get(f"{path}/mjpeg/{GYM}")
            await read_parts(response, 1)
            await async_call(hass, "deactivate", entry)
            await wait_closed(response, 20.0)  # closing speed: the benchmark
            response.close()
        await _no_ffmpeg_left()
        await hass.async_block_till_done(wait_background_tasks=True)
        gc.collect()
        return len(list(Path("/proc/self/fd").iterdir()))

    warmed_up = await cycles(5)
    after = await cycles(20)
    assert manager_of(entry).active_viewers() == []
    # A reaped reader's pipes and pidfd close a moment later (seconds later on a
    # loaded machine); a leak never closes.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            while after > warmed_up + 2:
                await asyncio.sleep(0.1)
                after = len(list(Path("/proc/self/fd").iterdir()))
    assert after <= warmed_up + 2, (warmed_up, after)


async def test_rtsp_camera_is_read_with_the_transport_it_is_configured_for(
    hass: HomeAssistant,
    socket_enabled: None,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """An RTSP server that only speaks UDP works when the camera says UDP."""
    async with RtspCamera() as rtsp:
        await async_setup_stream_cameras(
            hass,
            {"Stairs RTSP": rtsp.stream_url},
            {"Stairs RTSP": {"rtsp_transport": "udp"}},
        )
        assert await async_setup_component(hass, DOMAIN, {})
        client = await hass_client_no_auth()
        entry = await async_setup_agreement(
            hass, cameras=["camera.stairs_rtsp"], private_cameras=[]
        )
        await async_call(hass, "activate", entry, reason="Intruder alarm")
        _link_id, path = await async_link(hass, entry)
        parts = await _watch(client, path, "camera.stairs_rtsp", 3)
        assert all(part.jpeg[:2] == b"\xff\xd8" for part in parts)
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        await _no_ffmpeg_left()


# ------------------------------------------------------------------ /mp4


async def read_mp4(
    response: ClientResponse, fragments: int, timeout: float = 30.0
) -> tuple[InitSegment, list[MediaSegment], bytes]:
    """Read an /mp4 response until `fragments` fragments; returns them and the bytes."""
    parser = FragmentedMp4Parser()
    found: list[InitSegment | MediaSegment] = []
    data = b""
    async with asyncio.timeout(timeout):
        while sum(isinstance(s, MediaSegment) for s in found) < fragments:
            chunk = await response.content.readany()
            assert chunk, "stream ended"
            data += chunk
            found += parser.feed(chunk)
    init = found[0]
    assert isinstance(init, InitSegment), "the init segment comes first"
    return init, [s for s in found if isinstance(s, MediaSegment)], data


async def _cameras(client: Client, path: str) -> dict[str, dict[str, Any]]:
    response = await client.get(f"{path}/cameras.json")
    body = await response.json()
    return {camera["id"]: camera for camera in body["cameras"]}


def _remuxers() -> list[int]:
    found = []
    for pid in procfs.own_children("ffmpeg"):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"copy" in argv and b"mp4" in argv:
            found.append(pid)
    return found


async def test_mp4_passes_an_h264_camera_through_from_a_keyframe(
    setup: tuple[MockConfigEntry, Client], hass: HomeAssistant
) -> None:
    """The camera's H.264 as fragmented MP4: init segment, then a keyframe."""
    entry, client = setup
    _link_id, path = await async_link(hass, entry)
    assert (await _cameras(client, path))[HALL]["mp4"] == f"{path}/mp4/{HALL}"
    response = await client.get(f"{path}/mp4/{HALL}")
    assert response.status == 200
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Cache-Control"] == "no-store"
    init, fragments, data = await read_mp4(response, 5)
    assert init.h264
    assert fragments[0].keyframe
    # Every fragment is preceded by the time it came off the camera.
    assert data.count(b"prft") == data.count(b"moof")
    assert reader_processes() == []  # nothing decodes for an MP4 viewer
    assert len(_remuxers()) == 1
    response.close()
    await hass.async_block_till_done(wait_background_tasks=True)
    [started] = events_named(entry, "view_started")
    assert started["data"]["camera"] == HALL
    async with asyncio.timeout(10):
        while not events_named(entry, "view_ended"):
            await asyncio.sleep(0.05)
    assert events_named(entry, "view_ended")[0]["data"]["format"] == "mp4"


async def test_mp4_and_mjpeg_viewers_of_one_camera_cost_one_connection(
    setup: tuple[MockConfigEntry, Client],
    h264_camera: H264HttpCamera,
    hass: HomeAssistant,
) -> None:
    """Five MP4 and five MJPEG viewers: the camera sees one client."""
    entry, client = setup
    _link_id, phone = await async_link(hass, entry, label="Unit 12")
    _link_id, desk = await async_link(hass, entry, label="Dispatch desk")
    mp4s = [await client.get(f"{phone}/mp4/{HALL}") for _ in range(5)]
    mjpegs = [await client.get(f"{desk}/mjpeg/{HALL}") for _ in range(5)]
    for response in mp4s:
        _init, fragments, _ = await read_mp4(response, 3)
        assert fragments[0].keyframe
    for response in mjpegs:
        parts = await read_parts(response, 3, timeout=30)
        assert all(part.jpeg[:2] == b"\xff\xd8" for part in parts)
    assert h264_camera.spawned == 1
    assert len(_remuxers()) == 1
    assert len(reader_processes()) == 1  # one decoder for the MJPEG viewers
    for response in mp4s + mjpegs:
        response.close()
    await _no_ffmpeg_left()


async def test_an_mp4_viewer_joining_a_watched_camera_starts_without_waiting(
    setup: tuple[MockConfigEntry, Client],
    h264_camera: H264HttpCamera,
    hass: HomeAssistant,
) -> None:
    """A second viewer starts at the last keyframe already read, not the next.

    The camera is paused (SIGSTOP) before the second viewer asks: whatever it
    gets can only be what the hub kept.
    """
    entry, client = setup
    _link_id, path = await async_link(hass, entry)
    first = await client.get(f"{path}/mp4/{HALL}")
    await read_mp4(first, 15)
    [camera] = [p for p in h264_camera.processes if p.returncode is None]
    camera.send_signal(signal.SIGSTOP)
    try:
        second = await client.get(f"{path}/mp4/{HALL}")
        init, fragments, _ = await read_mp4(second, 1, timeout=5)
        assert init.h264
        assert fragments[0].keyframe
    finally:
        camera.send_signal(signal.SIGCONT)
    first.close()
    second.close()


@pytest.mark.parametrize("end", ["revoke", "deactivate"])
async def test_an_mp4_stream_ends_when_access_ends(
    setup: tuple[MockConfigEntry, Client], hass: HomeAssistant, end: str
) -> None:
    """The same closing rules as /mjpeg: registered, re-checked, closed."""
    entry, client = setup
    link_id, path = await async_link(hass, entry)
    response = await client.get(f"{path}/mp4/{HALL}")
    await read_mp4(response, 1)
    assert manager_of(entry).active_viewers()
    if end == "revoke":
        await async_call(hass, "revoke_viewer_link", entry, link_id=link_id)
    else:
        await async_call(hass, "deactivate", entry, reason="All clear")
    await wait_closed(response, timeout=20.0)  # how fast: the benchmark
    await hass.async_block_till_done(wait_background_tasks=True)
    assert manager_of(entry).active_viewers() == []
    assert events_named(entry, "view_ended")[-1]["data"]["format"] == "mp4"


async def test_an_mjpeg_camera_stops_offering_mp4_once_read(
    setup: tuple[MockConfigEntry, Client], hass: HomeAssistant
) -> None:
    """A camera that says it streams video but sends MJPEG: no /mp4 after a look."""
    entry, client = setup
    _link_id, path = await async_link(hass, entry)
    await _watch(client, path, GYM, 1)
    assert (await _cameras(client, path))[GYM]["mp4"] is None
    response = await client.get(f"{path}/mp4/{GYM}")
    assert response.status == 404
    assert (await response.json())["error"] == "no_mp4_stream"


async def test_a_camera_read_through_an_rtsp_relay_gives_mp4_and_mjpeg(
    hass: HomeAssistant,
    socket_enabled: None,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """An NVR's RTSP restream (go2rtc, Frigate) as a camera's stream source.

    `RtspCamera` stands for the relay: what the integration reads is the
    relay's RTSP URL, as Home Assistant's camera entity gives it.
    """
    picture = Picture(size="640x360", fps=10, keyframe_interval=1)
    async with RtspCamera(picture, path="gym_sub") as relay:
        await async_setup_stream_cameras(
            hass,
            {"Gym via NVR": relay.stream_url},
            {"Gym via NVR": {"rtsp_transport": "udp"}},
        )
        assert await async_setup_component(hass, DOMAIN, {})
        client = await hass_client_no_auth()
        entry = await async_setup_agreement(
            hass, cameras=["camera.gym_via_nvr"], private_cameras=[]
        )
        await async_call(hass, "activate", entry, reason="Intruder alarm")
        _link_id, path = await async_link(hass, entry)
        mp4 = await client.get(f"{path}/mp4/camera.gym_via_nvr")
        init, fragments, _ = await read_mp4(mp4, 3)
        assert init.h264
        assert (init.width, init.height) == (640, 360)
        assert fragments[0].keyframe
        parts = await _watch(client, path, "camera.gym_via_nvr", 3)
        assert all(part.jpeg[:2] == b"\xff\xd8" for part in parts)
        assert len(_remuxers()) == 1  # one connection to the relay for both
        mp4.close()
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        await _no_ffmpeg_left()
