"""Real ffmpeg readers against local cameras: one process, never left behind."""

# ruff: noqa: D103 - a test's name says what it proves

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import functools
import itertools
import logging
import os
import signal
from typing import Any

import aiohttp
import pytest

from custom_components.school_emergency_share.media import (
    CameraHub,
    CameraStatus,
    FfmpegSource,
    Frame,
    PollingSource,
    SourceError,
    Subscription,
)
from testbed import procfs
from testbed.cameras import (
    H264HttpCamera,
    MjpegCamera,
    Picture,
    RtspCamera,
    sample_jpegs,
)
from testbed.cameras.pictures import FFMPEG
from testbed.net import free_port

from .conftest import eventually, other_tasks

pytestmark = pytest.mark.timeout(60)

# Margins for a loaded two-core machine: a verdict is an order or a count of
# events; these only bound how long a test waits for one.
START = 20.0
"""Seconds ffmpeg may take to start, probe and give a first frame."""

FAST_RETRY: dict[str, Any] = {"backoff_initial": 0.1, "backoff_max": 0.8}


class Ffmpegs:
    """A source factory that remembers every ffmpeg source it made."""

    def __init__(self, url: str, **options: Any) -> None:
        """Make sources reading `url` with `options`."""
        self.url = url
        self.options = options
        self.sources: list[FfmpegSource] = []
        self.made_at: list[float] = []
        """Loop time of each call: each connection attempt."""

    def __call__(self) -> FfmpegSource:
        """A new source (the hub's factory)."""
        self.made_at.append(asyncio.get_running_loop().time())
        source = FfmpegSource(FFMPEG, self.url, **self.options)
        self.sources.append(source)
        return source

    @property
    def pids(self) -> list[int]:
        """The process ids of the sources that started one."""
        return [s.pid for s in self.sources if s.pid is not None]


@pytest.fixture
async def hubs() -> AsyncIterator[list[CameraHub]]:
    made: list[CameraHub] = []
    yield made
    for hub in made:
        await hub.stop()


def jpeg_size(jpeg: bytes) -> tuple[int, int]:
    """(width, height) from a baseline JPEG's SOF0 segment."""
    sof = jpeg.index(b"\xff\xc0")
    height = int.from_bytes(jpeg[sof + 5 : sof + 7])
    width = int.from_bytes(jpeg[sof + 7 : sof + 9])
    return width, height


def exited(pid: int) -> bool:
    """Whether process `pid` is gone (and reaped)."""
    return procfs.state(pid) is None


def ffmpeg_tasks() -> list[asyncio.Task[object]]:
    """Tasks a source runs beside its process (stderr, shutdown, drain)."""
    return [t for t in other_tasks() if t.get_name().startswith("ffmpeg")]


async def count_frames(sub: Subscription[Frame], seconds: float) -> int:
    loop = asyncio.get_running_loop()
    end, count = loop.time() + seconds, 0
    while loop.time() < end:
        if await sub.next_frame(0.5) is not None:
            count += 1
    return count


async def take_frames(
    sub: Subscription[Frame], count: int, timeout: float = START
) -> None:
    """Wait until `sub` has taken `count` more frames."""
    async with asyncio.timeout(timeout):
        for _ in range(count):
            while await sub.next_frame(1) is None:
                pass


def published(hub: CameraHub) -> int:
    """Frames the hub has handed out so far (the last one's sequence)."""
    return hub.last_frame.seq if hub.last_frame is not None else 0


def test_command_reads_rtsp_over_tcp_without_audio_at_capped_rate_and_size() -> None:
    command = FfmpegSource(
        "/usr/bin/ffmpeg", "rtsp://cam.local/stream1", fps=5, max_width=640, quality=7
    ).command()

    assert command[0] == "/usr/bin/ffmpeg"
    assert command[command.index("-rtsp_transport") + 1] == "tcp"
    assert command.index("-rtsp_transport") < command.index("-i")
    assert command[command.index("-i") + 1] == "rtsp://cam.local/stream1"
    assert "-an" in command
    graph = command[command.index("-filter_complex") + 1]
    assert "select=" in graph  # at most 5 a second, never a repeated frame
    assert "gte(t-prev_selected_t\\,0.1500)" in graph
    assert command[command.index("-fps_mode") + 1] == "passthrough"
    assert "scale=" in graph
    assert "min(640\\,iw)" in graph  # never wider than the source: no upscaling
    assert "h=-2" in graph  # aspect kept, height even
    assert command[command.index("-f") + 1] == "mpjpeg"
    assert command[command.index("-q:v") + 1] == "7"
    assert command[-1] == "pipe:1"
    assert "nobuffer" in command


