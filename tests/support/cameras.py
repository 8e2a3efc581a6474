"""Synthetic cameras on the loopback interface, and process bookkeeping.

- `MjpegCamera`: an aiohttp server sending `multipart/x-mixed-replace` JPEGs
  (real ones, made once by ffmpeg from `testsrc2`), the way cheap IP cameras
  do. It counts stream connections, stamps every part with its send time
  (`X-Frame-Stamp`), serves `/still.jpg`, and can be killed (connections
  dropped, new ones refused), revived, or paused (connections stay open, no
  frames: a hung camera).
- `H264Camera`: ffmpeg encoding `testsrc2` to H.264 in MPEG-TS and serving it
  with `-listen 1` over HTTP. Such an ffmpeg accepts exactly one client and
  exits when it leaves, so a reader that opened a second connection would be
  refused: it stands for a camera that allows one connection. With
  `respawn=True` a new ffmpeg listens again after each client, like a camera
  that frees its slot.
- `RtspCamera`: Debian's `rtsp-server-perl` with ffmpeg publishing H.264 to
  it. That server only speaks RTP over UDP (it answers 400 to
  `RTP/AVP/TCP` SETUP), so readers must pass `rtsp_transport=udp`.

Processes are always killed and reaped on `stop()` / leaving the context.
Under pytest-homeassistant-custom-component, sockets are blocked unless a test
requests pytest-socket's `socket_enabled` fixture (connections stay limited
to 127.0.0.1).
Helpers: `free_port()`, `sample_jpegs()`, `process_state()`,
`child_processes()`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import functools
import os
from pathlib import Path
import re
import shutil
import signal
import socket
import subprocess
import time
from typing import TYPE_CHECKING, Self

from aiohttp import web

if TYPE_CHECKING:
    from types import TracebackType

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
RTSP_SERVER = shutil.which("rtsp-server-perl") or "/usr/bin/rtsp-server-perl"
LOOPBACK = "127.0.0.1"
_MPJPEG_PART = re.compile(
    rb"--ffmpeg\r\nContent-type: image/jpeg\r\nContent-length: (\d+)\r\n\r\n"
)


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


@functools.cache
def sample_jpegs(count: int = 8, size: str = "320x240") -> tuple[bytes, ...]:
    """`count` distinct JPEGs of ffmpeg's `testsrc2` pattern, made once."""
    result = subprocess.run(
        [
            FFMPEG,
            *("-hide_banner", "-loglevel", "error", "-nostdin"),
            *("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=5"),
            *("-frames:v", str(count), "-q:v", "5", "-f", "mpjpeg", "pipe:1"),
        ],
        capture_output=True,
        check=True,
        timeout=30,
    )
    # Split without the parser under test: ffmpeg's parts are regular.
    data, jpegs, pos = result.stdout, [], 0
    while match := _MPJPEG_PART.search(data, pos):
        start = match.end()
        pos = start + int(match.group(1))
        jpegs.append(data[start:pos])
    assert len(jpegs) == count, len(jpegs)
    return tuple(jpegs)


def process_state(pid: int) -> str | None:
    """The /proc state letter of `pid` (Z for a zombie), None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def child_processes(name: str = "ffmpeg") -> list[int]:
    """Pids of this process's children running `name` (zombies included)."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == me and comm == name:
            found.append(int(entry.name))
    return found


def _listening(port: int) -> bool:
    """Whether something listens on loopback TCP `port`, without connecting."""
    local = f"0100007F:{port:04X}"
    for table in ("/proc/net/tcp",):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[3] == "0A":  # 0A: LISTEN
                return True
    return False


async def wait_listening(port: int, timeout: float = 10.0) -> None:
    """Wait until something listens on loopback `port`."""
    async with asyncio.timeout(timeout):
        while not _listening(port):
            await asyncio.sleep(0.02)


