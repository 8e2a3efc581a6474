"""Serving a camera to HTTP viewers; those who stall or lose permission are dropped."""

# ruff: noqa: D103 - a test's name says what it proves

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
import re
import socket
import time

import aiohttp
from aiohttp import web
import pytest

from custom_components.school_emergency_share.media import (
    BOUNDARY,
    CONTENT_TYPE,
    CameraHub,
    Frame,
    MultipartJpegParser,
    StreamResult,
    part,
    stream,
)
from testbed.net import LOOPBACK, free_port

from .conftest import eventually
from .fakes import FakeCamera

pytestmark = pytest.mark.timeout(60)

QUIET = 60.0
"""An `idle_check` no test waits for: a stream that ends sooner ended for its
own reason (a close, a revocation), not because the idle check came round."""

# Loopback sockets buffer megabytes; a phone on a cell link buffers far less.
# Capping the server's send buffer makes a stalled reader block the write as
# it would in the field, instead of after minutes of video.
SEND_BUFFER = 32 * 1024


@dataclass
class ViewerServer:
    """An aiohttp server streaming `hub` to each viewer that connects."""

    hub: CameraHub
    write_timeout: float = 5.0
    idle_check: float = 1.0
    port: int = field(default_factory=free_port)
    allowed: dict[str, bool] = field(default_factory=dict)
    results: dict[str, StreamResult] = field(default_factory=dict)

    def url(self, viewer: str) -> str:
        """Where `viewer` watches."""
        return f"http://{LOOPBACK}:{self.port}/mjpeg/{viewer}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Prepare the response, then hand it to `stream`."""
        viewer = request.match_info["viewer"]
        self.allowed.setdefault(viewer, True)
        response = web.StreamResponse(
            headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        if request.transport is not None:
            sock = request.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        self.results[viewer] = await stream(
            response,
            self.hub.subscribe(),
            allowed=lambda: self.allowed[viewer],
            write_timeout=self.write_timeout,
            idle_check=self.idle_check,
        )
        return response


@contextlib.asynccontextmanager
async def serving(server: ViewerServer) -> AsyncIterator[ViewerServer]:
    app = web.Application()
    app.router.add_get("/mjpeg/{viewer}", server.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, LOOPBACK, server.port).start()
    try:
        yield server
    finally:
        await server.hub.stop()
        await runner.cleanup()


@dataclass
class Watcher:
    """A well-behaved viewer: reads everything, counts whole frames."""

    frames: int = 0
    arrivals: list[float] = field(default_factory=list)
    """`time.monotonic()` of each whole frame."""
    ended_at: float | None = None
    first_part: bytes = b""


async def watch(session: aiohttp.ClientSession, url: str, watcher: Watcher) -> None:
    parser = MultipartJpegParser()
    async with session.get(url) as response:
        assert response.headers["Content-Type"] == CONTENT_TYPE
        while chunk := await response.content.read(65536):
            if len(watcher.first_part) < 300:
                watcher.first_part += chunk[:300]
            frames = len(parser.feed(chunk))
            watcher.frames += frames
            watcher.arrivals += [time.monotonic()] * frames
    watcher.ended_at = time.monotonic()


def test_a_part_carries_its_length_capture_time_and_sequence() -> None:
    frame = Frame(jpeg=b"\xff\xd8jpeg\xff\xd9", captured_at=1_700_000_000.1234, seq=42)
    assert part(frame) == (
        b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 8\r\n"
        b"X-Capture-Time: 1700000000123\r\nX-Frame-Seq: 42\r\n\r\n"
        b"\xff\xd8jpeg\xff\xd9\r\n"
    )
    assert BOUNDARY == "frame"
    assert CONTENT_TYPE == "multipart/x-mixed-replace; boundary=frame"


async def test_a_viewer_that_stops_reading_is_dropped_and_others_keep_their_rate() -> (
    None
):
    camera = FakeCamera(fps=25, frame_size=20_000)  # 500 kB/s
    server = ViewerServer(CameraHub("gym", camera.factory), write_timeout=0.5)
    async with serving(server), aiohttp.ClientSession() as session:
        watchers = [Watcher() for _ in range(3)]
        tasks = [
            asyncio.create_task(watch(session, server.url(f"ok{i}"), watcher))
            for i, watcher in enumerate(watchers)
        ]
        # The stalled viewer: a phone in a pocket. Sends its request, never reads.
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(stalled, (LOOPBACK, server.port))
        await loop.sock_sendall(
            stalled, b"GET /mjpeg/stalled HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        started = time.monotonic()
        try:
            await eventually(lambda: all(w.frames for w in watchers), timeout=20)
            await eventually(lambda: "stalled" in server.results, timeout=20)
            await asyncio.sleep(0.1)  # what was written before the drop arrives
        finally:
            stalled.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    result = server.results["stalled"]
    assert result.reason == "write_timeout"
    assert result.ended - started >= 0.5  # never before its write timed out
    assert result.frames_skipped > 0  # it lost frames; nothing queued for it
    # Its last write hung for the whole write timeout, up to the drop. Had it
    # held up the camera's reader, nobody would have had a frame meanwhile;
    # every other viewer kept getting frames (25 a second when idle).
    blocked = (result.ended - 0.5, result.ended)
    during = [
        sum(1 for t in w.arrivals if blocked[0] <= t <= blocked[1]) for w in watchers
    ]
    assert min(during) >= 2, during
    assert camera.connections_opened == 1


async def test_ending_a_subscription_ends_the_http_stream_at_once() -> None:
    before_ms = int(time.time() * 1000)
    camera = FakeCamera(fps=25)
    server = ViewerServer(CameraHub("hall", camera.factory), idle_check=QUIET)
    async with serving(server), aiohttp.ClientSession() as session:
        watcher = Watcher()
        task = asyncio.create_task(watch(session, server.url("officer"), watcher))
        await eventually(lambda: watcher.frames >= 3, timeout=20)

        server.hub.close_all("session_ended")
        # Woken by the close, not by the next idle check a minute away.
        await asyncio.wait_for(task, QUIET / 3)
    after_ms = int(time.time() * 1000)

    assert watcher.ended_at is not None
    result = server.results["officer"]
    assert result.reason == "session_ended"
    assert result.frames_sent >= watcher.frames >= 3
    assert result.duration > 0
    headers = watcher.first_part.split(b"\r\n\r\n", 1)[0].decode()
    capture = re.search(r"X-Capture-Time: (\d+)", headers)
    assert capture is not None
    assert before_ms <= int(capture[1]) <= after_ms  # the viewer sees its age
    assert re.search(r"X-Frame-Seq: \d+", headers)


async def test_a_revoked_viewer_gets_no_further_frame() -> None:
    camera = FakeCamera(fps=25)
    server = ViewerServer(CameraHub("hall", camera.factory), idle_check=QUIET)
    async with serving(server), aiohttp.ClientSession() as session:
        watcher = Watcher()
        task = asyncio.create_task(watch(session, server.url("unit7"), watcher))
        await eventually(lambda: watcher.frames >= 3, timeout=20)

        server.allowed["unit7"] = False
        # Checked before the next frame, not at the idle check a minute away.
        await asyncio.wait_for(task, QUIET / 3)

    result = server.results["unit7"]
    assert result.reason == "not_allowed"
    assert watcher.ended_at is not None
    assert result.frames_sent == watcher.frames  # nothing written after the check


async def test_permission_is_rechecked_while_the_camera_sends_nothing() -> None:
    camera = FakeCamera(hung=True)
    server = ViewerServer(CameraHub("hall", camera.factory), idle_check=0.2)
    async with serving(server), aiohttp.ClientSession() as session:
        watcher = Watcher()
        task = asyncio.create_task(watch(session, server.url("dispatch"), watcher))
        await eventually(lambda: server.hub.subscriber_count == 1, timeout=20)

        server.allowed["dispatch"] = False
        # No frame will ever come: only the idle check can end it.
        await asyncio.wait_for(task, 20)

    assert watcher.ended_at is not None
    assert server.results["dispatch"].reason == "not_allowed"
    assert server.results["dispatch"].frames_sent == 0


async def test_a_viewer_that_hangs_up_ends_as_client_gone() -> None:
    camera = FakeCamera(fps=25)
    server = ViewerServer(CameraHub("hall", camera.factory))
    async with serving(server), aiohttp.ClientSession() as session:
        watcher = Watcher()
        task = asyncio.create_task(watch(session, server.url("phone"), watcher))
        await eventually(lambda: watcher.frames >= 2, timeout=20)

        task.cancel()  # the client closes its connection
        await asyncio.gather(task, return_exceptions=True)
        await eventually(lambda: "phone" in server.results, timeout=20)

        assert server.results["phone"].reason == "client_gone"
        assert server.hub.subscriber_count == 0
