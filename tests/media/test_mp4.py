"""What one MP4 viewer is sent: the init segment first, then whole fragments."""

# ruff: noqa: D103 - a test's name says what it proves

from __future__ import annotations

import asyncio
from typing import cast

from aiohttp import web
import pytest

from custom_components.school_emergency_share.media import (
    Fragment,
    FragmentedMp4Parser,
    FragmentHub,
    FragmentSubscription,
    InitSegment,
    MediaSegment,
    mp4,
)
from custom_components.school_emergency_share.media.fmp4 import (
    boxes,
    read_producer_time,
)
from tests.support.virtual_time import virtual_time

from .fakes import FakeH264Camera
from .test_fmp4 import remuxed

pytestmark = pytest.mark.timeout(20)


class Recording:
    """Stands for an aiohttp response: keeps what is written."""

    def __init__(self, stop_after: int = 1_000_000) -> None:
        """Hang up (as a viewer would) at write number `stop_after`."""
        self.chunks: list[bytes] = []
        self.stop_after = stop_after

    async def write(self, data: bytes) -> None:
        """Keep `data`."""
        self.chunks.append(data)
        if len(self.chunks) >= self.stop_after:
            raise ConnectionResetError


def as_response(recording: Recording) -> web.StreamResponse:
    return cast("web.StreamResponse", recording)


@virtual_time
async def test_a_viewer_gets_the_init_segment_then_fragments_from_a_keyframe() -> None:
    hub = FragmentHub("gym", FakeH264Camera(gop=5).factory)
    await asyncio.sleep(0.25)  # joins mid-group
    recording = Recording(stop_after=8)
    result = await mp4.stream(
        as_response(recording), hub.subscribe(), allowed=lambda: True
    )
    assert result.reason == "client_gone"
    assert recording.chunks[0] == b"init-1"
    fragments = recording.chunks[1:]
    assert all(chunk[4:8] == b"prft" for chunk in fragments)
    assert fragments[0][32:] == b"frame-0"  # the first keyframe
    assert result.bytes_sent == sum(map(len, recording.chunks[:-1]))
    await hub.stop()


@virtual_time
async def test_a_camera_that_starts_over_sends_its_new_init_segment_first() -> None:
    camera = FakeH264Camera()
    hub = FragmentHub("gym", camera.factory, backoff_initial=0.1)
    recording = Recording(stop_after=40)
    viewing = asyncio.create_task(
        mp4.stream(as_response(recording), hub.subscribe(), allowed=lambda: True)
    )
    await asyncio.sleep(0.5)
    camera.alive = False
    await asyncio.sleep(0.3)
    camera.alive = True
    await viewing
    inits = [c for c in recording.chunks if c.startswith(b"init-")]
    assert inits == [b"init-1", b"init-2"]
    after = recording.chunks.index(b"init-2")
    assert recording.chunks[after + 1][32:] == b"frame-0"
    await hub.stop()


@virtual_time
async def test_a_stream_that_is_not_h264_ends_before_anything_is_sent() -> None:
    sub = FragmentSubscription()
    segment = MediaSegment(
        InitSegment(b"init", 1, 90_000, "mp4v", 320, 180), b"x", True, 0
    )
    sub.offer(Fragment(segment, 0.0, 1))
    recording = Recording()
    result = await mp4.stream(as_response(recording), sub, allowed=lambda: True)
    assert result.reason == mp4.REASON_NOT_H264
    assert recording.chunks == []


async def test_what_a_viewer_is_sent_is_valid_fragmented_mp4() -> None:
    """Init plus prft-stamped fragments parse back, keyframe first."""
    init, *segments = FragmentedMp4Parser().feed(remuxed())
    assert isinstance(init, InitSegment)
    sub = FragmentSubscription(depth=100)
    for seq, segment in enumerate(segments[3:], 1):  # joins after a keyframe
        sub.offer(Fragment(cast("MediaSegment", segment), 1_767_225_600.0 + seq, seq))
    recording = Recording(stop_after=1 + 24)
    await mp4.stream(as_response(recording), sub, allowed=lambda: True)
    sent = b"".join(recording.chunks)
    kinds = [box.type for box in boxes(sent)]
    assert kinds[:2] == [b"ftyp", b"moov"]
    assert kinds[2:5] == [b"prft", b"moof", b"mdat"]
    parsed = FragmentedMp4Parser().feed(sent)
    fragments = [p for p in parsed if isinstance(p, MediaSegment)]
    assert fragments[0].keyframe
    assert len(fragments) == 36 - 12  # from the second group's keyframe on
    prft = next(box for box in boxes(sent) if box.type == b"prft")
    header = len(prft.payload) + 8
    start = sent.index(b"prft") - 4
    assert read_producer_time(sent[start : start + header]) > 1_767_225_600
