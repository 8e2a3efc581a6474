"""H.264 cameras: over RTSP, the way most IP cameras stream, and over HTTP.

- `RtspCamera`: Debian's `rtsp-server-perl` with ffmpeg publishing H.264 to
  it, `rtsp://127.0.0.1:<port>/<path>`. That server speaks RTP over UDP only
  (it answers 400 to an `RTP/AVP/TCP` SETUP), so readers must ask for UDP.
  With `still_port` the same encoder also writes JPEG stills to
  `http://127.0.0.1:<still_port>/still.jpg`, like a camera's single sensor
  feeding both.
- `H264HttpCamera`: ffmpeg encoding to MPEG-TS and serving it with
  `-listen 1`. Such an ffmpeg takes exactly one client and exits when it
  leaves, so a reader that opened a second connection would be refused: it
  stands for a camera that allows one connection. With `respawn=True` a new
  ffmpeg listens again after each client, like a camera that frees its slot.

Both encode the `Picture` they are given (`testbed.cameras.pictures`), so an
H.264 camera can burn in a name and a clock, or carry each frame's send time
in its pixels, at any size, rate and keyframe interval. Every process is
reaped on `stop()` or on leaving the context.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import contextlib
from pathlib import Path
import shutil
from typing import TYPE_CHECKING, Final, Self

from testbed.errors import SetupError
from testbed.net import LOOPBACK, free_port, wait_listening
from testbed.spawn import require, spawn, stop

from .mjpeg import MjpegCamera
from .pictures import (
    Picture,
    camera_log,
    ffmpeg_output,
    h264_args,
    running_encoder,
)

if TYPE_CHECKING:
    from types import TracebackType

RTSP_SERVER: Final = shutil.which("rtsp-server-perl") or "/usr/bin/rtsp-server-perl"
ON_AIR_TIMEOUT: Final = 30.0
"""Seconds the publisher may take until the server describes the stream."""


class _Camera:
    """`async with` for the cameras here: start, then stop whatever happens."""

    async def start(self) -> None:
        """Turn the camera on."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Turn the camera off; every process is reaped."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        """Start the camera."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the camera."""
        await self.stop()


