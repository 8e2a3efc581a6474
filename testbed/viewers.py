"""MJPEG viewers for the benchmark and tests: raw aiohttp reading, cheap on purpose.

A `Viewer` reads a `multipart/x-mixed-replace` stream, cuts parts by their
`Content-Length` (both proxies send one), counts them per second and, at most
once per `sample_every` seconds, reads the send time painted in a frame
(`testbed.stamp`) to measure latency. Nothing else is decoded, so the client's
own CPU stays small next to what it measures.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
import random
import re
import socket
import time
from typing import Final

import aiohttp

from . import stamp

READ_LIMIT: Final = 1 << 20
_CONTENT_LENGTH: Final = re.compile(rb"(?i)content-length:\s*(\d+)")
_MAX_HEADER: Final = 8192


class ViewerError(Exception):
    """A viewer could not open or read its stream."""


@dataclass(slots=True)
class ViewerStats:
    """What one viewer saw."""

    status: int | None = None
    opened_at: float | None = None
    """`time.monotonic()` when the request was sent."""
    responded_at: float | None = None
    """`time.monotonic()` when the response's status arrived."""
    first_part_at: float | None = None
    parts: int = 0
    part_times: list[float] = field(default_factory=list)
    """`time.monotonic()` of every part received."""
    latencies_ms: list[float] = field(default_factory=list)
    """Milliseconds from a frame's send time (painted in it) to its arrival."""
    sampled_at: list[float] = field(default_factory=list)
    """`time.monotonic()` of each latency sample."""
    unreadable_stamps: int = 0
    ended_at: float | None = None
    end: str | None = None
    """Why the stream ended: `eof`, `error: …`, `cancelled`."""

    def fps_buckets(self, start: float, stop: float) -> list[float]:
        """Parts received in each whole second of [start, stop)."""
        seconds = int(stop - start)
        buckets = [0.0] * seconds
        for t in self.part_times:
            index = int(t - start)
            if 0 <= index < seconds and t >= start:
                buckets[index] += 1
        return buckets

    def latencies_between(self, start: float, stop: float) -> list[float]:
        """Latencies of frames sampled in [start, stop)."""
        return [
            latency
            for latency, at in zip(self.latencies_ms, self.sampled_at, strict=True)
            if start <= at < stop
        ]

    def sampled(self, at: float, latency: float) -> None:
        """Record one latency sample taken at `at`."""
        self.latencies_ms.append(latency)
        self.sampled_at.append(at)


