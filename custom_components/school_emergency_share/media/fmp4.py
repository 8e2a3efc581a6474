"""Fragmented MP4 as ffmpeg's remuxer writes it, cut and read without decoding.

A camera's H.264 is passed to viewers as fragmented MP4 (ISO/IEC 14496-12):
an init segment (`ftyp` + `moov`: the codec and its parameters) and then
media fragments (`moof` + `mdat`), here one video frame each. Only the boxes
needed to serve it are read:

- from the init segment: the track, its timescale and size, and the codec
  string a browser asks `MediaSource.isTypeSupported` about (`avc1.64001f`,
  from `avcC`), so a camera that is not H.264 can be told apart;
- from each fragment: whether its first sample is a sync sample (a keyframe:
  a viewer may start there, a slow one may skip to there) and its decode time.

`ProducerTime` is the `prft` box (producer reference time, §8.16.5) written
before each fragment sent to a viewer: the wall-clock time the fragment came
off the camera, so the page can show each picture's age as it does for MJPEG.
Every parser bounds what it buffers: a box larger than `MAX_BOX_BYTES` means
the stream is broken.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
import struct
from typing import Final

MAX_BOX_BYTES: Final = 16 * 1024 * 1024
"""Largest box accepted; a 4K keyframe is a few MB."""
NTP_UNIX_OFFSET: Final = 2_208_988_800
"""Seconds from 1900-01-01 (NTP's epoch) to 1970-01-01 (Unix's)."""

# Sample flags (§8.8.3.1): bit 16 is sample_is_non_sync_sample.
_NON_SYNC: Final = 0x0001_0000
# tfhd flags
_BASE_DATA_OFFSET: Final = 0x01
_SAMPLE_DESCRIPTION_INDEX: Final = 0x02
_DEFAULT_DURATION: Final = 0x08
_DEFAULT_SIZE: Final = 0x10
_DEFAULT_FLAGS: Final = 0x20
# trun flags
_DATA_OFFSET: Final = 0x01
_FIRST_SAMPLE_FLAGS: Final = 0x04
_SAMPLE_DURATION: Final = 0x100
_SAMPLE_SIZE: Final = 0x200
_SAMPLE_FLAGS: Final = 0x400
_SAMPLE_CTS: Final = 0x800
# A visual sample entry's fixed fields before its child boxes (§12.1.3).
_VISUAL_ENTRY_FIELDS: Final = 78
_H264: Final = frozenset({b"avc1", b"avc3"})


class Mp4FormatError(ValueError):
    """The bytes are not fragmented MP4 this module can serve."""


@dataclass(frozen=True, slots=True)
class Box:
    """One box: its type and its payload (after the header)."""

    type: bytes
    payload: memoryview


def boxes(data: bytes | memoryview) -> Iterator[Box]:
    """The boxes laid end to end in `data` (a file, or a box's payload)."""
    view = memoryview(data)
    pos, end = 0, len(view)
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", view, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise Mp4FormatError("a large box's size is cut short")
            (size,) = struct.unpack_from(">Q", view, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos  # to the end
        if size < header or pos + size > end:
            raise Mp4FormatError(f"box {kind!r} of {size} bytes overruns its parent")
        yield Box(kind, view[pos + header : pos + size])
        pos += size


def _child(payload: memoryview, kind: bytes) -> memoryview | None:
    return next((box.payload for box in boxes(payload) if box.type == kind), None)


def _path(payload: memoryview, *kinds: bytes) -> memoryview | None:
    for kind in kinds:
        found = _child(payload, kind)
        if found is None:
            return None
        payload = found
    return payload


@dataclass(frozen=True, slots=True)
class InitSegment:
    """`ftyp` + `moov` of one producer run: what a player needs first."""

    data: bytes
    track_id: int
    timescale: int
    codec: str
    """RFC 6381 codec string: `avc1.PPCCLL` for H.264, else the sample entry."""
    width: int
    height: int
    default_sample_flags: int = 0
    """From `trex`: the flags of samples whose fragment does not say."""

    @property
    def h264(self) -> bool:
        """Whether the video is H.264 (what this integration passes to browsers)."""
        return self.codec.startswith(("avc1.", "avc3."))

    @property
    def mime_type(self) -> str:
        """The type to ask `MediaSource.isTypeSupported` about."""
        return f'video/mp4; codecs="{self.codec}"'

    @classmethod
    def parse(cls, data: bytes) -> InitSegment:
        """Read the first video track of an init segment.

        Raises:
            Mp4FormatError: no `moov`, or no video track in it.

        """
        moov = next((b.payload for b in boxes(data) if b.type == b"moov"), None)
        if moov is None:
            raise Mp4FormatError("no moov box")
        for trak in (b.payload for b in boxes(moov) if b.type == b"trak"):
            handler = _path(trak, b"mdia", b"hdlr")
            if handler is None or bytes(handler[8:12]) != b"vide":
                continue
            tkhd, mdhd = _child(trak, b"tkhd"), _path(trak, b"mdia", b"mdhd")
            stsd = _path(trak, b"mdia", b"minf", b"stbl", b"stsd")
            if tkhd is None or mdhd is None or stsd is None:
                raise Mp4FormatError("a video track without tkhd, mdhd or stsd")
            track_id = _track_id(tkhd)
            codec, width, height = _sample_entry(stsd)
            return cls(
                data=data,
                track_id=track_id,
                timescale=_timescale(mdhd),
                codec=codec,
                width=width,
                height=height,
                default_sample_flags=_trex_flags(moov, track_id),
            )
        raise Mp4FormatError("no video track")


def _track_id(tkhd: memoryview) -> int:
    version = tkhd[0]
    offset = 4 + (16 if version == 1 else 8)  # after version/flags and the times
    (track_id,) = struct.unpack_from(">I", tkhd, offset)
    return int(track_id)


def _timescale(mdhd: memoryview) -> int:
    offset = 4 + (16 if mdhd[0] == 1 else 8)
    (timescale,) = struct.unpack_from(">I", mdhd, offset)
    return int(timescale)


def _sample_entry(stsd: memoryview) -> tuple[str, int, int]:
    """The codec string and size of the first sample entry."""
    entries = list(boxes(stsd[8:]))  # after version/flags and the entry count
    if not entries:
        raise Mp4FormatError("stsd without a sample entry")
    entry = entries[0]
    kind = entry.type
    width, height = struct.unpack_from(">HH", entry.payload, 24)
    name = kind.decode("ascii", errors="replace").strip()
    if kind in _H264:
        avcc = _child(entry.payload[_VISUAL_ENTRY_FIELDS:], b"avcC")
        if avcc is None or len(avcc) < 4:  # noqa: PLR2004 - version, profile, flags, level
            raise Mp4FormatError(f"{name} without avcC")
        return f"{name}.{avcc[1]:02x}{avcc[2]:02x}{avcc[3]:02x}", width, height
    return name, width, height


def _trex_flags(moov: memoryview, track_id: int) -> int:
    mvex = _child(moov, b"mvex")
    if mvex is None:
        return 0
    for trex in (b.payload for b in boxes(mvex) if b.type == b"trex"):
        trex_track, _index, _duration, _size, flags = struct.unpack_from(">5I", trex, 4)
        if trex_track == track_id:
            return int(flags)
    return 0


@dataclass(frozen=True, slots=True)
class MediaSegment:
    """One `moof` + `mdat`, with what serving it needs to know."""

    init: InitSegment
    """The init segment it belongs to (a new producer run has a new one)."""
    data: bytes
    keyframe: bool
    """Its first sample is a sync sample: decoding can start here."""
    decode_time: int
    """`tfdt` base media decode time, in the track's timescale."""


def read_fragment(moof: memoryview, init: InitSegment) -> tuple[bool, int]:
    """Whether a fragment starts with a sync sample, and its decode time.

    The first sample's flags are the trun's per-sample flags, else its
    first-sample flags, else the tfhd's default, else the trex's.

    Raises:
        Mp4FormatError: no track fragment of the init segment's track.

    """
    for traf in (b.payload for b in boxes(moof) if b.type == b"traf"):
        tfhd = _child(traf, b"tfhd")
        if tfhd is None:
            continue
        tf_flags = int.from_bytes(tfhd[1:4])
        (track_id,) = struct.unpack_from(">I", tfhd, 4)
        if track_id != init.track_id:
            continue
        flags = init.default_sample_flags
        pos = 8
        for bit, size in (
            (_BASE_DATA_OFFSET, 8),
            (_SAMPLE_DESCRIPTION_INDEX, 4),
            (_DEFAULT_DURATION, 4),
            (_DEFAULT_SIZE, 4),
        ):
            if tf_flags & bit:
                pos += size
        if tf_flags & _DEFAULT_FLAGS:
            (flags,) = struct.unpack_from(">I", tfhd, pos)
        trun = _child(traf, b"trun")
        if trun is not None:
            flags = _first_sample_flags(trun, flags)
        tfdt = _child(traf, b"tfdt")
        decode_time = 0
        if tfdt is not None:
            fmt = ">Q" if tfdt[0] == 1 else ">I"
            (decode_time,) = struct.unpack_from(fmt, tfdt, 4)
        return not flags & _NON_SYNC, int(decode_time)
    raise Mp4FormatError(f"no fragment of track {init.track_id}")


def _first_sample_flags(trun: memoryview, default: int) -> int:
    tr_flags = int.from_bytes(trun[1:4])
    (count,) = struct.unpack_from(">I", trun, 4)
    pos = 8
    if tr_flags & _DATA_OFFSET:
        pos += 4
    if tr_flags & _FIRST_SAMPLE_FLAGS:
        (first,) = struct.unpack_from(">I", trun, pos)
        return int(first)
    if count and tr_flags & _SAMPLE_FLAGS:
        if tr_flags & _SAMPLE_DURATION:
            pos += 4
        if tr_flags & _SAMPLE_SIZE:
            pos += 4
        (flags,) = struct.unpack_from(">I", trun, pos)
        return int(flags)
    return default


def producer_time(track_id: int, captured_at: float, media_time: int) -> bytes:
    """A `prft` box (version 1): `captured_at` (Unix seconds) as NTP time."""
    seconds = int(captured_at)
    fraction = min(int((captured_at - seconds) * (1 << 32)), (1 << 32) - 1)
    ntp = (seconds + NTP_UNIX_OFFSET) << 32 | fraction
    return struct.pack(
        ">I4sB3sIQQ", 32, b"prft", 1, b"\0\0\0", track_id, ntp, media_time
    )


def read_producer_time(box: bytes | memoryview) -> float:
    """The Unix time in a `prft` box written by `producer_time` (for tests)."""
    (ntp,) = struct.unpack_from(">Q", box, 16)
    return float((ntp >> 32) - NTP_UNIX_OFFSET + (ntp & 0xFFFFFFFF) / (1 << 32))


@dataclass(slots=True)
class FragmentedMp4Parser:
    """Cuts ffmpeg's fragmented MP4 output into an init segment and fragments.

    Feed it chunks as they arrive; it returns what each completed, in order:
    an `InitSegment` when `ftyp` + `moov` are complete (again if the stream
    starts over), then a `MediaSegment` per `moof` + `mdat`. Anything else
    between fragments (`mfra`, `sidx`, `styp`…) is skipped.
    """

    max_box_bytes: int = MAX_BOX_BYTES
    _buf: bytearray = field(default_factory=bytearray)
    _head: list[bytes] = field(default_factory=list)
    """`ftyp` and what precedes `moov`, until `moov` completes them."""
    _init: InitSegment | None = None
    _moof: bytes | None = None

    @property
    def init(self) -> InitSegment | None:
        """The init segment read last."""
        return self._init

    def feed(self, data: bytes) -> list[InitSegment | MediaSegment]:
        """Add `data`; return the segments it completed.

        Raises:
            Mp4FormatError: a box too large, a fragment before an init
                segment, or an unreadable init segment or fragment.

        """
        self._buf += data
        found: list[InitSegment | MediaSegment] = []
        while (box := self._next_box()) is not None:
            kind, raw = box
            if kind == b"ftyp":
                self._head, self._moof = [raw], None
            elif kind == b"moov":
                self._init = InitSegment.parse(b"".join([*self._head, raw]))
                self._head = []
                found.append(self._init)
            elif kind == b"moof":
                if self._init is None:
                    raise Mp4FormatError("a fragment before the init segment")
                self._moof = raw
            elif kind == b"mdat" and self._moof is not None:
                assert self._init is not None  # noqa: S101 - checked at moof
                moof = self._moof
                self._moof = None
                keyframe, decode_time = read_fragment(memoryview(moof)[8:], self._init)
                found.append(
                    MediaSegment(self._init, moof + raw, keyframe, decode_time)
                )
        return found

    def _next_box(self) -> tuple[bytes, bytes] | None:
        buf = self._buf
        if len(buf) < 8:  # noqa: PLR2004 - a box header
            return None
        size, kind = struct.unpack_from(">I4s", buf, 0)
        if size == 1:
            if len(buf) < 16:  # noqa: PLR2004 - with its 64-bit size
                return None
            (size,) = struct.unpack_from(">Q", buf, 8)
        if size < 8 or size > self.max_box_bytes:  # noqa: PLR2004
            raise Mp4FormatError(f"box {kind!r} of {size} bytes")
        if len(buf) < size:
            return None
        raw = bytes(buf[:size])
        del buf[:size]
        return bytes(kind), raw
