"""A camera read the cheapest way its stream allows, once for every output.

Real cameras on loopback (`testbed.cameras`), real ffmpeg. Each test states
what a camera is and what its viewers want, and checks how it was read: how
many connections the camera saw, which processes ran, what kind of stream
was learnt, and what the viewers got.
"""

# ruff: noqa: D103 - a test's name says what it proves

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import itertools
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from custom_components.school_emergency_share.media import (
    CameraFeeds,
    CameraStatus,
    FeedSettings,
    Fragment,
    Frame,
    StreamClosed,
    StreamKind,
    Subscription,
    jpeg_size,
)
from testbed import procfs, stamp
from testbed.cameras import H264HttpCamera, MjpegCamera, Picture, RtspCamera
from testbed.cameras.pictures import FFMPEG

from .conftest import eventually
from .scenes import (
    LEFT_HALF_BLACK,
    LEFT_HALF_BLURRED,
    UrlCamera,
    is_black,
    is_blurred,
    is_open_grey,
    scene,
)

pytestmark = pytest.mark.timeout(90)

START = 20.0
"""Seconds a camera may take to give a first picture (ffmpeg starting)."""


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
async def feeds_made() -> AsyncIterator[list[CameraFeeds]]:
    made: list[CameraFeeds] = []
    yield made
    for feeds in made:
        await feeds.stop()


@pytest.fixture
def feeds_for(session: aiohttp.ClientSession, feeds_made: list[CameraFeeds]) -> Any:
    def make(camera: UrlCamera, **settings: Any) -> CameraFeeds:
        feeds = CameraFeeds(
            "camera",
            camera,
            FeedSettings(ffmpeg=FFMPEG, session=session, **{"linger": 0.2, **settings}),
        )
        feeds.jpeg._backoff_initial = feeds.mp4._backoff_initial = 0.1
        feeds_made.append(feeds)
        return feeds

    return make


async def take[T](sub: Subscription[T], count: int = 1) -> list[T]:
    taken: list[T] = []
    async with asyncio.timeout(START):
        while len(taken) < count:
            if (item := await sub.next_frame(1)) is not None:
                taken.append(item)
    return taken


def ffmpeg_commands() -> list[list[str]]:
    """The command lines of this process's ffmpeg children."""
    commands = []
    for pid in procfs.own_children("ffmpeg"):
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        commands.append(raw.decode().split("\0"))
    return commands


def remuxers() -> int:
    return sum("copy" in c and "mp4" in c for c in ffmpeg_commands())


def decoders() -> int:
    return sum("pipe:0" in c and "mpjpeg" in c for c in ffmpeg_commands())


# ------------------------------------------------------------------- MJPEG


async def test_a_small_mjpeg_camera_is_passed_through_without_ffmpeg(
    feeds_for: Any,
) -> None:
    async with MjpegCamera(jpegs=(scene(),)) as camera:
        feeds = feeds_for(UrlCamera(camera.stream_url))
        subs = [feeds.jpeg.subscribe() for _ in range(5)]
        frames: list[list[Frame]] = await asyncio.gather(*(take(s, 3) for s in subs))
        assert {f.jpeg for run in frames for f in run} == {scene()}  # as sent
        assert feeds.kind is StreamKind.MJPEG
        assert procfs.own_children("ffmpeg") == []
        assert camera.connections_opened == 1
        # Each frame's multipart part is made once for all its viewers.
        assert (
            len(
                {id(run[-1].part) for run in frames if run[-1].seq == frames[0][-1].seq}
            )
            == 1
        )


async def test_passthrough_caps_a_fast_camera_at_the_frame_rate(
    feeds_for: Any,
) -> None:
    async with MjpegCamera(Picture(fps=25)) as camera:
        feeds = feeds_for(UrlCamera(camera.stream_url), fps=5)
        sub = feeds.jpeg.subscribe()
        frames = await take(sub, 8)
        gaps = [b.captured_at - a.captured_at for a, b in itertools.pairwise(frames)]
        # At most 5 a second, give or take the three-quarter-period slack;
        # far from the camera's 25.
        assert min(gaps) >= 0.75 / 5 - 0.01, gaps
        assert camera.frames_made > 3 * len(frames)


