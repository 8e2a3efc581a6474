"""Upstream connections to cameras: an ffmpeg reader, or a still-image poller.

Each source is one connection; the camera hub makes a new one per attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit, urlunsplit

import ffmpeg

from .frames import MultipartJpegParser
from .hub import FrameSource

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

_LOGGER = logging.getLogger(__name__)

READ_SIZE: Final = 64 * 1024
STDERR_TAIL_BYTES: Final = 2048
"""How much of ffmpeg's error output is kept to explain a failure."""
TERMINATE_GRACE: Final = 0.5
"""Seconds ffmpeg gets to exit on SIGTERM before SIGKILL.

SIGTERM lets ffmpeg end an RTSP session properly (TEARDOWN), so a camera
with few connection slots frees ours at once. An ffmpeg blocked on a silent
camera ignores one SIGTERM, hence the short wait before SIGKILL.
"""
KILL_WAIT: Final = 5.0

# ffmpeg starts reading at once and does not buffer input: live, not smooth.
LOW_LATENCY_INPUT: Final[Mapping[str, str]] = {
    "fflags": "nobuffer",
    "flags": "low_delay",
    "analyzeduration": "500000",  # microseconds of probing before the first frame
}
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")


class SourceError(Exception):
    """A camera source failed; the message is safe to log (no credentials)."""