def test_command_for_http_stamps_frames_with_the_wall_clock() -> None:
    http = FfmpegSource("ffmpeg", "http://cam.local/video.mjpg").command()
    hls = FfmpegSource("ffmpeg", "https://cam.local/live/index.m3u8").command()
    assert "-rtsp_transport" not in http
    assert http[http.index("-use_wallclock_as_timestamps") + 1] == "1"
    assert "-use_wallclock_as_timestamps" not in hls
    assert "-an" in http
    assert "-an" in hls


def test_extra_input_args_override_the_defaults() -> None:
    command = FfmpegSource(
        "ffmpeg",
        "rtsp://cam.local/s",
        extra_input_args={"rtsp_transport": "udp", "rw_timeout": "5000000"},
    ).command()
    assert command[command.index("-rtsp_transport") + 1] == "udp"
    assert command.index("-rw_timeout") < command.index("-i")


async def test_twenty_viewers_of_an_mjpeg_camera_open_one_connection(
    hubs: list[CameraHub],
) -> None:
    async with MjpegCamera(Picture(fps=10)) as camera:
        ffmpegs = Ffmpegs(camera.stream_url)
        hub = CameraHub("gym", ffmpegs, **FAST_RETRY)
        hubs.append(hub)
        subs = [hub.subscribe() for _ in range(20)]
        await asyncio.gather(*(take_frames(sub, 1) for sub in subs))
        before = published(hub)
        counts = await asyncio.gather(*(count_frames(sub, 1.0) for sub in subs))

        # Every viewer took every frame the one reader gave meanwhile, but for
        # one at either end of its own second.
        given = published(hub) - before
        assert given > 0
        assert min(counts) >= given - 2, (counts, given)
        assert camera.connections_opened == 1
        assert camera.open_connections == 1
        assert len(procfs.own_children("ffmpeg")) == 1
        assert hub.connections_opened == 1
        await hub.stop()
        await eventually(lambda: camera.open_connections == 0, timeout=10)


async def test_twenty_viewers_of_a_one_client_h264_camera_all_see_it(
    hubs: list[CameraHub],
) -> None:
    # This camera accepts a single client, ever: a second upstream connection
    # would be refused and the hub would go offline.
    async with H264HttpCamera(Picture(fps=10), respawn=False) as camera:
        hub = CameraHub("hall", Ffmpegs(camera.stream_url), **FAST_RETRY)
        hubs.append(hub)
        subs = [hub.subscribe() for _ in range(20)]
        await asyncio.gather(*(take_frames(sub, 1) for sub in subs))
        before = published(hub)
        counts = await asyncio.gather(*(count_frames(sub, 1.0) for sub in subs))

        given = published(hub) - before
        assert given > 0
        assert min(counts) >= given - 2, (counts, given)
        assert hub.connections_opened == 1
        assert hub.status is CameraStatus.LIVE
        assert camera.spawned == 1
        assert camera.processes[0].returncode is None  # its one client stayed


async def test_an_rtsp_camera_is_read_through_ffmpeg(hubs: list[CameraHub]) -> None:
    async with RtspCamera(Picture(fps=10)) as camera:
        # rtsp-server-perl has no RTP-over-TCP, so override the default.
        ffmpegs = Ffmpegs(camera.stream_url, extra_input_args={"rtsp_transport": "udp"})
        hub = CameraHub("lobby", ffmpegs, **FAST_RETRY)
        hubs.append(hub)
        sub = hub.subscribe()
        await take_frames(sub, 4)
        assert hub.connections_opened == 1
        await hub.stop()