async def test_a_wide_mjpeg_camera_is_scaled_by_ffmpeg_after_one_look(
    feeds_for: Any,
) -> None:
    async with MjpegCamera(Picture(size="1280x720")) as camera:
        feeds = feeds_for(UrlCamera(camera.stream_url))
        sub = feeds.jpeg.subscribe()
        [frame] = await take(sub, 1)
        assert jpeg_size(frame.jpeg) == (960, 540)
        assert feeds.kind is StreamKind.MJPEG_WIDE
        # One look at a frame, closed, then ffmpeg: never two at once.
        assert camera.connections_opened == 2
        assert camera.open_connections == 1


# ------------------------------------------------------------------- H.264


async def test_an_h264_camera_is_remuxed_for_mp4_viewers_not_decoded(
    feeds_for: Any,
) -> None:
    picture = Picture(size="640x360", fps=10, keyframe_interval=1)
    async with RtspCamera(picture) as camera:
        feeds = feeds_for(
            UrlCamera(
                camera.stream_url,
                streams_video=True,
                input_args={"rtsp_transport": "udp"},
            )
        )
        subs = [feeds.mp4.subscribe() for _ in range(3)]
        runs: list[list[Fragment]] = await asyncio.gather(*(take(s, 15) for s in subs))
        assert feeds.kind is StreamKind.H264
        assert feeds.codec is not None
        assert feeds.codec.startswith("avc1.")
        for run in runs:
            assert run[0].keyframe  # each viewer starts where it can decode
            assert run[0].init.h264
            assert (run[0].init.width, run[0].init.height) == (640, 360)
            assert [f.seq for f in run] == list(range(run[0].seq, run[0].seq + 15))
        assert remuxers() == 1
        assert decoders() == 0  # nobody wants JPEGs: nothing decodes


async def test_mp4_and_mjpeg_viewers_of_a_one_client_camera_share_its_connection(
    feeds_for: Any,
) -> None:
    # This camera accepts one client, ever: a second connection would fail.
    async with H264HttpCamera(Picture(fps=10), respawn=False) as camera:
        feeds = feeds_for(UrlCamera(camera.stream_url, streams_video=True))
        mp4 = [feeds.mp4.subscribe() for _ in range(5)]
        jpeg = [feeds.jpeg.subscribe() for _ in range(5)]
        fragments = await asyncio.gather(*(take(s, 5) for s in mp4))
        frames = await asyncio.gather(*(take(s, 5) for s in jpeg))
        assert all(run[0].keyframe for run in fragments)
        assert all(f.jpeg.startswith(b"\xff\xd8") for run in frames for f in run)
        assert camera.spawned == 1
        assert camera.processes[0].returncode is None  # its one client stayed
        assert feeds.mp4.connections_opened == 1
        assert feeds.status is CameraStatus.LIVE
        assert (remuxers(), decoders()) == (1, 1)


async def test_the_decoder_runs_only_while_someone_wants_jpegs(
    feeds_for: Any,
) -> None:
    async with H264HttpCamera(Picture(fps=10), respawn=False) as camera:
        feeds = feeds_for(UrlCamera(camera.stream_url, streams_video=True))
        watching = feeds.mp4.subscribe()
        await take(watching, 2)
        assert decoders() == 0
        snapshot = feeds.jpeg.subscribe()
        await take(snapshot, 1)
        assert decoders() == 1
        feeds.jpeg.unsubscribe(snapshot)
        await eventually(lambda: decoders() == 0, timeout=10)
        # The MP4 viewer never noticed: same connection, fragments flowing.
        await take(watching, 10)
        assert camera.spawned == 1
        assert remuxers() == 1


async def test_the_painted_send_time_survives_remux_and_decoding(
    feeds_for: Any,
) -> None:
    picture = Picture(size="640x360", fps=10, keyframe_interval=1, stamped=True)
    async with RtspCamera(picture) as camera:
        feeds = feeds_for(
            UrlCamera(
                camera.stream_url,
                streams_video=True,
                input_args={"rtsp_transport": "udp"},
            )
        )
        frames = await take(feeds.jpeg.subscribe(), 5)
        stamps = [stamp.read(frame.jpeg) for frame in frames]
        assert None not in stamps
        assert stamps == sorted(stamps)  # type: ignore[type-var]


