"""MJPEG over HTTP, the way most cheap IP cameras serve video.

One encoder makes the frames; an aiohttp server sends them to every client
(`multipart/x-mixed-replace`), counting connections, so a test or the benchmark
can see how many a proxy opens. A slow client waits on its own write and
skips to the newest frame; nobody waits for it, as with a camera's single
encoder.

- `/video.mjpg`: the stream, to any number of clients. A new client gets the
  latest frame at once (`latest_on_connect`, as most cameras do) or the next
  one made (the benchmark: a frame's stamp then says when it was sent).
- `/still.jpg`: the latest frame.
- `/stats`: the counters as JSON, for a camera in another process.

One camera can also stand behind many camera entities (a district of hundreds
of cameras from a few real sources): each entity gets its own URL,
`stream_url_for(name)` (Home Assistant refuses the same URL twice), and the
connections are also counted per name.

Faults, for the tests: `kill()` drops every connection and refuses new ones
(the camera lost power), `revive()` listens again on the same port, and
`paused` keeps connections open with no frames (a hung camera).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncGenerator, Callable
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self
from urllib.parse import quote

from aiohttp import web

from testbed.errors import SetupError
from testbed.net import LOOPBACK, free_port

from .pictures import (
    Picture,
    camera_log,
    ffmpeg_output,
    looped_jpegs,
    sample_jpegs,
    stamped_jpegs,
)

if TYPE_CHECKING:
    from types import TracebackType

BOUNDARY: Final = "ipcamera"
FIRST_FRAME_TIMEOUT: Final = 30.0
"""Seconds a camera may take to make its first frame (ffmpeg starting)."""

type FrameMaker = Callable[[], AsyncGenerator[bytes]]
"""Makes an endless generator of JPEGs at the camera's rate."""


