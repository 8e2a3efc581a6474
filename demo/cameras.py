"""Synthetic IP cameras that serve video the way real ones do.

Every camera renders ffmpeg's `testsrc2` pattern with its name and a clock
(local time, milliseconds) burned in, so a viewer can tell at a glance which
camera it is and how old a frame is.

- `MjpegCamera`: MJPEG over HTTP, like most cheap IP cameras:
  `http://127.0.0.1:<port>/video.mjpg` (`multipart/x-mixed-replace`, any
  number of clients, counted) and `/still.jpg`. One ffmpeg encodes; a small
  aiohttp server re-serves its frames to every client.
- `RtspCamera`: H.264 over RTSP, `rtsp://127.0.0.1:<port>/<path>`, served by
  Debian's `rtsp-server-perl` (RTP over UDP only: readers must ask for UDP),
  plus the HTTP snapshot `/still.jpg` such cameras also offer. One ffmpeg
  encodes both, like a camera's single sensor.

A camera whose ffmpeg dies is restarted after a second, as a camera reboots.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import logging
import os
from pathlib import Path
import re
import shutil
import tempfile
import time
from typing import Final, Self

from aiohttp import web

from .processes import LOOPBACK, DemoError, free_port, spawn, stop

_LOGGER = logging.getLogger(__name__)

FFMPEG: Final = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
RTSP_SERVER: Final = shutil.which("rtsp-server-perl") or "/usr/bin/rtsp-server-perl"
FONT: Final = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
BOUNDARY: Final = "ipcamera"
RESTART_DELAY: Final = 1.0
_READ_SIZE: Final = 64 * 1024
_PART_HEADER: Final = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)
# drawtext reads these from files: no filtergraph escaping of names or of the
# clock's format. `time(0)` is the wall clock, for the milliseconds.
_CLOCK_TEXT: Final = (
    "%{localtime:%Y-%m-%d %H\\:%M\\:%S}.%{eif:mod(time(0)*1000,1000):d:3}"
)


@dataclass(frozen=True, slots=True)
class Picture:
    """What a camera's frames look like."""

    size: str = "480x270"
    fps: int = 6
    quality: int = 7
    """JPEG quality scale: 2 (best) to 31 (smallest)."""
    timezone: str | None = None
    """The burned-in clock's time zone (None: this process's)."""


def _check_tools(*tools: str) -> None:
    for tool in tools:
        if not Path(tool).exists():
            raise DemoError(f"{tool} is missing; run scripts/setup")
    if not FONT.exists():
        raise DemoError(f"{FONT} is missing (Debian's fonts-dejavu-core)")


