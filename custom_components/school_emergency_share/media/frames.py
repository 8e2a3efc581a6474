"""JPEG frames and the parser that cuts them out of a multipart MJPEG stream.

The parser reads what ffmpeg's `-f mpjpeg` muxer writes and what IP cameras send
as `multipart/x-mixed-replace`: a boundary line, part headers, a blank line, the
JPEG. With a `Content-Length` header the part is cut by length; without one the
JPEG's own markers say where it ends. Bare concatenated JPEGs parse too.

Memory and work are bounded: a source that sends more than `max_frame_bytes`
without completing a frame is broken, and the parser says so instead of
buffering on; every byte is scanned a bounded number of times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import re
from typing import Final

MAX_FRAME_BYTES: Final = 8 * 1024 * 1024
"""Most bytes a source may send without completing a frame."""

MAX_HEADER_BYTES: Final = 16 * 1024
"""Longest part header block; real ones are a few hundred bytes."""

BOUNDARY: Final = "frame"
"""The multipart boundary of the MJPEG streams served to viewers."""

SOI: Final = b"\xff\xd8"
EOI: Final = b"\xff\xd9"

_MARKER: Final = 0xFF
_STUFFED: Final = 0x00
_SOI: Final = 0xD8
_EOI: Final = 0xD9
_SOS: Final = 0xDA
_RESTARTS: Final = range(0xD0, 0xD8)
# Markers without a length field: TEM, RST0-7 (SOI and EOI are handled apart).
_STANDALONE: Final = frozenset({0x01, *_RESTARTS})
# Start-of-frame markers (baseline, progressive, lossless…): they carry the size.
_FRAME_HEADERS: Final = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_CONTENT_LENGTH: Final = re.compile(rb"content-length\s*:\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Frame:
    """One JPEG as it came off a camera, and its multipart part, built once."""

    jpeg: bytes
    captured_at: float
    """Wall-clock epoch seconds when the frame came off the source."""
    seq: int
    """Position in the camera hub's output, counting from 1."""
    part: bytes = field(init=False, repr=False, compare=False)
    """The frame as one part of a `multipart/x-mixed-replace` stream, with its
    capture time: made here once and written as it is to every viewer."""

    def __post_init__(self) -> None:
        """Build the part (a frozen dataclass sets its derived field this way)."""
        headers = (
            f"--{BOUNDARY}\r\n"
            "Content-Type: image/jpeg\r\n"
            f"Content-Length: {len(self.jpeg)}\r\n"
            f"X-Capture-Time: {int(self.captured_at * 1000)}\r\n"
            f"X-Frame-Seq: {self.seq}\r\n"
            "\r\n"
        )
        part = b"".join((headers.encode("ascii"), self.jpeg, b"\r\n"))
        object.__setattr__(self, "part", part)


class StreamFormatError(ValueError):
    """The upstream bytes are not a usable MJPEG stream."""