class Viewer:
    """One viewer of an MJPEG URL; `run()` reads until the stream ends."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        sample_every: float = 1.0,
        expect: tuple[int, ...] = (200,),
    ) -> None:
        """Describe the viewer.

        Args:
            http: the session (its connector must allow enough connections).
            url: the stream.
            headers: e.g. a bearer token for Home Assistant's own proxy.
            sample_every: seconds between latency samples (0: none).
            expect: statuses that open a stream; others raise ViewerError.

        """
        self.http = http
        self.url = url
        self.headers = headers or {}
        self.sample_every = sample_every
        self.expect = expect
        self.stats = ViewerStats()
        self.first_part = asyncio.Event()
        # Viewers sample at different moments, not all on the same frame.
        self._next_sample = time.monotonic() + random.uniform(0, sample_every)

    async def run(self) -> ViewerStats:
        """Read the stream until it ends, fails or the task is cancelled."""
        stats = self.stats
        stats.opened_at = time.monotonic()
        try:
            async with self.http.get(
                self.url, headers=self.headers, read_bufsize=READ_LIMIT
            ) as response:
                stats.status = response.status
                stats.responded_at = time.monotonic()
                if response.status not in self.expect:
                    text = (await response.text())[:200]
                    raise ViewerError(f"{self.url}: {response.status} {text}")
                await self._read(response.content)
            stats.end = "eof"
        except asyncio.CancelledError:
            stats.end = "cancelled"
            raise
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            stats.end = f"error: {err!r}"
        finally:
            stats.ended_at = time.monotonic()
        return stats

    async def _read(self, content: aiohttp.StreamReader) -> None:
        buf = bytearray()
        body_start = body_end = -1
        while chunk := await content.readany():
            buf += chunk
            consumed = 0
            while True:
                if body_end < 0:
                    head_end = buf.find(b"\r\n\r\n", consumed)
                    if head_end < 0:
                        if len(buf) - consumed > _MAX_HEADER:
                            raise ViewerError(f"{self.url}: no part header")
                        break
                    match = _CONTENT_LENGTH.search(buf, consumed, head_end)
                    if match is None:
                        raise ViewerError(f"{self.url}: a part without length")
                    body_start = head_end + 4
                    body_end = body_start + int(match.group(1))
                if len(buf) < body_end:
                    break
                self._part(buf, body_start, body_end)
                consumed, body_start, body_end = body_end, -1, -1
            if consumed:
                del buf[:consumed]

    def _part(self, buf: bytearray, start: int, end: int) -> None:
        now = time.monotonic()
        stats = self.stats
        stats.parts += 1
        stats.part_times.append(now)
        if stats.first_part_at is None:
            stats.first_part_at = now
            self.first_part.set()
        if self.sample_every and now >= self._next_sample:
            self._next_sample = now + self.sample_every
            sent = stamp.read(bytes(buf[start:end]))
            if sent is None:
                stats.unreadable_stamps += 1
            else:
                stats.sampled(now, float(stamp.age_ms(sent)))


async def first_frame_seconds(
    http: aiohttp.ClientSession,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> float:
    """Seconds from sending the request to having the first whole frame."""
    viewer = Viewer(http, url, headers=headers, sample_every=0)
    task = asyncio.get_running_loop().create_task(viewer.run())
    try:
        async with asyncio.timeout(timeout):
            waiter = asyncio.ensure_future(viewer.first_part.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if task.done():
                task.result()  # raises ViewerError for a refusal
                raise ViewerError(f"{url}: ended before a frame ({viewer.stats.end})")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    stats = viewer.stats
    assert stats.first_part_at is not None  # noqa: S101 - first_part was set
    assert stats.opened_at is not None  # noqa: S101
    return stats.first_part_at - stats.opened_at


@dataclass(frozen=True, slots=True)
class Admission:
    """When a viewer retrying a link got in, and got its first frame."""

    attempts: int
    admitted_at: float
    """`time.monotonic()` of the 200 response."""
    first_frame_at: float


async def retry_until_admitted(
    http: aiohttp.ClientSession,
    url: str,
    *,
    retry_every: float = 0.05,
    refused: tuple[int, ...] = (403,),
    timeout: float = 30.0,
) -> Admission:
    """Ask for `url` again every `retry_every` s while refused; await a frame.

    What a viewer holding a standing link does while no session is active.
    """
    attempts = 0
    async with asyncio.timeout(timeout):
        while True:
            attempts += 1
            viewer = Viewer(http, url, sample_every=0, expect=(200,))
            task = asyncio.get_running_loop().create_task(viewer.run())
            waiter = asyncio.ensure_future(viewer.first_part.wait())
            try:
                await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ViewerError):
                    await task
            stats = viewer.stats
            if stats.first_part_at is not None and stats.responded_at is not None:
                return Admission(attempts, stats.responded_at, stats.first_part_at)
            if stats.status not in refused:
                raise ViewerError(
                    f"{url}: status {stats.status}, ended {stats.end} before a frame"
                )
            await asyncio.sleep(retry_every)


class StalledViewer:
    """A client that asks for a stream and then never reads."""

    def __init__(self, host: str, port: int, path: str) -> None:
        """Describe the request."""
        self.host = host
        self.port = port
        self.path = path
        self.sock: socket.socket | None = None

    @property
    def local_port(self) -> int:
        """The client's port (to find the server's side in /proc/net/tcp)."""
        if self.sock is None:
            raise ViewerError("not connected")
        port: int = self.sock.getsockname()[1]
        return port

    async def open(self) -> None:
        """Connect and send the request; read nothing, ever."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(0)  # non-blocking, for the loop's sock_* calls
        loop = asyncio.get_running_loop()
        await loop.sock_connect(sock, (self.host, self.port))
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "User-Agent: stalled-viewer\r\n\r\n"
        )
        await loop.sock_sendall(sock, request.encode())
        self.sock = sock

    def close(self) -> None:
        """Drop the connection."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