class _Overlay:
    """The text files drawtext burns in: the camera's name and the clock."""

    def __init__(self, name: str) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="ses-demo-camera-"))
        self.name_file = self._dir / "name.txt"
        self.clock_file = self._dir / "clock.txt"
        self.name_file.write_text(name)
        self.clock_file.write_text(_CLOCK_TEXT)

    def filter(self, picture: Picture) -> str:
        """The video filter: testsrc2 at the camera's size and rate, with text."""
        box = "fontcolor=white:fontsize=18:box=1:boxcolor=black@0.6:boxborderw=4"
        return (
            f"drawtext=fontfile={FONT}:textfile={self.name_file}:x=w-tw-8:y=8:{box},"
            f"drawtext=fontfile={FONT}:textfile={self.clock_file}:x=8:y=h-th-10:{box}"
        )

    def remove(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def _source_args(picture: Picture) -> list[str]:
    return [
        *("-hide_banner", "-loglevel", "error", "-nostdin", "-re"),
        *("-f", "lavfi", "-i", f"testsrc2=size={picture.size}:rate={picture.fps}"),
    ]


class _MpjpegReader:
    """Splits ffmpeg's `-f mpjpeg` output into JPEGs (Content-length framed)."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        frames = []
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            match = _PART_HEADER.search(self._buffer, 0, end)
            if match is None:
                raise DemoError("ffmpeg wrote a part without Content-length")
            start = end + 4
            stop_at = start + int(match.group(1))
            if len(self._buffer) < stop_at:
                break
            frames.append(self._buffer[start:stop_at])
            self._buffer = self._buffer[stop_at:]
        return frames


class _FrameServer:
    """An HTTP server with a camera's latest frame: stream and still."""

    def __init__(self, name: str, port: int, *, stream: bool, host: str) -> None:
        self.name = name
        self.port = port
        self.host = host
        self.frame: bytes | None = None
        self.frame_time = 0.0
        """Wall-clock time the latest frame was made."""
        self.frames_made = 0
        self.connections_opened = 0
        """Stream connections accepted since start."""
        self.open_connections = 0
        """Stream connections open now."""
        self.still_requests = 0
        self._new_frame = asyncio.Condition()
        self._stopping = False
        app = web.Application()
        if stream:
            app.router.add_get("/video.mjpg", self._stream)
        app.router.add_get("/still.jpg", self._still)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        try:
            await site.start()
        except OSError as err:
            await self._runner.cleanup()
            raise DemoError(
                f"camera {self.name!r} cannot listen on {self.host}:{self.port}"
                f" ({err.strerror}); is another demo running?"
            ) from err

    async def publish(self, frame: bytes) -> None:
        async with self._new_frame:
            self.frame = frame
            self.frame_time = time.time()
            self.frames_made += 1
            self._new_frame.notify_all()

    async def stop(self) -> None:
        self._stopping = True
        async with self._new_frame:
            self._new_frame.notify_all()
        await self._runner.cleanup()

    async def _next(self, seen: int) -> tuple[int, bytes] | None:
        async with self._new_frame:
            await self._new_frame.wait_for(
                lambda: self._stopping or self.frames_made > seen
            )
            if self._stopping or self.frame is None:
                return None
            return self.frames_made, self.frame

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        self.connections_opened += 1
        self.open_connections += 1
        response = web.StreamResponse(
            headers={
                "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                "Cache-Control": "no-cache",
            }
        )
        try:
            await response.prepare(request)
            seen = max(0, self.frames_made - 1)  # the latest frame at once
            # A slow client waits on its own write and skips to the newest
            # frame: nobody else waits for it.
            while (item := await self._next(seen)) is not None:
                seen, jpeg = item
                header = (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(jpeg)}\r\n\r\n"
                ).encode()
                await response.write(header + jpeg + b"\r\n")
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client left, or the server is stopping
        finally:
            self.open_connections -= 1
        return response

    async def _still(self, _request: web.Request) -> web.Response:
        self.still_requests += 1
        if self.frame is None:
            raise web.HTTPServiceUnavailable(text="camera starting")
        return web.Response(
            body=self.frame,
            content_type="image/jpeg",
            headers={"Cache-Control": "no-cache"},
        )


