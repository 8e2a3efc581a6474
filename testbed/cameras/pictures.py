"""What a synthetic camera shows, and how its frames are made.

Every camera shows ffmpeg's `testsrc2` pattern: it moves, so a frozen picture
is plain to see. A `Picture` says its size, rate and quality, and what is put
into it:

- `label` and `clock`: the camera's name and the local time with milliseconds,
  drawn by ffmpeg (`drawtext`), so a person watching the demo sees which camera
  it is and how old the picture is;
- `stamped`: the send time painted into the pixels (`testbed.stamp`), so a
  program can read latency through a proxy that decodes and re-encodes.

The frames come from one of three makers, each an endless async iterator of
JPEGs at the picture's rate, chosen by what the picture needs:

- `looped_jpegs`: a few JPEGs made once and cycled; costs nothing while it
  runs (tests, and any camera without overlay or stamp);
- `stamped_jpegs`: the pattern made once, each frame stamped and encoded with
  libjpeg-turbo as it is sent;
- `ffmpeg_output`: one ffmpeg process rendering the picture (and whatever else
  its outputs ask for: H.264 to an RTSP server, JPEG stills on its stdout),
  restarted a second after it dies, as a camera reboots.

H.264 cameras use the same pieces: `ffmpeg_input()` is either `testsrc2` or,
for a stamped picture, raw frames that `feed_stamped()` paints and writes to
ffmpeg's stdin at the picture's rate; `video_filter()` draws the overlay;
`h264_args()` encodes with the picture's keyframe interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
import contextlib
from dataclasses import dataclass
import functools
import itertools
import logging
import os
from pathlib import Path
import re
import shutil
import subprocess
import tempfile
from typing import TYPE_CHECKING, Final

import numpy as np
from turbojpeg import TJPF_RGB, TurboJPEG  # type: ignore[import-untyped]

from testbed import stamp
from testbed.errors import SetupError
from testbed.spawn import require, spawn, stop

if TYPE_CHECKING:
    import numpy.typing as npt

_LOGGER = logging.getLogger(__name__)

FFMPEG: Final = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
FONT: Final = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
RESTART_DELAY: Final = 1.0
"""Seconds before an ffmpeg that died is started again."""
PATTERN_FRAMES: Final = 12
"""Frames of the pattern a stamped camera cycles through."""
_READ_SIZE: Final = 64 * 1024
_PART_HEADER: Final = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)
_QUIET: Final = ("-hide_banner", "-loglevel", "error", "-nostdin")
# drawtext reads these from files: no filtergraph escaping of names or of the
# clock's format. `time(0)` is the wall clock, for the milliseconds.
_CLOCK_TEXT: Final = (
    "%{localtime:%Y-%m-%d %H\\:%M\\:%S}.%{eif:mod(time(0)*1000,1000):d:3}"
)
_TEXT_BOX: Final = "fontcolor=white:fontsize=18:box=1:boxcolor=black@0.6:boxborderw=4"


@dataclass(frozen=True, slots=True)
class Picture:
    """What a camera's frames look like."""

    size: str = "320x240"
    """Width x height in pixels."""
    fps: float = 10.0
    quality: int = 90
    """JPEG quality in percent, as libjpeg counts it."""
    label: str | None = None
    """Burned in at the top right (ffmpeg renders the picture)."""
    clock: bool = False
    """The local time with milliseconds burned in at the bottom left."""
    timezone: str | None = None
    """The clock's time zone (None: this process's)."""
    stamped: bool = False
    """Each frame's send time painted into its pixels (`testbed.stamp`)."""
    keyframe_interval: float = 0.5
    """Seconds between H.264 keyframes."""
    bitrate_kbps: int | None = None
    """H.264 bit rate cap, as a camera is configured (None: quality-based)."""

    def __post_init__(self) -> None:
        """Refuse what no maker can make."""
        if self.stamped and self.overlaid:
            raise ValueError("a stamped picture has no overlay (the band is read)")
        if self.fps <= 0 or not 1 <= self.quality <= 100:
            raise ValueError("fps > 0, quality 1-100")

    @property
    def width(self) -> int:
        """Pixels across."""
        return int(self.size.split("x")[0])

    @property
    def height(self) -> int:
        """Pixels down."""
        return int(self.size.split("x")[1])

    @property
    def overlaid(self) -> bool:
        """Whether ffmpeg draws text into it."""
        return self.label is not None or self.clock

    @property
    def qscale(self) -> int:
        """Ffmpeg's `-q:v` for `quality` (2 best, 31 smallest), roughly."""
        return round(2 + (100 - self.quality) * 29 / 99)

    @property
    def gop(self) -> int:
        """Frames from one H.264 keyframe to the next."""
        return max(1, round(self.fps * self.keyframe_interval))


