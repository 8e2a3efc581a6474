"""Fragmented MP4 as ffmpeg's remuxer writes it: cut, read, never decoded."""

# ruff: noqa: D103 - a test's name says what it proves

from __future__ import annotations

import functools
import random
import re
import struct
import subprocess

import pytest

from custom_components.school_emergency_share.media.fmp4 import (
    FragmentedMp4Parser,
    InitSegment,
    MediaSegment,
    Mp4FormatError,
    boxes,
    producer_time,
    read_producer_time,
)
from custom_components.school_emergency_share.media.remux import MOVFLAGS
from testbed.cameras.pictures import FFMPEG

FRAMES = 36
GOP = 12


@functools.cache
def remuxed(codec: str = "libx264") -> bytes:
    """Three seconds of 12 fps video, a keyframe a second, remuxed as we do."""
    encode = [
        *(FFMPEG, "-hide_banner", "-loglevel", "error"),
        *("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=12"),
        *("-frames:v", str(FRAMES), "-c:v", codec, "-g", str(GOP)),
        *(["-preset", "ultrafast"] if codec == "libx264" else []),
        *("-pix_fmt", "yuv420p", "-f", "mpegts", "pipe:1"),
    ]
    stream = subprocess.run(encode, capture_output=True, check=True, timeout=60).stdout
    remux = [
        *(FFMPEG, "-hide_banner", "-loglevel", "error", "-f", "mpegts"),
        *("-i", "pipe:0", "-map", "0:v:0", "-c:v", "copy", "-an"),
        *("-f", "mp4", "-movflags", MOVFLAGS, "pipe:1"),
    ]
    return subprocess.run(
        remux, input=stream, capture_output=True, check=True, timeout=60
    ).stdout


def parse(data: bytes, chunk: int | None = None) -> list[InitSegment | MediaSegment]:
    parser = FragmentedMp4Parser()
    if chunk is None:
        return parser.feed(data)
    found: list[InitSegment | MediaSegment] = []
    for start in range(0, len(data), chunk):
        found += parser.feed(data[start : start + chunk])
    return found


def test_init_segment_names_the_h264_codec_as_a_browser_asks_for_it() -> None:
    init, *_ = parse(remuxed())
    assert isinstance(init, InitSegment)
    assert init.h264
    # avc1.PPCCLL from avcC: ultrafast x264 makes constrained baseline (42 c0);
    # the level follows the size and rate.
    assert re.fullmatch(r"avc1\.42c0[0-9a-f]{2}", init.codec), init.codec
    assert init.mime_type == f'video/mp4; codecs="{init.codec}"'
    assert (init.width, init.height) == (320, 180)
    assert init.timescale > 0
    types = [box.type for box in boxes(init.data)]
    assert types == [b"ftyp", b"moov"]


def test_every_frame_is_one_fragment_and_keyframes_start_each_group() -> None:
    _init, *found = parse(remuxed())
    fragments = [f for f in found if isinstance(f, MediaSegment)]
    assert len(fragments) == len(found) == FRAMES
    keyframes = [i for i, f in enumerate(fragments) if f.keyframe]
    assert keyframes == list(range(0, FRAMES, GOP))
    times = [f.decode_time for f in fragments]
    assert times == sorted(times)
    assert len(set(times)) == FRAMES
    for fragment in fragments:
        assert [box.type for box in boxes(fragment.data)] == [b"moof", b"mdat"]


def test_chunks_split_anywhere_give_the_same_segments() -> None:
    data = remuxed()
    whole = parse(data)
    rng = random.Random(7)
    for chunk in (1, 7, 188, 4096, rng.randint(2, 5000)):
        pieces = parse(data, chunk)
        assert [type(p) for p in pieces] == [type(p) for p in whole]
        assert [p.data for p in pieces] == [p.data for p in whole]


def test_fragments_name_the_init_segment_they_follow() -> None:
    data = remuxed()
    first, *_ = found = parse(data + data)  # the stream started over
    inits = [p for p in found if isinstance(p, InitSegment)]
    assert len(inits) == 2
    fragments = [p for p in found if isinstance(p, MediaSegment)]
    assert {id(f.init) for f in fragments[:FRAMES]} == {id(first)}
    assert {id(f.init) for f in fragments[FRAMES:]} == {id(inits[1])}


def test_video_that_is_not_h264_is_told_apart() -> None:
    init, *_ = parse(remuxed("mpeg4"))
    assert isinstance(init, InitSegment)
    assert not init.h264
    assert init.codec == "mp4v"


def test_producer_time_box_carries_the_capture_time_to_the_microsecond() -> None:
    box = producer_time(1, 1_767_225_600.123456, 90_000)
    assert len(box) == 32
    assert box[4:8] == b"prft"
    assert read_producer_time(box) == pytest.approx(1_767_225_600.123456, abs=1e-6)
    [parsed] = list(boxes(box))
    assert parsed.type == b"prft"
    assert struct.unpack(">Q", parsed.payload[16:24])[0] == 90_000


def test_a_fragment_before_any_init_segment_is_refused() -> None:
    _init, first, *_ = parse(remuxed())
    with pytest.raises(Mp4FormatError, match="before the init"):
        parse(first.data)


def test_an_absurd_box_size_is_refused_without_buffering_it() -> None:
    parser = FragmentedMp4Parser(max_box_bytes=1024)
    with pytest.raises(Mp4FormatError, match="bytes"):
        parser.feed(struct.pack(">I4s", 1_000_000, b"mdat"))
    with pytest.raises(Mp4FormatError):
        FragmentedMp4Parser().feed(struct.pack(">I4s", 3, b"moof"))