class _Camera:
    """One ffmpeg (restarted if it dies) feeding a frame server."""

    kind: str = "camera"

    def __init__(
        self,
        name: str,
        http_port: int,
        *,
        picture: Picture,
        stream: bool,
        host: str,
        log_dir: Path | None,
    ) -> None:
        self.name = name
        self.picture = picture
        self.host = host
        self.log_dir = log_dir
        self.server = _FrameServer(name, http_port, stream=stream, host=host)
        self.ffmpeg: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._overlay: _Overlay | None = None
        self._producer: asyncio.Task[None] | None = None

    @property
    def still_url(self) -> str:
        """The snapshot URL (`image/jpeg`)."""
        return f"http://{LOOPBACK}:{self.server.port}/still.jpg"

    def _log(self, what: str) -> Path | None:
        if self.log_dir is None:
            return None
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")
        return self.log_dir / f"{slug}.{what}.log"

    def _ffmpeg_output_args(self, video_filter: str) -> list[str]:
        """Everything after ffmpeg's input: filters and outputs."""
        raise NotImplementedError

    async def start(self) -> None:
        """Serve HTTP, start encoding; returns once the first frame exists."""
        _check_tools(FFMPEG)
        self._overlay = _Overlay(self.name)
        await self.server.start()
        self._producer = asyncio.get_running_loop().create_task(
            self._produce(), name=f"{self.kind} {self.name}"
        )
        await self.wait_for_frame()

    async def wait_for_frame(self, seconds: float = 15.0) -> None:
        """Wait until the camera has made a frame."""
        try:
            async with asyncio.timeout(seconds):
                while self.server.frame is None:
                    if self._producer is not None and self._producer.done():
                        break
                    await asyncio.sleep(0.05)
        except TimeoutError:
            pass
        if self.server.frame is None:
            log = self._log("ffmpeg")
            raise DemoError(
                f"camera {self.name!r} made no picture in {seconds:g} s"
                + (f"; see {log}" if log else "")
            )

    async def _produce(self) -> None:
        assert self._overlay is not None  # noqa: S101 - start() made it
        command = [
            FFMPEG,
            *_source_args(self.picture),
            *self._ffmpeg_output_args(self._overlay.filter(self.picture)),
        ]
        env = dict(os.environ)
        if self.picture.timezone:
            env["TZ"] = self.picture.timezone
        while True:
            reader = _MpjpegReader()
            self.ffmpeg = proc = await spawn(
                *command, output=self._log("ffmpeg"), env=env, stdout_pipe=True
            )
            assert proc.stdout is not None  # noqa: S101 - stdout_pipe
            try:
                while chunk := await proc.stdout.read(_READ_SIZE):
                    for jpeg in reader.feed(chunk):
                        await self.server.publish(jpeg)
            finally:
                await stop(proc, grace=2.0)
            _LOGGER.warning(
                "camera %s: ffmpeg exited (%s); restarting", self.name, proc.returncode
            )
            self.restarts += 1
            await asyncio.sleep(RESTART_DELAY)

    async def stop(self) -> None:
        """Stop encoding and serving; every process is reaped."""
        if self._producer is not None:
            self._producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._producer
            self._producer = None
        if self.ffmpeg is not None:
            await stop(self.ffmpeg, grace=2.0)
        await self.server.stop()
        if self._overlay is not None:
            self._overlay.remove()

    async def __aenter__(self) -> Self:
        """Start the camera."""
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        """Stop the camera."""
        await self.stop()


class MjpegCamera(_Camera):
    """MJPEG over HTTP: a stream for any number of clients, and a still."""

    kind = "MJPEG camera"

    def __init__(
        self,
        name: str,
        port: int,
        *,
        picture: Picture | None = None,
        host: str = LOOPBACK,
        log_dir: Path | None = None,
    ) -> None:
        """Describe the camera; `start()` (or `async with`) turns it on.

        Args:
            name: burned into the picture.
            port: its HTTP port.
            picture: size, frame rate and JPEG quality.
            host: the address it listens on.
            log_dir: where ffmpeg's errors go (None: discarded).

        """
        super().__init__(
            name,
            port,
            picture=picture or Picture(),
            stream=True,
            host=host,
            log_dir=log_dir,
        )

    @property
    def stream_url(self) -> str:
        """The MJPEG stream URL."""
        return f"http://{LOOPBACK}:{self.server.port}/video.mjpg"

    @property
    def connections_opened(self) -> int:
        """Stream connections accepted since start."""
        return self.server.connections_opened

    @property
    def open_connections(self) -> int:
        """Stream connections open now."""
        return self.server.open_connections

    def _ffmpeg_output_args(self, video_filter: str) -> list[str]:
        return [
            *("-vf", video_filter, "-q:v", str(self.picture.quality)),
            *("-f", "mpjpeg", "pipe:1"),
        ]