class MjpegCamera:
    """An MJPEG-over-HTTP camera on the loopback interface."""

    def __init__(
        self,
        picture: Picture | None = None,
        *,
        port: int | None = None,
        host: str = LOOPBACK,
        jpegs: tuple[bytes, ...] | None = None,
        frames: FrameMaker | None = None,
        latest_on_connect: bool = True,
        name: str = "camera",
        log_dir: Path | None = None,
    ) -> None:
        """Describe the camera; `start()` (or `async with`) turns it on.

        Args:
            picture: size, rate, quality and what is burned in; it decides
                how frames are made (see `testbed.cameras.pictures`).
            port: its HTTP port (default: a free one).
            host: the address it listens on.
            jpegs: send these in turn instead of rendering the picture.
            frames: where frames come from instead (another process's
                encoder, for a camera's still image).
            latest_on_connect: a new client gets the latest frame at once;
                otherwise the next frame made.
            name: for logs and task names.
            log_dir: where an ffmpeg rendering the picture writes its errors.

        """
        self.picture = picture or Picture()
        self.port = port or free_port()
        self.host = host
        self.name = name
        self.latest_on_connect = latest_on_connect
        self._log_dir = log_dir
        self.jpegs: tuple[bytes, ...] = ()
        """The JPEGs sent in turn (empty when frames are made as they go)."""
        self._frames = frames or self._maker(jpegs)
        self.frame: bytes | None = None
        """The latest frame."""
        self.frames_made = 0
        self.connections_opened = 0
        """Stream connections accepted since start."""
        self.open_connections = 0
        """Stream connections open now."""
        self.connections_by_name: Counter[str] = Counter()
        """Stream connections accepted since start, by `stream_url_for` name
        ('' for `stream_url`)."""
        self.still_requests = 0
        self.paused = False
        """While True, open connections stay open but get no frames."""
        self._new_frame = asyncio.Condition()
        self._generation = 0
        """Connections belong to a generation; `kill()` ends it."""
        self._transports: set[asyncio.Transport] = set()
        self._producer: asyncio.Task[None] | None = None
        app = web.Application()
        app.router.add_get("/video.mjpg", self._stream)
        app.router.add_get("/still.jpg", self._still)
        app.router.add_get("/stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        self._site: web.TCPSite | None = None
        self._set_up = False

    def _maker(self, jpegs: tuple[bytes, ...] | None) -> FrameMaker:
        picture = self.picture
        if jpegs is not None and (picture.stamped or picture.overlaid):
            raise ValueError("given JPEGs are sent as they are: nothing drawn")
        if picture.stamped:
            return lambda: stamped_jpegs(picture)
        if picture.overlaid:
            log = self._log("ffmpeg")

            def outputs(video_filter: str) -> list[str]:
                return [
                    *("-vf", video_filter, "-q:v", str(picture.qscale)),
                    *("-f", "mpjpeg", "pipe:1"),
                ]

            return lambda: ffmpeg_output(picture, outputs, name=self.name, log=log)
        # Nothing drawn: a few frames made once, sent in turn, cost nothing.
        self.jpegs = jpegs or sample_jpegs(8, picture.size, picture.quality)
        return lambda: looped_jpegs(self.jpegs, picture.fps)

    def _log(self, what: str) -> Path | None:
        return camera_log(self._log_dir, self.name, what)

    @property
    def stream_url(self) -> str:
        """The MJPEG stream."""
        return f"http://{LOOPBACK}:{self.port}/video.mjpg"

    @property
    def still_url(self) -> str:
        """The still image (`image/jpeg`)."""
        return f"http://{LOOPBACK}:{self.port}/still.jpg"

    def stream_url_for(self, name: str) -> str:
        """The same stream under a URL of its own, counted apart."""
        return f"{self.stream_url}?camera={quote(name)}"

    def still_url_for(self, name: str) -> str:
        """The same still image under a URL of its own."""
        return f"{self.still_url}?camera={quote(name)}"

    @property
    def alive(self) -> bool:
        """Whether the camera accepts connections."""
        return self._site is not None

    def stats(self) -> dict[str, Any]:
        """The counters, as `/stats` serves them."""
        return {
            "connections_opened": self.connections_opened,
            "open_connections": self.open_connections,
            "connections_by_name": dict(self.connections_by_name),
            "frames": self.frames_made,
            "frame_bytes": len(self.frame or b""),
            "still_requests": self.still_requests,
        }

    async def start(self) -> None:
        """Serve HTTP and make frames; returns once the first frame exists.

        Raises:
            SetupError: the port is taken, or no frame came in time.

        """
        await self._runner.setup()
        self._set_up = True
        try:
            await self.revive()
        except OSError as err:
            await self.stop()
            raise SetupError(
                f"camera {self.name!r} cannot listen on {self.host}:{self.port}"
                f" ({err.strerror}); is another one running?"
            ) from err
        self._producer = asyncio.get_running_loop().create_task(
            self._produce(), name=f"MJPEG camera {self.name} :{self.port}"
        )
        try:
            async with asyncio.timeout(FIRST_FRAME_TIMEOUT):
                while self.frame is None and not self._producer.done():
                    await asyncio.sleep(0.02)
        except TimeoutError:
            pass
        if self.frame is None:
            failure = self._producer.exception() if self._producer.done() else None
            await self.stop()
            log = self._log("ffmpeg")
            raise SetupError(
                f"camera {self.name!r} made no picture in {FIRST_FRAME_TIMEOUT:g} s"
                + (f": {failure}" if failure else "")
                + (f"; see {log}" if log and self.picture.overlaid else "")
            )

    async def kill(self) -> None:
        """Drop every connection and refuse new ones, like a camera losing power."""
        if self._site is not None:
            await self._site.stop()
            self._site = None
        self._generation += 1
        for transport in list(self._transports):
            transport.abort()
        async with self._new_frame:
            self._new_frame.notify_all()

    async def revive(self) -> None:
        """Accept connections again on the same port."""
        if self._site is None:
            site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
            await site.start()
            self._site = site

    async def stop(self) -> None:
        """Stop making frames, drop every client, release the port. Idempotent."""
        if self._producer is not None:
            self._producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._producer
            self._producer = None
        await self.kill()
        if self._set_up:
            self._set_up = False
            await self._runner.cleanup()

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

    async def _produce(self) -> None:
        frames = self._frames()
        try:
            async for jpeg in frames:
                if self.paused:
                    continue
                async with self._new_frame:
                    self.frame = jpeg
                    self.frames_made += 1
                    self._new_frame.notify_all()
        finally:
            await frames.aclose()

    async def _next(self, seen: int, generation: int) -> tuple[int, bytes] | None:
        """The first frame after `seen`; None once the generation is over."""
        async with self._new_frame:
            await self._new_frame.wait_for(
                lambda: generation != self._generation or self.frames_made > seen
            )
            if generation != self._generation or self.frame is None:
                return None
            return self.frames_made, self.frame

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        generation = self._generation
        # What this client saw already is decided as it connects.
        seen = self.frames_made
        if self.latest_on_connect and not self.paused:
            seen = max(0, seen - 1)
        self.connections_opened += 1
        self.connections_by_name[request.query.get("camera", "")] += 1
        self.open_connections += 1
        transport = request.transport
        if transport is not None:
            self._transports.add(transport)
        response = web.StreamResponse(
            headers={
                "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                "Cache-Control": "no-cache",
            }
        )
        try:
            await response.prepare(request)
            while (item := await self._next(seen, generation)) is not None:
                seen, jpeg = item
                await response.write(
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(jpeg)}\r\n\r\n".encode()
                    + jpeg
                    + b"\r\n"
                )
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client left, kill() dropped it, or the server is stopping
        finally:
            self.open_connections -= 1
            if transport is not None:
                self._transports.discard(transport)
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

    async def _stats(self, _request: web.Request) -> web.Response:
        return web.json_response(self.stats())