async def test_frames_are_scaled_down_to_viewer_width_and_never_up() -> None:
    async with MjpegCamera(jpegs=sample_jpegs(4, "1280x720")) as big:
        source = FfmpegSource(FFMPEG, big.stream_url, max_width=640)
        jpeg = await anext(source.frames())
        await source.aclose()
        assert jpeg_size(jpeg) == (640, 360)
    async with MjpegCamera(jpegs=sample_jpegs(4, "320x240")) as small:
        source = FfmpegSource(FFMPEG, small.stream_url, max_width=960)
        jpeg = await anext(source.frames())
        await source.aclose()
        assert jpeg_size(jpeg) == (320, 240)


async def test_a_camera_killed_mid_stream_goes_offline_then_live_again(
    hubs: list[CameraHub],
) -> None:
    statuses: list[CameraStatus] = []
    async with MjpegCamera(Picture(fps=10)) as camera:
        ffmpegs = Ffmpegs(camera.stream_url)
        hub = CameraHub("yard", ffmpegs, on_status=statuses.append, **FAST_RETRY)
        hubs.append(hub)
        sub = hub.subscribe()
        await take_frames(sub, 1)

        await camera.kill()
        await eventually(lambda: len(ffmpegs.made_at) >= 4, timeout=START)
        # Backoff 0.1, 0.2, 0.4…: tries further and further apart, not a
        # storm. A sleep never ends early, so these hold however slow the box.
        gaps = [b - a for a, b in itertools.pairwise(ffmpegs.made_at[1:4])]
        assert gaps[0] >= 0.2, gaps
        assert gaps[1] >= 0.4, gaps
        assert hub.status is CameraStatus.OFFLINE
        assert len(procfs.own_children("ffmpeg")) <= 1

        await camera.revive()
        await eventually(lambda: hub.status is CameraStatus.LIVE, timeout=START)
        await take_frames(sub, 3)
        assert statuses[:4] == [
            CameraStatus.CONNECTING,
            CameraStatus.LIVE,
            CameraStatus.OFFLINE,
            CameraStatus.LIVE,
        ]
        assert camera.open_connections == 1
        await hub.stop()
    assert all(procfs.state(pid) is None for pid in ffmpegs.pids)


async def test_a_hung_camera_is_dropped_after_frame_timeout_and_read_again(
    hubs: list[CameraHub],
) -> None:
    async with MjpegCamera(Picture(fps=10)) as camera:
        ffmpegs = Ffmpegs(camera.stream_url)
        # Long enough that a busy machine's pauses are not taken for a hang.
        hub = CameraHub("stairs", ffmpegs, frame_timeout=2.0, **FAST_RETRY)
        hubs.append(hub)
        sub = hub.subscribe()
        await take_frames(sub, 1)
        hung_pid = ffmpegs.pids[-1]

        camera.paused = True  # the connection stays open, nothing arrives
        await eventually(lambda: hub.status is CameraStatus.OFFLINE, timeout=START)
        assert procfs.state(hung_pid) is None  # the stuck ffmpeg is gone

        camera.paused = False
        await eventually(lambda: hub.status is CameraStatus.LIVE, timeout=START)
        await take_frames(sub, 1)
        assert len(procfs.own_children("ffmpeg")) == 1


async def test_ffmpeg_killed_from_outside_is_replaced_and_viewers_continue(
    hubs: list[CameraHub],
) -> None:
    async with MjpegCamera(Picture(fps=10)) as camera:
        ffmpegs = Ffmpegs(camera.stream_url)
        hub = CameraHub("office", ffmpegs, **FAST_RETRY)
        hubs.append(hub)
        subs = [hub.subscribe() for _ in range(3)]
        await asyncio.gather(*(take_frames(sub, 1) for sub in subs))
        (first_pid,) = ffmpegs.pids

        os.kill(first_pid, signal.SIGKILL)
        await eventually(lambda: len(ffmpegs.pids) == 2, timeout=START)
        await asyncio.gather(*(take_frames(sub, 5) for sub in subs))

        assert all(not sub.closed for sub in subs)
        assert procfs.state(first_pid) is None  # reaped, not a zombie
        assert procfs.own_children("ffmpeg") == [ffmpegs.pids[1]]
        assert camera.connections_opened == 2
        assert hub.status is CameraStatus.LIVE