async def _reap(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    await proc.wait()


@dataclass(slots=True)
class _Generation:
    """Connections belong to a generation; killing the camera ends it."""

    number: int = 0


class MjpegCamera:
    """An MJPEG-over-HTTP IP camera on 127.0.0.1 that counts its connections."""

    def __init__(
        self,
        *,
        fps: float = 10.0,
        jpegs: tuple[bytes, ...] | None = None,
        boundary: str = "camboundary",
        content_length: bool = True,
    ) -> None:
        """Describe the camera; `start()` (or `async with`) opens it."""
        self.fps = fps
        self.jpegs = jpegs or sample_jpegs()
        self.boundary = boundary
        self.content_length = content_length
        self.port = free_port()
        self.connections_opened = 0
        """Stream connections accepted since start."""
        self.open_connections = 0
        """Stream connections open now."""
        self.frames_sent = 0
        self.still_requests = 0
        self.paused = False
        """While True, open connections stay open but get no frames."""
        self._generation = _Generation()
        self._transports: set[asyncio.Transport] = set()
        app = web.Application()
        app.router.add_get("/mjpeg", self._stream)
        app.router.add_get("/still.jpg", self._still)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        self._site: web.TCPSite | None = None

    @property
    def url(self) -> str:
        """The stream URL."""
        return f"http://{LOOPBACK}:{self.port}/mjpeg"

    @property
    def still_url(self) -> str:
        """The still-image URL."""
        return f"http://{LOOPBACK}:{self.port}/still.jpg"

    @property
    def alive(self) -> bool:
        """Whether the camera accepts connections."""
        return self._site is not None

    async def start(self) -> None:
        """Start serving."""
        await self._runner.setup()
        await self.revive()

    async def kill(self) -> None:
        """Drop every connection and refuse new ones, like a camera losing power."""
        if self._site is not None:
            await self._site.stop()
            self._site = None
        self._generation.number += 1
        for transport in list(self._transports):
            transport.abort()

    async def revive(self) -> None:
        """Accept connections again on the same port."""
        if self._site is None:
            self._site = web.TCPSite(
                self._runner, LOOPBACK, self.port, reuse_address=True
            )
            await self._site.start()

    async def stop(self) -> None:
        """Kill the camera and release its port for good."""
        await self.kill()
        await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        """Start serving."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving."""
        await self.stop()

    def _frame(self) -> bytes:
        return self.jpegs[int(time.monotonic() * self.fps) % len(self.jpegs)]

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        generation = self._generation.number
        self.connections_opened += 1
        self.open_connections += 1
        transport = request.transport
        if transport is not None:
            self._transports.add(transport)
        response = web.StreamResponse(
            headers={
                "Content-Type": f"multipart/x-mixed-replace; boundary={self.boundary}"
            }
        )
        loop = asyncio.get_running_loop()
        try:
            await response.prepare(request)
            next_at = loop.time()
            while generation == self._generation.number:
                if not self.paused:
                    await response.write(self._part(self._frame()))
                    self.frames_sent += 1
                next_at = max(next_at + 1 / self.fps, loop.time() - 1)
                await asyncio.sleep(next_at - loop.time())
        except ConnectionError:
            pass  # the viewer left, or kill() aborted the connection
        finally:
            self.open_connections -= 1
            if transport is not None:
                self._transports.discard(transport)
        return response

    def _part(self, jpeg: bytes) -> bytes:
        headers = [f"--{self.boundary}", "Content-Type: image/jpeg"]
        if self.content_length:
            headers.append(f"Content-Length: {len(jpeg)}")
        headers.append(f"X-Frame-Stamp: {time.time():.6f}")
        return ("\r\n".join(headers) + "\r\n\r\n").encode() + jpeg + b"\r\n"

    async def _still(self, _request: web.Request) -> web.Response:
        self.still_requests += 1
        return web.Response(body=self._frame(), content_type="image/jpeg")


class _ProcessCamera:
    """Shared bookkeeping for cameras that are ffmpeg processes."""

    def __init__(self) -> None:
        self.processes: list[asyncio.subprocess.Process] = []

    async def _spawn(self, *args: str) -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        self.processes.append(proc)
        return proc

    async def _reap_all(self) -> None:
        for proc in self.processes:
            await _reap(proc)


def _testsrc_h264(size: str, fps: int) -> list[str]:
    return [
        *("-hide_banner", "-loglevel", "error", "-nostdin", "-re"),
        *("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency"),
        *("-g", str(max(1, fps // 2)), "-pix_fmt", "yuv420p"),
    ]


class H264Camera(_ProcessCamera):
    """H.264 in MPEG-TS over HTTP from an ffmpeg that takes one client."""

    def __init__(
        self, *, size: str = "320x240", fps: int = 10, respawn: bool = False
    ) -> None:
        """Describe the camera; with `respawn`, listen again after each client."""
        super().__init__()
        self.size = size
        self.fps = fps
        self.respawn = respawn
        self.port = free_port()
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The stream URL."""
        return f"http://{LOOPBACK}:{self.port}/"

    @property
    def spawned(self) -> int:
        """How many listening ffmpeg processes were started."""
        return len(self.processes)

    async def start(self) -> None:
        """Start listening; returns once the port accepts a client."""
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(), name=f"H264Camera :{self.port}"
        )
        await wait_listening(self.port)

    async def _supervise(self) -> None:
        while True:
            proc = await self._spawn(
                FFMPEG,
                *_testsrc_h264(self.size, self.fps),
                *("-f", "mpegts", "-listen", "1", self.url),
            )
            try:
                await proc.wait()
            finally:
                await _reap(proc)
            if not self.respawn:
                return

    async def kill(self) -> None:
        """Stop serving at once (SIGKILL); connections drop, none are accepted."""
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await self._reap_all()

    async def revive(self) -> None:
        """Listen again after `kill()`."""
        await self.start()

    async def stop(self) -> None:
        """Kill the camera and reap its processes."""
        await self.kill()

    async def __aenter__(self) -> Self:
        """Start serving."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving."""
        await self.stop()


class RtspCamera(_ProcessCamera):
    """rtsp-server-perl fed by ffmpeg: `rtsp://127.0.0.1:<port>/camera` (UDP)."""

    def __init__(self, *, size: str = "320x240", fps: int = 10) -> None:
        """Describe the camera; `start()` launches the server and publisher."""
        super().__init__()
        self.size = size
        self.fps = fps
        self.port = free_port()
        self._source_port = free_port()

    @property
    def url(self) -> str:
        """The stream URL for readers."""
        return f"rtsp://{LOOPBACK}:{self.port}/camera"

    async def start(self) -> None:
        """Start the server, publish to it, return once the stream is described."""
        # RTP from the publisher arrives on UDP ports counted up from here.
        rtp_base = 20000 + (self.port % 2000) * 10
        await self._spawn(
            RTSP_SERVER,
            *("--clientport", str(self.port), "--serverport", str(self._source_port)),
            *("--client_listen_address", LOOPBACK),
            *("--source_listen_address", LOOPBACK),
            *("--rtp_start_port", str(rtp_base), "--loglevel", "1"),
        )
        await wait_listening(self._source_port)
        await wait_listening(self.port)
        await self._spawn(
            FFMPEG,
            *_testsrc_h264(self.size, self.fps),
            *("-rtsp_transport", "udp", "-f", "rtsp"),
            f"rtsp://{LOOPBACK}:{self._source_port}/camera",
        )
        async with asyncio.timeout(10):
            while not await self._described():
                await asyncio.sleep(0.05)

    async def _described(self) -> bool:
        """Whether the server answers DESCRIBE (a publisher is on air)."""
        reader, writer = await asyncio.open_connection(LOOPBACK, self.port)
        try:
            writer.write(
                f"DESCRIBE {self.url} RTSP/1.0\r\nCSeq: 1\r\n"
                "Accept: application/sdp\r\n\r\n".encode()
            )
            status = await reader.readline()
        finally:
            writer.close()
        return b" 200 " in status

    async def stop(self) -> None:
        """Stop publisher and server; reap both."""
        for proc in reversed(self.processes):
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGKILL)
        await self._reap_all()

    async def __aenter__(self) -> Self:
        """Start serving."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving."""
        await self.stop()