async def test_a_camera_that_is_not_h264_gives_jpegs_and_no_mp4(
    feeds_for: Any, tmp_path: Path
) -> None:
    # MPEG-4 part 2 over HTTP, one client at a time: not for browsers.
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    camera = await asyncio.create_subprocess_exec(
        *(FFMPEG, "-hide_banner", "-loglevel", "error", "-re"),
        *("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10"),
        *("-c:v", "mpeg4", "-f", "mpegts", "-listen", "1", url),
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _wait_listening(port)
        feeds = feeds_for(UrlCamera(url, streams_video=True))
        assert feeds.mp4_possible  # not known yet
        [frame] = await take(feeds.jpeg.subscribe(), 1)
        assert frame.jpeg.startswith(b"\xff\xd8")
        assert feeds.kind is StreamKind.OTHER_CODEC
        assert feeds.codec == "mp4v"
        assert not feeds.mp4_possible
    finally:
        camera.kill()
        await camera.wait()


# ------------------------------------------------------------------- masks


async def test_masks_are_painted_into_passed_through_mjpeg_cameras(
    feeds_for: Any,
) -> None:
    async with MjpegCamera(jpegs=(scene(),)) as camera:
        black = feeds_for(UrlCamera(camera.stream_url))
        black.set_masks(LEFT_HALF_BLACK)
        blurred = feeds_for(UrlCamera(camera.stream_url))
        blurred.set_masks(LEFT_HALF_BLURRED)
        [dark] = await take(black.jpeg.subscribe(), 1)
        [soft] = await take(blurred.jpeg.subscribe(), 1)
        assert is_black(dark.jpeg)
        assert is_blurred(soft.jpeg)
        assert not is_black(soft.jpeg)
        assert is_open_grey(dark.jpeg)
        assert is_open_grey(soft.jpeg)
        assert black.kind is StreamKind.UNKNOWN  # never looked at unmasked


async def test_masks_are_painted_into_polled_stills(feeds_for: Any) -> None:
    feeds = feeds_for(UrlCamera(None, stills=[scene(), scene() + b"\0"]))
    feeds.set_masks(LEFT_HALF_BLURRED)
    frames = await take(feeds.jpeg.subscribe(), 2)
    assert feeds.kind is StreamKind.STILLS
    assert all(is_blurred(f.jpeg) and is_open_grey(f.jpeg) for f in frames)
    assert procfs.own_children("ffmpeg") == []  # Pillow, not ffmpeg


async def test_masks_are_painted_where_h264_is_decoded_and_mp4_is_refused(
    feeds_for: Any,
) -> None:
    async with H264HttpCamera(Picture(fps=10), respawn=False) as camera:
        feeds = feeds_for(UrlCamera(camera.stream_url, streams_video=True))
        feeds.set_masks(LEFT_HALF_BLACK)
        [frame] = await take(feeds.jpeg.subscribe(), 1)
        assert is_black(frame.jpeg)
        assert not feeds.mp4_possible
        assert camera.spawned == 1  # the decoder still reads the one remuxer


async def test_a_new_mask_reaches_every_viewer_at_once_and_ends_mp4(
    feeds_for: Any,
) -> None:
    async with H264HttpCamera(Picture(fps=10), respawn=False) as camera:
        feeds = feeds_for(UrlCamera(camera.stream_url, streams_video=True))
        mp4 = feeds.mp4.subscribe()
        jpeg = feeds.jpeg.subscribe()
        await take(mp4, 1)
        [before] = await take(jpeg, 1)
        assert not is_black(before.jpeg)
        feeds.set_masks(LEFT_HALF_BLACK)
        with pytest.raises(StreamClosed, match="masked"):
            await take(mp4, 100)
        # Not one frame made before the change reaches the viewer after it.
        after = await take(jpeg, 3)
        assert all(is_black(frame.jpeg) for frame in after)
        assert camera.spawned == 1  # the same connection throughout
        # And masks removed: pictures whole again, MP4 possible again.
        feeds.set_masks(())
        async with asyncio.timeout(START):
            while is_black((await take(jpeg, 1))[0].jpeg):
                pass
        assert feeds.mp4_possible


def _free_port() -> int:
    from testbed.net import free_port  # noqa: PLC0415 - test-local helper

    return free_port()


async def _wait_listening(port: int) -> None:
    from testbed.net import wait_listening  # noqa: PLC0415

    await wait_listening(port)