async def test_ffmpeg_exits_once_the_last_viewer_leaves_and_linger_passes(
    hubs: list[CameraHub],
) -> None:
    async with MjpegCamera(Picture(fps=10)) as camera:
        ffmpegs = Ffmpegs(camera.stream_url)
        hub = CameraHub("library", ffmpegs, linger=0.3)
        hubs.append(hub)
        sub = hub.subscribe()
        await take_frames(sub, 1)
        (pid,) = ffmpegs.pids

        hub.unsubscribe(sub)
        took = await eventually(lambda: hub.status is CameraStatus.IDLE, timeout=10)

        assert took >= 0.3  # it lingered first: a timer never fires early
        assert hub.connections_opened == 1
        await eventually(lambda: procfs.state(pid) is None, timeout=10)
        assert procfs.own_children("ffmpeg") == []
        await eventually(lambda: camera.open_connections == 0, timeout=10)


async def test_fifty_subscribe_cycles_leave_no_ffmpeg_and_no_task(
    hubs: list[CameraHub],
) -> None:
    async with MjpegCamera(Picture(fps=10)) as camera:
        ffmpegs = Ffmpegs(camera.stream_url)
        hub = CameraHub("gym", ffmpegs, linger=0)
        hubs.append(hub)
        for cycle in range(50):
            sub = hub.subscribe()
            if cycle % 25 == 0:
                assert await sub.next_frame(START) is not None
            else:  # leave while ffmpeg starts, probes, or is just gone
                await asyncio.sleep((cycle % 4) * 0.01)
            hub.unsubscribe(sub)
            if cycle % 4 == 3:  # gone long enough for the producer to stop
                await asyncio.sleep(0.02)
            # Otherwise back at once, and the producer lives on.

        await eventually(lambda: hub.status is CameraStatus.IDLE, timeout=10)
        assert len(ffmpegs.sources) >= 10  # processes were started…

        # …and every one is reaped: asyncio sets a return code only after
        # waitpid(). (A pid alone can be taken by another process once the
        # 32768 wrap around.) Not necessarily by the time the hub says IDLE:
        # a reader that retired while its successor was still waiting for it
        # can still be closing then (test_hub's xfail; a fix is proposed).
        def reaped() -> bool:
            return all(
                source.pid is None or source.process.returncode is not None
                for source in ffmpegs.sources
            )

        await eventually(reaped, timeout=10)
        assert procfs.own_children("ffmpeg") == []
        assert not ffmpeg_tasks()
        assert not [t for t in other_tasks() if t.get_name().startswith("camera hub")]
        await eventually(lambda: camera.open_connections == 0, timeout=10)
    assert other_tasks() == []


async def test_cancelling_a_consumer_mid_read_leaves_no_process() -> None:
    async with MjpegCamera(Picture(fps=10)) as camera:
        for cancels in (1, 2):  # a second cancel lands in the cleanup itself
            source = FfmpegSource(FFMPEG, camera.stream_url)
            got = asyncio.Event()

            async def consume(source: FfmpegSource, got: asyncio.Event) -> None:
                async for _ in source.frames():
                    got.set()

            task = asyncio.create_task(consume(source, got))
            await asyncio.wait_for(got.wait(), 5)
            pid = source.pid
            assert pid is not None
            for _ in range(cancels):
                task.cancel()
                await asyncio.sleep(0)
            with contextlib.suppress(asyncio.CancelledError):
                await task

            await eventually(functools.partial(exited, pid), timeout=10)
            await eventually(lambda: not ffmpeg_tasks(), timeout=10)
        assert procfs.own_children("ffmpeg") == []


async def test_a_missing_ffmpeg_binary_leaves_the_camera_offline(
    hubs: list[CameraHub],
) -> None:
    source = FfmpegSource("/nonexistent/ffmpeg", "rtsp://cam.local/s")
    with pytest.raises(SourceError, match="cannot start"):
        await anext(source.frames())

    hub = CameraHub(
        "gym",
        lambda: FfmpegSource("/nonexistent/ffmpeg", "rtsp://cam.local/s"),
        backoff_initial=0.05,
    )
    hubs.append(hub)
    hub.subscribe()
    await eventually(lambda: hub.status is CameraStatus.OFFLINE, timeout=10)