class MultipartJpegParser:
    """Incremental parser of a multipart (or bare) MJPEG byte stream.

    Feed it chunks as they arrive, split anywhere; it returns the complete
    JPEGs each chunk finished. The boundary string is not needed: a part is
    any line starting with `--` followed by headers and a blank line.
    """

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        """Refuse streams that send more than `max_frame_bytes` per frame."""
        self._max = max_frame_bytes
        self._buf = bytearray()
        self._since_frame = 0  # bytes received since the last complete frame
        self._walk: _JpegWalk | None = None  # set while a JPEG's end is sought

    @property
    def buffered(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        """Add `data`; return the JPEGs it completed, oldest first.

        Raises:
            StreamFormatError: more than `max_frame_bytes` arrived without a
                complete frame, or a part announces a length over that cap.

        """
        self._buf += data
        self._since_frame += len(data)
        frames: list[bytes] = []
        while (step := self._step()) is not None:
            if step:
                frames.append(step)
                self._since_frame = len(self._buf)
        if self._since_frame > self._max:
            self._buf.clear()
            self._walk = None
            self._since_frame = 0
            raise StreamFormatError(
                f"more than {self._max} bytes without a complete JPEG"
            )
        return frames

    def _step(self) -> bytes | None:
        """Parse one thing: a frame, b"" (progress, no frame) or None (need data)."""
        if self._walk is not None:
            return self._finish_jpeg(self._walk)
        buf = self._buf
        # Skip what precedes the next part or JPEG: the CRLF after a body, a
        # preamble, the closing boundary, junk.
        dash = buf.find(b"--")
        soi = buf.find(SOI)
        if dash < 0 and soi < 0:
            # Keep a last byte that may begin a marker split across chunks.
            keep = 1 if buf.endswith((b"-", b"\xff")) else 0
            del buf[: len(buf) - keep]
            return None
        del buf[: soi if dash < 0 or 0 <= soi < dash else dash]
        if buf.startswith(SOI):
            self._walk = _JpegWalk()
            return b""
        return self._part()

    def _part(self) -> bytes | None:
        """Parse a part whose boundary line starts the buffer."""
        buf = self._buf
        limit = MAX_HEADER_BYTES + 4
        crlf = buf.find(b"\r\n\r\n", 0, limit)
        lf = buf.find(b"\n\n", 0, limit)  # some cameras end lines with LF only
        if lf >= 0 and (crlf < 0 or lf < crlf):
            end, body = lf, lf + 2
        else:
            end, body = crlf, crlf + 4
        if end < 0:
            if len(buf) < limit:
                return None
            # No blank line where headers would end: not a part. Drop the
            # window; a JPEG in it is found again by its start marker.
            del buf[:MAX_HEADER_BYTES]
            return b""
        length = _content_length(bytes(buf[:end]))
        if length is None:
            del buf[:body]  # the JPEG follows; its markers say where it ends
            return b""
        if length > self._max:
            del buf[:body]
            raise StreamFormatError(f"a part announces {length} bytes")
        if len(buf) < body + length:
            return None
        frame = bytes(buf[body : body + length]) if buf.startswith(SOI, body) else b""
        del buf[: body + length]  # a part that is not a JPEG is skipped
        return frame

    def _finish_jpeg(self, walk: _JpegWalk) -> bytes | None:
        end = walk.find_end(self._buf)
        if end is None:
            return None
        self._walk = None
        if end < 0:
            # Not a well-formed JPEG: skip its start marker and look again.
            del self._buf[:-end]
            return b""
        frame = bytes(self._buf[:end])
        del self._buf[:end]
        return frame


def jpeg_size(jpeg: bytes) -> tuple[int, int] | None:
    """A JPEG's width and height from its frame header, or None if not found.

    Only the segment headers before the image data are read: a few hops.
    """
    if not jpeg.startswith(SOI):
        return None
    pos, end = 2, len(jpeg)
    while pos + 4 <= end:
        if jpeg[pos] != _MARKER:
            return None
        marker = jpeg[pos + 1]
        if marker == _MARKER:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker in (_SOS, _EOI):
            return None  # image data before any frame header
        length = int.from_bytes(jpeg[pos + 2 : pos + 4])
        if marker in _FRAME_HEADERS:
            if pos + 9 > end:
                return None
            height = int.from_bytes(jpeg[pos + 5 : pos + 7])
            width = int.from_bytes(jpeg[pos + 7 : pos + 9])
            return width, height
        pos += 2 + length
    return None


def _content_length(headers: bytes) -> int | None:
    for line in headers.splitlines()[1:]:
        if match := _CONTENT_LENGTH.fullmatch(line.strip()):
            return int(match.group(1))
    return None


@dataclass(slots=True)
class _JpegWalk:
    """Resumable walk over the markers of the JPEG that starts the buffer.

    Segments are skipped by their length field, so an EOI inside one (the
    thumbnail in an EXIF block) is not taken for the end. In entropy-coded
    data a 0xFF byte is followed by 0x00 (stuffing), a restart marker or
    more 0xFF fill, so the first other marker ends the scan.
    """

    pos: int = 2  # past SOI
    in_scan: bool = False

    def find_end(self, buf: bytearray) -> int | None:
        """The index just past EOI; None if not arrived; -n to skip n bytes."""
        while True:
            if self.in_scan and not self._skip_scan(buf):
                return None
            i = self.pos
            if i + 1 >= len(buf):
                return None
            marker = buf[i + 1]
            if buf[i] != _MARKER or marker == _SOI:
                # Not a JPEG after all, or cut short where another begins.
                return -max(i, 2)
            if marker == _EOI:
                return i + 2
            if marker == _MARKER:  # fill byte before a marker
                self.pos += 1
            elif marker in _STANDALONE:
                self.pos += 2
            else:
                if i + 3 >= len(buf):
                    return None
                self.pos += 2 + int.from_bytes(buf[i + 2 : i + 4])
                self.in_scan = marker == _SOS

    def _skip_scan(self, buf: bytearray) -> bool:
        """Move past entropy-coded data to the marker that ends it, if arrived."""
        while True:
            i = buf.find(b"\xff", self.pos)
            if i < 0 or i + 1 >= len(buf):
                self.pos = len(buf) if i < 0 else i
                return False
            marker = buf[i + 1]
            if marker == _STUFFED or marker in _RESTARTS:
                self.pos = i + 2
            elif marker == _MARKER:
                self.pos = i + 1
            else:
                self.in_scan = False
                self.pos = i
                return True
