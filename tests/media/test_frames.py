"""The MJPEG parser cuts the same frames out of a stream however it is split."""

# ruff: noqa: D103 - a test's name says what it proves

from __future__ import annotations

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.school_emergency_share.media.frames import (
    MultipartJpegParser,
    StreamFormatError,
)
from testbed.cameras import sample_jpegs

JPEGS = sample_jpegs()


def synthetic_jpeg(tag: int, *, thumbnail: bool = False, size: int = 40) -> bytes:
    """A small JPEG-shaped byte string: segments, a scan with stuffing, EOI.

    With `thumbnail`, an APP1 segment embeds a whole JPEG (SOI…EOI) the way
    EXIF thumbnails do; only the segment length says it is not the end.
    """
    app0 = b"JFIF\x00" + bytes([tag % 256])
    segments = b"\xff\xe0" + (len(app0) + 2).to_bytes(2) + app0
    if thumbnail:
        inner = b"\xff\xd8\xff\xda\x00\x02\x01\x02\xff\xd9"
        segments += b"\xff\xe1" + (len(inner) + 2).to_bytes(2) + inner
    scan = bytearray()
    for i in range(size):
        byte = (tag * 31 + i * 7) % 256
        scan.append(byte)
        if byte == 0xFF:
            scan.append(0x00)  # stuffing, as a real encoder writes
        if i == size // 2:
            scan += b"\xff\xd3"  # a restart marker inside the scan
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + segments + sos + bytes(scan) + b"\xff\xd9"


def multipart(jpegs: list[bytes], styles: list[str]) -> bytes:
    """Encode `jpegs` in the layouts cameras and ffmpeg use."""
    out = bytearray(b"preamble text that is not a part\r\n")
    for jpeg, style in zip(jpegs, styles, strict=True):
        if style == "length":  # ffmpeg -f mpjpeg, most cameras
            out += (
                b"--ffmpeg\r\nContent-type: image/jpeg\r\n"
                b"Content-length: %d\r\n\r\n" % len(jpeg)
            )
            out += jpeg + b"\r\n"
        elif style == "no_length":  # cameras that omit Content-Length
            out += b"--myboundary\r\nContent-Type: image/jpeg\r\n\r\n" + jpeg + b"\r\n"
        elif style == "lf_headers":  # bare LF line ends
            out += b"--b\nContent-Length: %d\n\n" % len(jpeg) + jpeg + b"\n"
        else:  # bare JPEGs back to back
            out += jpeg
    return bytes(out)


def feed_in_pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    parser = MultipartJpegParser()
    frames: list[bytes] = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        frames += parser.feed(data[start:cut])
        start = cut
    return frames


STYLES = st.sampled_from(["length", "no_length", "lf_headers", "bare"])


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_split_anywhere_yields_the_same_frames(data: st.DataObject) -> None:
    tags = data.draw(st.lists(st.integers(0, 255), min_size=1, max_size=6))
    jpegs = [
        synthetic_jpeg(tag, thumbnail=data.draw(st.booleans()), size=10 + tag % 50)
        for tag in tags
    ]
    styles = [data.draw(STYLES) for _ in jpegs]
    stream = multipart(jpegs, styles)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=40))
    assert feed_in_pieces(stream, cuts) == jpegs


@settings(max_examples=30, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 4 * 20_000), max_size=30),
    styles=st.lists(STYLES, min_size=4, max_size=4),
)
def test_real_jpegs_survive_any_split(cuts: list[int], styles: list[str]) -> None:
    jpegs = list(JPEGS[:4])
    stream = multipart(jpegs, styles)
    assert feed_in_pieces(stream, [c % len(stream) for c in cuts]) == jpegs


def test_every_single_byte_boundary_of_ffmpeg_output() -> None:
    stream = multipart(list(JPEGS[:2]), ["length", "no_length"])
    for cut in range(len(stream)):
        assert feed_in_pieces(stream, [cut]) == list(JPEGS[:2]), cut


def test_one_byte_at_a_time() -> None:
    stream = multipart(list(JPEGS[:3]), ["no_length", "bare", "length"])
    parser = MultipartJpegParser()
    frames = [f for i in range(len(stream)) for f in parser.feed(stream[i : i + 1])]
    assert frames == list(JPEGS[:3])


def test_exif_thumbnail_end_marker_is_not_the_end_of_the_frame() -> None:
    jpeg = synthetic_jpeg(7, thumbnail=True)
    assert MultipartJpegParser().feed(multipart([jpeg], ["no_length"])) == [jpeg]


def test_non_jpeg_parts_are_skipped() -> None:
    text = b"--b\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello\r\n"
    stream = text + multipart([JPEGS[0]], ["length"])
    assert MultipartJpegParser().feed(stream) == [JPEGS[0]]


def test_truncated_jpeg_is_dropped_and_the_next_one_kept() -> None:
    cut_short = JPEGS[0][: len(JPEGS[0]) // 2]
    stream = (
        b"--b\r\nContent-Type: image/jpeg\r\n\r\n"
        + cut_short
        + b"\r\n--b\r\nContent-Type: image/jpeg\r\n\r\n"
        + JPEGS[1]
    )
    assert MultipartJpegParser().feed(stream) == [JPEGS[1]]


def test_junk_without_frames_is_rejected_before_it_grows_memory() -> None:
    parser = MultipartJpegParser(max_frame_bytes=1_000_000)
    junk = bytes(range(256)).replace(b"\xff", b"") * 100  # 25.5 kB, no SOI
    fed = 0
    with pytest.raises(StreamFormatError):  # noqa: PT012 - raised by one feed
        for _ in range(100):
            parser.feed(junk)
            fed += len(junk)
            assert parser.buffered <= 1
    assert fed <= 1_000_000


def test_endless_part_body_is_rejected_at_the_cap() -> None:
    parser = MultipartJpegParser(max_frame_bytes=100_000)
    parser.feed(b"--b\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xda\x00\x02")
    with pytest.raises(StreamFormatError):  # noqa: PT012 - raised by one feed
        for _ in range(100):
            parser.feed(b"\x11" * 4096)
            assert parser.buffered <= 100_000


def test_announced_length_over_the_cap_is_rejected_at_once() -> None:
    parser = MultipartJpegParser(max_frame_bytes=100_000)
    with pytest.raises(StreamFormatError, match="announces"):
        parser.feed(b"--b\r\nContent-Length: 99999999\r\n\r\n")


def test_headers_that_never_end_do_not_buffer_forever() -> None:
    parser = MultipartJpegParser()
    parser.feed(b"--" + b"x" * 100_000)
    assert parser.buffered < 20_000
    assert parser.feed(multipart([JPEGS[0]], ["length"])) == [JPEGS[0]]


def test_parser_recovers_after_rejecting() -> None:
    parser = MultipartJpegParser(max_frame_bytes=50_000)
    with pytest.raises(StreamFormatError):
        parser.feed(b"--b\r\nContent-Length: 60000\r\n\r\n")
    assert parser.feed(multipart([JPEGS[0]], ["length"])) == [JPEGS[0]]
