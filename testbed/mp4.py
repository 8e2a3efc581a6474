"""Just enough fragmented MP4 for a test client: boxes, the codec setup, samples.

The benchmark's and the tests' viewers read what the integration's `/mp4`
and Home Assistant's HLS send, without the integration's own parser (the
test bed never imports the integration): top-level boxes as they arrive,
the `avcC` a decoder needs, whether a fragment starts with a keyframe, and
its first sample, which `decode_first` turns into a picture (PyAV).
"""

from __future__ import annotations

from collections.abc import Iterator
import struct
from typing import Final

import numpy as np
import numpy.typing as npt

MAX_BOX: Final = 64 * 1024 * 1024
_NON_SYNC: Final = 0x0001_0000


class Mp4Error(ValueError):
    """Not the fragmented MP4 expected."""


def boxes(
    data: bytes, start: int = 0, end: int | None = None
) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes in `data[start:end]`."""
    end = len(data) if end is None else end
    while start + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, start)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, start + 8)
            header = 16
        if size < header or start + size > end:
            raise Mp4Error(f"box {kind!r} of {size} bytes overruns")
        yield kind, start + header, start + size
        start += size


def find(
    data: bytes, path: list[bytes], start: int = 0, end: int | None = None
) -> tuple[int, int] | None:
    """(payload start, end) of the box at `path` (first match at each level)."""
    for kind in path:
        for found, payload, box_end in boxes(data, start, end):
            if found == kind:
                start, end = payload, box_end
                break
        else:
            return None
    return start, end if end is not None else len(data)


def avcc(init: bytes) -> bytes | None:
    """The AVCDecoderConfigurationRecord of an init segment's video, if H.264."""
    at = init.find(b"avcC")
    if at < 4:
        return None
    (size,) = struct.unpack_from(">I", init, at - 4)
    return init[at + 4 : at - 4 + size]


def _tfhd_defaults(data: bytes, tfhd: tuple[int, int] | None) -> tuple[int, int]:
    """The default sample (size, flags) a tfhd gives (0 where it does not)."""
    if tfhd is None:
        return 0, 0
    tf_flags = int.from_bytes(data[tfhd[0] + 1 : tfhd[0] + 4])
    pos = tfhd[0] + 8
    for bit, length in ((0x01, 8), (0x02, 4), (0x08, 4)):
        if tf_flags & bit:
            pos += length
    size = flags = 0
    if tf_flags & 0x10:
        (size,) = struct.unpack_from(">I", data, pos)
        pos += 4
    if tf_flags & 0x20:
        (flags,) = struct.unpack_from(">I", data, pos)
    return size, flags


def samples(moof_mdat: bytes) -> list[tuple[bool, bytes]]:
    """Every sample of a `moof` + `mdat`: (is it a keyframe, its bytes).

    Samples are located as `default_base_moof` says: the trun's data offset
    counts from the moof's first byte.
    """
    moof = find(moof_mdat, [b"moof"])
    traf = None if moof is None else find(moof_mdat, [b"traf"], *moof)
    trun = None if traf is None else find(moof_mdat, [b"trun"], *traf)
    if moof is None or traf is None or trun is None:
        raise Mp4Error("no moof/traf/trun")
    size, flags = _tfhd_defaults(moof_mdat, find(moof_mdat, [b"tfhd"], *traf))
    tr_flags = int.from_bytes(moof_mdat[trun[0] + 1 : trun[0] + 4])
    (count,) = struct.unpack_from(">I", moof_mdat, trun[0] + 4)
    pos = trun[0] + 8
    offset = first_flags = 0
    if tr_flags & 0x01:
        (offset,) = struct.unpack_from(">i", moof_mdat, pos)
        pos += 4
    if tr_flags & 0x04:
        (first_flags,) = struct.unpack_from(">I", moof_mdat, pos)
        pos += 4
    at = moof[0] - 8 + offset
    found = []
    for index in range(count):
        sample_size, sample_flags = size, flags
        for bit in (0x100, 0x200, 0x400, 0x800):
            if not tr_flags & bit:
                continue
            (value,) = struct.unpack_from(">I", moof_mdat, pos)
            pos += 4
            if bit == 0x200:
                sample_size = value
            elif bit == 0x400:
                sample_flags = value
        if index == 0 and tr_flags & 0x04:
            sample_flags = first_flags
        found.append((not sample_flags & _NON_SYNC, moof_mdat[at : at + sample_size]))
        at += sample_size
    return found


def read_fragment(moof_mdat: bytes) -> tuple[bool, bytes]:
    """Whether a `moof` + `mdat` starts with a keyframe, and its first sample."""
    found = samples(moof_mdat)
    if not found:
        raise Mp4Error("no sample")
    return found[0]


def first_keyframe(moof_mdat: bytes) -> bytes | None:
    """The first keyframe sample in a `moof` + `mdat`, if it holds one."""
    return next((sample for sync, sample in samples(moof_mdat) if sync), None)


def decode_first(config: bytes, sample: bytes) -> npt.NDArray[np.uint8] | None:
    """The luminance of one H.264 keyframe sample (AVCC), or None."""
    import av  # noqa: PLC0415 - only the clients that decode need PyAV

    context = av.CodecContext.create("h264", "r")
    context.extradata = config
    try:
        frames = [*context.decode(av.Packet(sample)), *context.decode(None)]
    except av.error.FFmpegError:
        return None
    if not frames:
        return None
    gray: npt.NDArray[np.uint8] = np.asarray(
        frames[0].to_ndarray(format="gray"), dtype=np.uint8
    )
    return gray