class FfmpegSource(FrameSource):
    """One ffmpeg process reading a camera and writing viewer-sized JPEGs.

    ffmpeg decodes whatever the camera sends (RTSP/H.264, HTTP MJPEG, HLS…),
    drops audio, caps the frame rate, scales down to `max_width` and writes
    multipart JPEG to its stdout, which is parsed here.
    """

    def __init__(
        self,
        binary: str,
        url: str,
        *,
        fps: float = 10,
        max_width: int = 960,
        quality: int = 5,
        extra_input_args: Mapping[str, str] | None = None,
    ) -> None:
        """Describe the process; it starts when `frames()` is first iterated.

        Args:
            binary: the ffmpeg executable.
            url: the camera's stream; may hold credentials, never logged.
            fps: most frames per second sent on.
            max_width: frames wider than this are scaled down (aspect kept).
            quality: JPEG quality scale, 2 (best) to 31 (smallest).
            extra_input_args: input options that add to or override the
                defaults, e.g. `{"rtsp_transport": "udp"}`.

        """
        if fps <= 0 or max_width < 2 or not 2 <= quality <= 31:  # noqa: PLR2004
            raise ValueError("fps > 0, max_width >= 2, quality 2-31")
        self._binary = binary
        self._url = url
        self._fps = fps
        self._max_width = max_width
        self._quality = quality
        self._extra_input_args = dict(extra_input_args or {})
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr_tail = b""
        self._stderr_task: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._closed = False
        self._reading = False
        self._started = False

    @property
    def pid(self) -> int | None:
        """The ffmpeg process id once started."""
        return None if self._proc is None else self._proc.pid

    @property
    def stderr_tail(self) -> str:
        """The end of ffmpeg's error output, credentials removed."""
        return redact(self._stderr_tail.decode(errors="replace"), self._url)

    def command(self) -> list[str]:
        """The ffmpeg command line this source runs."""
        input_args: dict[str, str] = dict(LOW_LATENCY_INPUT)
        url = urlsplit(self._url)
        scheme = url.scheme.lower()
        if scheme in ("rtsp", "rtsps"):
            input_args["rtsp_transport"] = "tcp"  # UDP loses packets across NAT/Wi-Fi
        elif scheme in ("http", "https") and not url.path.endswith(".m3u8"):
            # MJPEG over HTTP has no timestamps; without these the fps filter
            # takes 25 fps for granted and drops most frames of a slower camera.
            input_args["use_wallclock_as_timestamps"] = "1"
        input_args.update(self._extra_input_args)
        # Even dimensions for the JPEG encoder's chroma; min() never upscales.
        width = f"trunc(min({self._max_width},iw)/2)*2"
        # About `fps` frames a second: a frame passes when at least three
        # quarters of a period followed the last one passed (the slack keeps a
        # camera running at the cap, with jittery timestamps, from losing
        # frames; the rate stays under 4/3 of the cap). Unlike the `fps` filter
        # this never repeats a frame (a repeat would carry a new capture time
        # for an old picture) and never holds one back waiting for the next.
        gap = f"{0.75 / self._fps:.4f}"
        keep = f"isnan(prev_selected_t)+gte(t-prev_selected_t,{gap})"
        video = (
            ffmpeg.input(self._url, **input_args)
            .video.filter("select", keep)
            .filter("scale", w=width, h=-2)
        )
        # One encoder thread: frame threading adds about 100 ms of delay per
        # frame, which costs more here (live video) than it saves. Passthrough:
        # the muxer must not duplicate frames to make a constant rate either.
        output = ffmpeg.output(
            video,
            "pipe:1",
            f="mpjpeg",
            an=None,
            threads="1",
            fps_mode="passthrough",
            **{"q:v": str(self._quality)},
        )
        global_args = ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"]
        command: list[str] = output.compile(cmd=[self._binary, *global_args])
        return command

    async def frames(self) -> AsyncIterator[bytes]:
        """Start ffmpeg and yield its JPEGs until it exits.

        Raises:
            SourceError: ffmpeg exited (the camera failed or could not be
                reached) or could not be started.
            RuntimeError: called a second time; a source is one connection.

        """
        if self._started:
            raise RuntimeError("a source is used for one connection only")
        self._started = True
        if self._closed:
            raise SourceError("closed before it started")
        try:
            self._proc = proc = await asyncio.create_subprocess_exec(
                *self.command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as err:
            raise SourceError(f"cannot start {self._binary}: {err}") from err
        assert proc.stdout is not None  # noqa: S101 - PIPE was asked for
        assert proc.stderr is not None  # noqa: S101
        self._stderr_task = asyncio.get_running_loop().create_task(
            self._keep_stderr_tail(proc.stderr), name=f"ffmpeg stderr pid {proc.pid}"
        )
        parser = MultipartJpegParser()
        try:
            if self._closed:  # aclose() ran while the process was starting
                raise SourceError("closed while starting")
            while True:
                self._reading = True
                try:
                    chunk = await proc.stdout.read(READ_SIZE)
                finally:
                    self._reading = False
                if not chunk:
                    break
                try:
                    jpegs = parser.feed(chunk)
                except ValueError as err:
                    raise SourceError(f"unreadable ffmpeg output: {err}") from err
                for jpeg in jpegs:
                    yield jpeg
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1):
                    await proc.wait()
                    if self._stderr_task is not None:
                        await asyncio.wait({self._stderr_task})  # the last words
            raise SourceError(
                f"ffmpeg exited with status {proc.returncode}: {self.stderr_tail}"
            )
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Stop ffmpeg (SIGTERM, then SIGKILL) and reap it. Idempotent.

        The shutdown runs in its own task, so cancelling the caller does not
        leave the process behind.
        """
        self._closed = True
        closing = self._closing
        proc = self._proc
        if closing is None or (
            # A process started after an earlier aclose() found none.
            closing.done() and proc is not None and proc.returncode is None
        ):
            closing = self._closing = asyncio.get_running_loop().create_task(
                self._shutdown(), name=f"ffmpeg shutdown pid {self.pid}"
            )
        await asyncio.shield(closing)

    async def _shutdown(self) -> None:
        proc = self._proc
        if proc is not None:
            drain = None
            if not self._reading and proc.stdout is not None:
                # Read what ffmpeg still writes: blocked on a full pipe it
                # would not see SIGTERM, and asyncio would not see its exit.
                drain = asyncio.get_running_loop().create_task(
                    _discard(proc.stdout), name=f"ffmpeg drain pid {proc.pid}"
                )
            try:
                await _terminate(proc)
            finally:
                if drain is not None:
                    drain.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await drain
        if self._stderr_task is not None:
            self._stderr_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stderr_task

    async def _keep_stderr_tail(self, stderr: asyncio.StreamReader) -> None:
        while chunk := await stderr.read(READ_SIZE):
            self._stderr_tail = (self._stderr_tail + chunk)[-STDERR_TAIL_BYTES:]


async def _discard(reader: asyncio.StreamReader) -> None:
    while await reader.read(READ_SIZE):
        pass


async def _terminate(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            async with asyncio.timeout(TERMINATE_GRACE):
                await proc.wait()
        except TimeoutError:
            _LOGGER.debug("ffmpeg pid %s ignored SIGTERM; killing it", proc.pid)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
    try:
        async with asyncio.timeout(KILL_WAIT):
            await proc.wait()
    except TimeoutError:
        _LOGGER.warning("ffmpeg pid %s did not exit after SIGKILL", proc.pid)


def redact(text: str, url: str) -> str:
    """`text` with `url`'s credentials and query, and any URL's userinfo, removed."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None or parts.query:
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        safe = urlunsplit((parts.scheme, host, parts.path, "", ""))
        text = text.replace(url, safe)
    return _USERINFO.sub(r"\1***@", text)


class PollingSource(FrameSource):
    """A camera without a stream: its still image, polled at a capped rate."""

    def __init__(
        self, get_image: Callable[[], Awaitable[bytes | None]], *, fps: float = 2
    ) -> None:
        """Poll `get_image` at most `fps` times a second, one call at a time."""
        if fps <= 0:
            raise ValueError("fps must be positive")
        self._get_image = get_image
        self._interval = 1 / fps

    async def frames(self) -> AsyncIterator[bytes]:
        """Yield each new still image.

        None yields nothing, and neither does an image identical to the last
        one: a camera that keeps answering with a cached still is not live, and
        its tile must go stale rather than look fresh.
        """
        loop = asyncio.get_running_loop()
        last: bytes | None = None
        while True:
            started = loop.time()
            image = await self._get_image()
            if image and image != last:
                last = image
                yield image
            await asyncio.sleep(max(0.0, started + self._interval - loop.time()))

    async def aclose(self) -> None:
        """Nothing to release: each poll is its own request."""