class RtspCamera(_Camera):
    """H.264 over RTSP (UDP only, like `rtsp-server-perl`), optionally a still."""

    def __init__(
        self,
        picture: Picture | None = None,
        *,
        port: int | None = None,
        path: str = "camera",
        still_port: int | None = None,
        still_fps: float = 2.0,
        rtp_start_port: int | None = None,
        host: str = LOOPBACK,
        name: str = "camera",
        log_dir: Path | None = None,
    ) -> None:
        """Describe the camera; `start()` (or `async with`) turns it on.

        Args:
            picture: what it encodes (size, rate, keyframes, overlay, stamp).
            port: the RTSP port readers connect to (default: a free one).
            path: the stream's path in the RTSP URL.
            still_port: also serve `/still.jpg` from the same encoder on this
                HTTP port (None: no still).
            still_fps: how often the still is refreshed.
            rtp_start_port: first UDP port the server sends RTP from
                (default: derived from `port`).
            host: the address readers connect to.
            name: for logs and task names.
            log_dir: where the processes' errors go (None: discarded).

        """
        self.picture = picture or Picture()
        self.port = port or free_port()
        self.path = path
        self.still_fps = still_fps
        self.rtp_start_port = rtp_start_port or 20000 + (self.port % 2000) * 10
        self.host = host
        self.name = name
        self.log_dir = log_dir
        self._source_port = 0
        self._server: asyncio.subprocess.Process | None = None
        self._publisher: asyncio.Task[None] | None = None
        self.stills: MjpegCamera | None = None
        """The HTTP server of the still image, when there is one."""
        if still_port is not None:
            self.stills = MjpegCamera(
                self.picture,
                port=still_port,
                host=host,
                frames=self._publish,
                name=name,
                log_dir=log_dir,
            )

    @property
    def stream_url(self) -> str:
        """The RTSP URL (readers must use `rtsp_transport=udp`)."""
        return f"rtsp://{LOOPBACK}:{self.port}/{self.path}"

    @property
    def still_url(self) -> str:
        """The still image.

        Raises:
            SetupError: the camera has none (no `still_port`).

        """
        if self.stills is None:
            raise SetupError(f"camera {self.name!r} has no still image")
        return self.stills.still_url

    def _publish(self) -> AsyncGenerator[bytes]:
        """The encoder publishing to the server; yields its stills, if any."""
        picture = self.picture
        rtsp = [
            *h264_args(picture),
            *("-rtsp_transport", "udp", "-f", "rtsp"),
            f"rtsp://{LOOPBACK}:{self._source_port}/{self.path}",
        ]
        stills = self.stills is not None

        def outputs(video_filter: str) -> list[str]:
            if not stills:
                return ["-vf", video_filter, *rtsp]
            # One picture, two outputs: H.264 published over RTSP, and JPEG
            # stills a few times a second on stdout for `/still.jpg`.
            return [
                *("-filter_complex", f"[0:v]{video_filter},split=2[rtsp][still]"),
                *("-map", "[rtsp]", *rtsp),
                *("-map", "[still]", "-r", f"{self.still_fps:g}"),
                *("-q:v", str(picture.qscale), "-f", "mpjpeg", "pipe:1"),
            ]

        log = camera_log(self.log_dir, self.name, "ffmpeg")
        return ffmpeg_output(picture, outputs, name=self.name, log=log)

    async def start(self) -> None:
        """Start the server, then the publisher; returns once the stream is on.

        Raises:
            SetupError: the server or the publisher could not start.

        """
        require(RTSP_SERVER)
        self._source_port = free_port()
        self._server = await spawn(
            RTSP_SERVER,
            *("--clientport", str(self.port)),
            *("--serverport", str(self._source_port)),
            *("--client_listen_address", self.host),
            *("--source_listen_address", LOOPBACK),
            *("--rtp_start_port", str(self.rtp_start_port), "--loglevel", "1"),
            output=camera_log(self.log_dir, self.name, "rtsp-server"),
        )
        try:
            await wait_listening(self._source_port, process=self._server)
            await wait_listening(self.port, process=self._server)
            if self.stills is not None:
                await self.stills.start()
            else:
                self._publisher = asyncio.get_running_loop().create_task(
                    self._run_publisher(), name=f"RTSP camera {self.name}"
                )
            await self._wait_on_air()
        except BaseException:
            await self.stop()
            raise

    async def _run_publisher(self) -> None:
        publisher = self._publish()
        try:
            async for _ in publisher:
                pass  # no stills asked for: nothing comes out
        finally:
            await publisher.aclose()

    async def _wait_on_air(self) -> None:
        """Wait until the server describes the stream (a publisher is on air)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ON_AIR_TIMEOUT
        while not await self._described():
            if self._server is None or self._server.returncode is not None:
                raise SetupError(f"{RTSP_SERVER} exited")
            if loop.time() > deadline:
                raise SetupError(
                    f"camera {self.name!r}: nothing on air at {self.stream_url}"
                    f" after {ON_AIR_TIMEOUT:g} s"
                )
            await asyncio.sleep(0.05)

    async def _described(self) -> bool:
        """Whether the server answers DESCRIBE with 200."""
        try:
            reader, writer = await asyncio.open_connection(LOOPBACK, self.port)
        except OSError:
            return False
        try:
            writer.write(
                f"DESCRIBE {self.stream_url} RTSP/1.0\r\nCSeq: 1\r\n"
                "Accept: application/sdp\r\n\r\n".encode()
            )
            status = await reader.readline()
        except OSError:
            return False
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return b" 200 " in status

    async def stop(self) -> None:
        """Stop the publisher, then the server; both are reaped. Idempotent."""
        if self.stills is not None:
            await self.stills.stop()
        if self._publisher is not None:
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
            self._publisher = None
        if self._server is not None:
            await stop(self._server, grace=2.0)
            self._server = None


class H264HttpCamera(_Camera):
    """H.264 in MPEG-TS over HTTP from an ffmpeg that takes one client."""

    def __init__(
        self,
        picture: Picture | None = None,
        *,
        port: int | None = None,
        respawn: bool = False,
        name: str = "camera",
        log_dir: Path | None = None,
    ) -> None:
        """Describe the camera; with `respawn`, listen again after each client."""
        self.picture = picture or Picture()
        self.port = port or free_port()
        self.respawn = respawn
        self.name = name
        self.log_dir = log_dir
        self.processes: list[asyncio.subprocess.Process] = []
        """Every listening ffmpeg started, in order."""
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def stream_url(self) -> str:
        """The stream URL."""
        return f"http://{LOOPBACK}:{self.port}/"

    @property
    def spawned(self) -> int:
        """How many listening ffmpeg processes were started."""
        return len(self.processes)

    async def start(self) -> None:
        """Start listening; returns once the port accepts a client.

        Raises:
            SetupError: ffmpeg did not start, or did not listen in time.

        """
        supervisor = self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(), name=f"H.264 HTTP camera {self.name} :{self.port}"
        )
        waiting = asyncio.ensure_future(wait_listening(self.port))
        await asyncio.wait({waiting, supervisor}, return_when=asyncio.FIRST_COMPLETED)
        if waiting.done() and waiting.exception() is None:
            return
        if waiting.done():
            failure = waiting.exception()
        else:  # the supervisor ended first: ffmpeg could not start
            waiting.cancel()
            failure = supervisor.exception()
        await self.stop()
        raise SetupError(
            f"camera {self.name!r} did not listen on port {self.port}"
        ) from failure

    async def _supervise(self) -> None:
        picture = self.picture

        def outputs(video_filter: str) -> list[str]:
            return [
                *("-vf", video_filter, *h264_args(picture)),
                *("-f", "mpegts", "-listen", "1", self.stream_url),
            ]

        log = camera_log(self.log_dir, self.name, "ffmpeg")
        while True:
            async with running_encoder(picture, outputs, log=log) as proc:
                self.processes.append(proc)
                await proc.wait()
            if not self.respawn:
                return

    async def kill(self) -> None:
        """Stop serving at once (SIGKILL); connections drop, none are accepted."""
        for proc in self.processes:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None

    async def revive(self) -> None:
        """Listen again after `kill()`."""
        await self.start()

    async def stop(self) -> None:
        """Kill the camera and reap its processes. Idempotent."""
        await self.kill()
