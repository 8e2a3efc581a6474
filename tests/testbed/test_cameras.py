"""The synthetic cameras do what tests, demo and benchmark rely on them for."""

# ruff: noqa: D103 - a test's name says what it proves

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import itertools

import aiohttp
from aiohttp import BodyPartReader, MultipartReader
import pytest

from testbed import mp4, stamp
from testbed.cameras import MjpegCamera, Picture, RtspCamera, sample_jpegs
from testbed.cameras.pictures import FFMPEG

pytestmark = pytest.mark.timeout(60)


def _sent_between(jpeg: bytes, before_ms: int, after_ms: int) -> bool:
    """Whether the stamp in `jpeg` reads as a time in [before_ms, after_ms]."""
    sent = stamp.read(jpeg)
    assert sent is not None, "no readable stamp"
    return stamp.age_ms(sent, after_ms) >= 0 and stamp.age_ms(before_ms, sent) >= 0


async def _one_frame_through_ffmpeg(url: str, *input_args: str) -> bytes:
    """The first frame a reader decodes from `url`, as a JPEG."""
    proc = await asyncio.create_subprocess_exec(
        FFMPEG,
        *("-hide_banner", "-loglevel", "error", "-nostdin", *input_args, "-i", url),
        *("-frames:v", "1", "-f", "image2pipe", "-c:v", "mjpeg", "pipe:1"),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    return out


async def test_a_stamped_mjpeg_camera_paints_each_frame_s_send_time() -> None:
    before = stamp.now_ms()
    async with (
        MjpegCamera(Picture(size="640x360", stamped=True)) as camera,
        aiohttp.ClientSession() as http,
        http.get(camera.still_url) as response,
    ):
        jpeg = await response.read()
    assert _sent_between(jpeg, before, stamp.now_ms())


async def test_a_stamped_rtsp_camera_carries_its_send_time_through_h264() -> None:
    """What a latency measurement through an H.264 path reads."""
    picture = Picture(size="640x360", fps=12, keyframe_interval=2.0, stamped=True)
    before = stamp.now_ms()
    async with RtspCamera(picture) as camera:
        jpeg = await _one_frame_through_ffmpeg(
            camera.stream_url, "-rtsp_transport", "udp"
        )
    assert _sent_between(jpeg, before, stamp.now_ms())


async def test_a_new_client_gets_the_latest_frame_or_waits_for_the_next() -> None:
    """Latest at once (the demo, most cameras), or the next made (the benchmark)."""
    first, second = sample_jpegs(2)
    release = asyncio.Event()

    async def frames() -> AsyncGenerator[bytes]:
        yield first
        await release.wait()
        yield second
        await asyncio.Event().wait()

    for latest, expected in ((True, first), (False, second)):
        release.clear()
        async with (
            MjpegCamera(frames=frames, latest_on_connect=latest) as camera,
            aiohttp.ClientSession() as http,
            http.get(camera.stream_url) as response,
        ):
            assert camera.open_connections == 1  # connected: frame 1 was made
            release.set()
            part = await asyncio.wait_for(
                MultipartReader.from_response(response).next(), 10
            )
            assert isinstance(part, BodyPartReader)
            assert await part.read() == expected
            assert camera.connections_opened == camera.open_connections == 1


async def test_one_source_behind_many_cameras_counts_each_apart() -> None:
    """A district's many camera entities on a few real sources."""
    async with MjpegCamera() as camera, aiohttp.ClientSession() as http:
        urls = [camera.stream_url_for(f"camera.room_{n}") for n in range(3)]
        assert len(set(urls)) == 3  # Home Assistant refuses a URL twice
        for url in [*urls, urls[0]]:
            async with http.get(url) as response:
                await response.content.readuntil(b"\r\n\r\n")
        async with http.get(camera.still_url_for("camera.room_1")) as response:
            assert await response.read() in camera.jpegs
    assert camera.connections_by_name == {
        "camera.room_0": 2,
        "camera.room_1": 1,
        "camera.room_2": 1,
    }
    assert camera.connections_opened == 4


async def test_a_client_reads_the_stamp_of_a_remuxed_h264_keyframe() -> None:
    """What the benchmark's MP4 and HLS viewers do: decode one keyframe alone."""
    pytest.importorskip("av", reason="PyAV is in the current environment only")
    picture = Picture(size="640x360", fps=12, keyframe_interval=1.0, stamped=True)
    before = stamp.now_ms()
    async with RtspCamera(picture) as camera:
        proc = await asyncio.create_subprocess_exec(
            FFMPEG,
            *("-hide_banner", "-loglevel", "error", "-nostdin"),
            *("-rtsp_transport", "udp", "-i", camera.stream_url, "-t", "2"),
            *("-c:v", "copy", "-f", "mp4", "-movflags"),
            "empty_moov+default_base_moof+frag_every_frame",
            "pipe:1",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    after = stamp.now_ms()
    kinds = [(kind, start, end) for kind, start, end in mp4.boxes(out)]
    moov = next(out[s - 8 : e] for k, s, e in kinds if k == b"moov")
    config = mp4.avcc(moov)
    assert config is not None
    fragments = [
        out[a - 8 : e]
        for (k, a, _), (k2, _s, e) in itertools.pairwise(kinds)
        if k == b"moof" and k2 == b"mdat"
    ]
    keyframes = [f for f in fragments if mp4.read_fragment(f)[0]]
    assert 0 < len(keyframes) < len(fragments)
    gray = mp4.decode_first(config, mp4.read_fragment(keyframes[-1])[1])
    assert gray is not None
    sent = stamp.read_gray(gray)
    assert sent is not None
    assert stamp.age_ms(sent, after) >= 0
    assert stamp.age_ms(before, sent) >= 0