async def test_failures_are_reported_without_camera_credentials(
    hubs: list[CameraHub], caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://admin:hunter2@127.0.0.1:{free_port()}/video?token=s3cret"
    source = FfmpegSource(FFMPEG, url)
    with pytest.raises(SourceError) as failure:
        await anext(source.frames())
    message = str(failure.value)
    assert "127.0.0.1" in message  # still says where it failed
    assert "hunter2" not in message
    assert "s3cret" not in message

    caplog.set_level(logging.DEBUG)
    hub = CameraHub("gym", lambda: FfmpegSource(FFMPEG, url), backoff_initial=0.05)
    hubs.append(hub)
    hub.subscribe()
    await eventually(lambda: hub.connections_opened >= 2, timeout=START)
    await hub.stop()
    assert "Camera gym is offline" in caplog.text
    assert "hunter2" not in caplog.text
    assert "s3cret" not in caplog.text


async def test_polling_source_fetches_stills_at_a_capped_rate(
    hubs: list[CameraHub],
) -> None:
    async with MjpegCamera() as camera, aiohttp.ClientSession() as session:

        async def still() -> bytes | None:
            async with session.get(camera.still_url) as response:
                return await response.read()

        hub = CameraHub("nurse-hall", lambda: PollingSource(still, fps=5))
        hubs.append(hub)
        sub = hub.subscribe()
        frame = await sub.next_frame(START)
        assert frame is not None
        assert frame.jpeg in camera.jpegs
        loop = asyncio.get_running_loop()
        before, started = camera.still_requests, loop.time()
        taken = await count_frames(sub, 1.0)
        polled = camera.still_requests - before
        elapsed = loop.time() - started

        # 5 a second at most, not as fast as possible: a poll waits for the
        # previous one and the rest of its fifth of a second (never less).
        assert 0 < polled <= 5 * elapsed + 2, (polled, elapsed)
        assert 0 < taken <= polled
        assert camera.connections_opened == 0  # stills only, no stream
        await hub.stop()


async def test_closing_a_source_while_ffmpeg_starts_leaves_no_process() -> None:
    async with MjpegCamera() as camera:
        source = FfmpegSource(FFMPEG, camera.stream_url)

        async def first_frame() -> bytes:
            return await anext(source.frames())

        reading = asyncio.create_task(first_frame())
        await asyncio.sleep(0)  # ffmpeg is being spawned
        await source.aclose()
        with pytest.raises(SourceError):
            await reading
        assert source.pid is not None
        assert exited(source.pid)

        closed_first = FfmpegSource(FFMPEG, camera.stream_url)
        await closed_first.aclose()
        with pytest.raises(SourceError, match="closed"):
            await anext(closed_first.frames())
        assert closed_first.pid is None


async def test_polling_source_does_not_pass_a_frozen_still_off_as_new() -> None:
    """A camera answering with the same cached still yields it once, then nothing."""
    stills = [b"\xff\xd8frozen\xff\xd9"] * 6 + [b"\xff\xd8moving\xff\xd9"]
    calls = iter(stills)

    async def still() -> bytes | None:
        return next(calls, None)

    source = PollingSource(still, fps=50)
    frames = source.frames()
    assert await anext(frames) == stills[0]
    assert await asyncio.wait_for(anext(frames), 2) == stills[-1]
    await source.aclose()


async def test_a_camera_slower_than_the_cap_is_never_padded_with_repeats(
    hubs: list[CameraHub],
) -> None:
    """A 4 fps camera gives 4 frames a second, not 10: a repeat would look fresh."""
    async with MjpegCamera(Picture(fps=4)) as camera:
        hub = CameraHub("slow", Ffmpegs(camera.stream_url), **FAST_RETRY)
        hubs.append(hub)
        sub = hub.subscribe()
        await take_frames(sub, 1)
        made = camera.frames_made
        taken = await count_frames(sub, 2.0)
        made = camera.frames_made - made
        # At most one frame out per frame in (two more: ffmpeg's pipe may hold
        # one made before the count began); a padded rate would be 2.5 times.
        assert 0 < taken <= made + 2, (taken, made)
        await hub.stop()