class RtspCamera(_Camera):
    """H.264 over RTSP (UDP only, like `rtsp-server-perl`) plus an HTTP still."""

    kind = "RTSP camera"

    def __init__(
        self,
        name: str,
        rtsp_port: int,
        http_port: int,
        *,
        path: str = "stream1",
        picture: Picture | None = None,
        still_fps: int = 2,
        rtp_start_port: int | None = None,
        host: str = LOOPBACK,
        log_dir: Path | None = None,
    ) -> None:
        """Describe the camera; `start()` (or `async with`) turns it on.

        Args:
            name: burned into the picture.
            rtsp_port: the RTSP port readers connect to.
            http_port: the HTTP port of `/still.jpg`.
            path: the stream's path in the RTSP URL.
            picture: size, frame rate and JPEG quality.
            still_fps: how often the snapshot is refreshed.
            rtp_start_port: first UDP port the server sends RTP from
                (default: derived from `rtsp_port`).
            host: the address it listens on.
            log_dir: where the processes' errors go (None: discarded).

        """
        super().__init__(
            name,
            http_port,
            picture=picture or Picture(fps=8),
            stream=False,
            host=host,
            log_dir=log_dir,
        )
        self.rtsp_port = rtsp_port
        self.path = path
        self.still_fps = still_fps
        self.rtp_start_port = rtp_start_port or 20000 + (rtsp_port % 2000) * 10
        self._source_port = 0
        self.server_process: asyncio.subprocess.Process | None = None

    @property
    def stream_url(self) -> str:
        """The RTSP URL (readers must use `rtsp_transport=udp`)."""
        return f"rtsp://{LOOPBACK}:{self.rtsp_port}/{self.path}"

    async def start(self) -> None:
        """Start the RTSP server, then the encoder publishing to it."""
        _check_tools(RTSP_SERVER)
        self._source_port = free_port()
        self.server_process = await spawn(
            RTSP_SERVER,
            *("--clientport", str(self.rtsp_port)),
            *("--serverport", str(self._source_port)),
            *("--client_listen_address", self.host),
            *("--source_listen_address", LOOPBACK),
            *("--rtp_start_port", str(self.rtp_start_port), "--loglevel", "1"),
            output=self._log("rtsp-server"),
        )
        try:
            await _wait_listening(self._source_port, self.server_process)
            await _wait_listening(self.rtsp_port, self.server_process)
        except DemoError:
            await stop(self.server_process)
            raise
        await super().start()

    def _ffmpeg_output_args(self, video_filter: str) -> list[str]:
        # One picture, two outputs: H.264 published over RTSP, and JPEG
        # snapshots a few times a second on stdout for `/still.jpg`.
        gop = str(max(1, self.picture.fps))
        return [
            *("-filter_complex", f"[0:v]{video_filter},split=2[rtsp][still]"),
            *("-map", "[rtsp]", "-c:v", "libx264", "-preset", "ultrafast"),
            *("-tune", "zerolatency", "-g", gop, "-pix_fmt", "yuv420p"),
            *("-rtsp_transport", "udp", "-f", "rtsp"),
            f"rtsp://{LOOPBACK}:{self._source_port}/{self.path}",
            *("-map", "[still]", "-r", str(self.still_fps)),
            *("-q:v", str(self.picture.quality), "-f", "mpjpeg", "pipe:1"),
        ]

    async def stop(self) -> None:
        """Stop the encoder and the RTSP server."""
        await super().stop()
        if self.server_process is not None:
            await stop(self.server_process, grace=2.0)


async def _wait_listening(
    port: int, proc: asyncio.subprocess.Process, seconds: float = 10.0
) -> None:
    """Wait until `proc` listens on loopback TCP `port`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise DemoError(f"{RTSP_SERVER} exited ({proc.returncode})")
        try:
            _, writer = await asyncio.open_connection(LOOPBACK, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return
    raise DemoError(f"{RTSP_SERVER} did not listen on port {port} in {seconds:g} s")