# ------------------------------------------------------------------ patterns


@functools.cache
def sample_jpegs(
    count: int = 8, size: str = "320x240", quality: int = 90
) -> tuple[bytes, ...]:
    """`count` successive JPEGs of ffmpeg's `testsrc2` pattern, made once."""
    qscale = Picture(size=size, quality=quality).qscale
    result = subprocess.run(
        [
            FFMPEG,
            *_QUIET,
            *("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=5"),
            *("-frames:v", str(count), "-q:v", str(qscale), "-f", "mpjpeg", "pipe:1"),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    jpegs = MpjpegSplitter().feed(result.stdout)
    if len(jpegs) != count:
        raise SetupError(f"ffmpeg made {len(jpegs)} of {count} test pictures")
    return tuple(jpegs)


async def pattern_frames(picture: Picture, count: int) -> npt.NDArray[np.uint8]:
    """`count` successive frames of `testsrc2` as RGB arrays, made once."""
    proc = await asyncio.create_subprocess_exec(
        FFMPEG,
        *_QUIET,
        *("-f", "lavfi", "-i", f"testsrc2=size={picture.size}:rate=10"),
        *("-frames:v", str(count), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise SetupError(f"ffmpeg could not make the test pattern: {err.decode()}")
    shape = (count, picture.height, picture.width, 3)
    return np.frombuffer(out, dtype=np.uint8).reshape(shape)


class MpjpegSplitter:
    """Splits ffmpeg's `-f mpjpeg` output into JPEGs (parts carry a length)."""

    def __init__(self) -> None:
        """Start with nothing buffered."""
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        """The JPEGs completed by `data`."""
        self._buffer += data
        frames = []
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            match = _PART_HEADER.search(self._buffer, 0, end)
            if match is None:
                raise SetupError("ffmpeg wrote a part without Content-length")
            start = end + 4
            stop_at = start + int(match.group(1))
            if len(self._buffer) < stop_at:
                break
            frames.append(self._buffer[start:stop_at])
            self._buffer = self._buffer[stop_at:]
        return frames


# ------------------------------------------------------------------ makers


class _Pace:
    """`fps` ticks a second; late ticks are not made up beyond a second."""

    def __init__(self, fps: float) -> None:
        self._period = 1 / fps
        self._next: float | None = None

    async def tick(self) -> None:
        """Return at the next tick (the first at once)."""
        now = asyncio.get_running_loop().time()
        if self._next is None:
            self._next = now
            return
        self._next = max(self._next + self._period, now - 1)
        await asyncio.sleep(self._next - now)


async def looped_jpegs(jpegs: tuple[bytes, ...], fps: float) -> AsyncGenerator[bytes]:
    """`jpegs` in turn, `fps` a second, for ever."""
    pace = _Pace(fps)
    for index in itertools.count():
        await pace.tick()
        yield jpegs[index % len(jpegs)]


async def stamped_jpegs(picture: Picture) -> AsyncGenerator[bytes]:
    """The pattern with each frame's send time painted in, encoded as sent."""
    pattern = await pattern_frames(picture, PATTERN_FRAMES)
    canvas = np.empty_like(pattern[0])
    encoder = TurboJPEG()
    pace = _Pace(picture.fps)
    for index in itertools.count():
        await pace.tick()
        canvas[:] = pattern[index % PATTERN_FRAMES]
        # Stamped before encoding: latencies include the camera's own
        # encoding (about 3 ms at 1280x720), the same for every reader.
        stamp.paint(canvas, stamp.now_ms())
        yield encoder.encode(canvas, quality=picture.quality, pixel_format=TJPF_RGB)


async def feed_stamped(picture: Picture, stdin: asyncio.StreamWriter) -> None:
    """Write stamped raw RGB frames to an encoder's stdin at the picture's rate.

    The stamp is painted as the frame is handed to the encoder, so a reader's
    latency includes the encoding, as with a camera's own encoder.
    """
    pattern = await pattern_frames(picture, PATTERN_FRAMES)
    canvas = np.empty_like(pattern[0])
    pace = _Pace(picture.fps)
    with contextlib.suppress(ConnectionError):  # the encoder exited
        for index in itertools.count():
            await pace.tick()
            canvas[:] = pattern[index % PATTERN_FRAMES]
            stamp.paint(canvas, stamp.now_ms())
            stdin.write(canvas.tobytes())
            await stdin.drain()


# ------------------------------------------------------------------ ffmpeg


def camera_log(log_dir: Path | None, name: str, what: str) -> Path | None:
    """`<log_dir>/<camera name, slugged>.<what>.log`, or None without a dir."""
    if log_dir is None:
        return None
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return log_dir / f"{slug}.{what}.log"


def ffmpeg_input(picture: Picture) -> list[str]:
    """Ffmpeg's input: `testsrc2` in real time, or stamped raw frames on stdin."""
    if picture.stamped:
        return [
            *_QUIET[:-1],  # stdin carries the frames
            *("-f", "rawvideo", "-pix_fmt", "rgb24", "-video_size", picture.size),
            *("-framerate", f"{picture.fps:g}", "-i", "pipe:0"),
        ]
    return [
        *_QUIET,
        "-re",
        *("-f", "lavfi", "-i", f"testsrc2=size={picture.size}:rate={picture.fps:g}"),
    ]


def h264_args(picture: Picture) -> list[str]:
    """Encode H.264 as a camera does: low latency, a keyframe every interval.

    At most `bitrate_kbps` where the picture gives one, as a camera's
    configured bit rate.
    """
    rate = picture.bitrate_kbps
    return [
        *("-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency"),
        *("-g", str(picture.gop), "-pix_fmt", "yuv420p"),
        *(
            ("-b:v", f"{rate}k", "-maxrate", f"{rate}k", "-bufsize", f"{2 * rate}k")
            if rate
            else ()
        ),
    ]


type Outputs = Callable[[str], list[str]]
"""ffmpeg's arguments after its input, given the video filter to apply."""


class Overlay:
    """The text files ffmpeg's `drawtext` burns in: the name and the clock."""

    def __init__(self, picture: Picture) -> None:
        """Write the files (`remove()` deletes them)."""
        self.picture = picture
        self._dir = Path(tempfile.mkdtemp(prefix="ses-camera-"))
        self._parts: list[str] = []
        if picture.label is not None:
            name = self._dir / "name.txt"
            name.write_text(picture.label)
            self._parts.append(f"textfile={name}:x=w-tw-8:y=8")
        if picture.clock:
            clock = self._dir / "clock.txt"
            clock.write_text(_CLOCK_TEXT)
            self._parts.append(f"textfile={clock}:x=8:y=h-th-10")

    def video_filter(self) -> str | None:
        """The `drawtext` filters, or None when nothing is drawn."""
        if not self._parts:
            return None
        if not FONT.exists():
            raise SetupError(f"{FONT} is missing (Debian's fonts-dejavu-core)")
        return ",".join(
            f"drawtext=fontfile={FONT}:{part}:{_TEXT_BOX}" for part in self._parts
        )

    def remove(self) -> None:
        """Delete the files."""
        shutil.rmtree(self._dir, ignore_errors=True)


@contextlib.asynccontextmanager
async def running_encoder(
    picture: Picture,
    outputs: Outputs,
    *,
    log: Path | None = None,
    stdout_pipe: bool = False,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """One ffmpeg rendering `picture` into `outputs`, stopped on exit.

    A stamped picture is fed on stdin.
    """
    require(FFMPEG)
    overlay = Overlay(picture)
    env = dict(os.environ)
    if picture.timezone:
        env["TZ"] = picture.timezone
    feeder: asyncio.Task[None] | None = None
    try:
        video_filter = overlay.video_filter() or "null"
        proc = await spawn(
            FFMPEG,
            *ffmpeg_input(picture),
            *outputs(video_filter),
            output=log,
            env=env,
            stdin_pipe=picture.stamped,
            stdout_pipe=stdout_pipe,
        )
        if proc.stdin is not None:
            feeder = asyncio.get_running_loop().create_task(
                feed_stamped(picture, proc.stdin), name=f"stamped frames {proc.pid}"
            )
        try:
            yield proc
        finally:
            if feeder is not None:
                feeder.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await feeder
            await stop(proc, grace=2.0)
    finally:
        overlay.remove()


async def ffmpeg_output(
    picture: Picture,
    outputs: Outputs,
    *,
    name: str,
    log: Path | None = None,
) -> AsyncGenerator[bytes]:
    """Run ffmpeg for ever (restarted if it dies); yield the JPEGs on its stdout.

    Outputs that write `-f mpjpeg pipe:1` give JPEGs; others give none, and
    this only keeps the encoder running.
    """
    while True:
        splitter = MpjpegSplitter()
        async with running_encoder(picture, outputs, log=log, stdout_pipe=True) as proc:
            assert proc.stdout is not None  # noqa: S101 - stdout_pipe
            while chunk := await proc.stdout.read(_READ_SIZE):
                for jpeg in splitter.feed(chunk):
                    yield jpeg
            await proc.wait()
        _LOGGER.warning(
            "camera %s: ffmpeg exited (%s); restarting", name, proc.returncode
        )
        await asyncio.sleep(RESTART_DELAY)
