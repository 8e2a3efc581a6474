"""Viewers for the benchmark and tests: raw aiohttp reading, cheap on purpose.

Each viewer counts the pictures it receives per second and the bytes, and,
at most once per `sample_every` seconds, reads the send time painted in a
picture (`testbed.stamp`) to measure latency:

- `Viewer` reads a `multipart/x-mixed-replace` MJPEG stream, cutting parts by
  their `Content-Length` (every proxy measured sends one); a stamp is read
  from the JPEG's luminance at a quarter of its size.
- `Mp4Viewer` reads fragmented MP4 (this integration's `/mp4`): a picture
  per fragment; stamps are read from keyframes only, each decoded on its own
  (PyAV), so the client decodes one picture every keyframe interval, not all.
- `HlsViewer` reads Home Assistant's low-latency HLS the way a player does
  (blocking playlist reloads, parts as they appear, from the newest
  independent part); stamps from the first picture of independent parts.

Nothing else is decoded, so the client's own CPU stays small next to what it
measures.
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

from . import mp4, stamp

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
    received: list[tuple[float, int]] = field(default_factory=list)
    """(`time.monotonic()`, bytes) of every chunk of the body received."""
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

    def bytes_between(self, start: float, stop: float) -> int:
        """Body bytes received in [start, stop)."""
        return sum(size for at, size in self.received if start <= at < stop)

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

    def picture(self, at: float) -> bool:
        """Count one picture received at `at`; True for the first."""
        self.parts += 1
        self.part_times.append(at)
        if self.first_part_at is None:
            self.first_part_at = at
            return True
        return False


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
            self.stats.received.append((time.monotonic(), len(chunk)))
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
        if stats.picture(now):
            self.first_part.set()
        if self.sample_every and now >= self._next_sample:
            self._next_sample = now + self.sample_every
            sent = stamp.read(bytes(buf[start:end]))
            if sent is None:
                stats.unreadable_stamps += 1
            else:
                stats.sampled(now, float(stamp.age_ms(sent)))


class Mp4Viewer(Viewer):
    """One viewer of a fragmented-MP4 URL: a picture per fragment."""

    async def _read(self, content: aiohttp.StreamReader) -> None:
        buf = bytearray()
        config: bytes | None = None
        moof: bytes | None = None
        while chunk := await content.readany():
            self.stats.received.append((time.monotonic(), len(chunk)))
            buf += chunk
            while len(buf) >= 8:
                size = int.from_bytes(buf[:4])
                if size < 8 or size > mp4.MAX_BOX:
                    raise ViewerError(f"{self.url}: a box of {size} bytes")
                if len(buf) < size:
                    break
                kind, box = bytes(buf[4:8]), bytes(buf[:size])
                del buf[:size]
                if kind == b"moov":
                    config = mp4.avcc(box)
                elif kind == b"moof":
                    moof = box
                elif kind == b"mdat" and moof is not None:
                    self._fragment(moof + box, config)
                    moof = None

    def _fragment(self, fragment: bytes, config: bytes | None) -> None:
        now = time.monotonic()
        stats = self.stats
        if stats.picture(now):
            self.first_part.set()
        if not self.sample_every or now < self._next_sample or config is None:
            return
        keyframe, sample = mp4.read_fragment(fragment)
        if not keyframe:
            return
        self._next_sample = now + self.sample_every
        gray = mp4.decode_first(config, sample)
        sent = None if gray is None else stamp.read_gray(gray)
        if sent is None:
            stats.unreadable_stamps += 1
        else:
            stats.sampled(now, float(stamp.age_ms(sent)))


HLS_START_WAIT: Final = 20.0
"""Seconds an HLS viewer asks again for a master playlist answered 404."""


class HlsViewer:
    """One player of Home Assistant's (low-latency) HLS for a camera.

    Starts from the newest independent part of the playlist, then asks for
    each next part with a blocking playlist reload (`_HLS_msn`, `_HLS_part`),
    as hls.js does. Each part is a picture group's worth of pictures; they
    are counted from the samples its fragment holds.
    """

    def __init__(
        self,
        http: aiohttp.ClientSession,
        master_url: str,
        *,
        sample_every: float = 1.0,
    ) -> None:
        """Play `master_url` (Home Assistant's `master_playlist.m3u8`)."""
        self.http = http
        self.url = master_url
        self.sample_every = sample_every
        self.stats = ViewerStats()
        self.first_part = asyncio.Event()
        self._next_sample = time.monotonic() + random.uniform(0, sample_every)
        self._config: bytes | None = None

    async def _get(self, url: str) -> bytes:
        async with self.http.get(url) as response:
            if response.status != 200:
                raise ViewerError(f"{url}: {response.status}")
            body = await response.read()
        self.stats.received.append((time.monotonic(), len(body)))
        return body

    async def _master(self) -> bytes:
        """The master playlist, asked again while the stream starts.

        Home Assistant answers 404 until its stream worker has a segment (or
        when the worker stopped); its frontend's player asks again, so does
        this one, for up to `HLS_START_WAIT` seconds.
        """
        deadline = time.monotonic() + HLS_START_WAIT
        while True:
            try:
                return await self._get(self.url)
            except ViewerError:
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.5)

    async def run(self) -> ViewerStats:
        """Play until cancelled or the stream fails."""
        stats = self.stats
        stats.opened_at = time.monotonic()
        try:
            master = (await self._master()).decode()
            stats.status = 200
            stats.responded_at = time.monotonic()
            media = next(
                line
                for line in master.splitlines()
                if line and not line.startswith("#")
            )
            playlist = self.url.rsplit("/", 1)[0] + "/" + media
            await self._play(playlist)
            stats.end = "eof"
        except asyncio.CancelledError:
            stats.end = "cancelled"
            raise
        except (
            aiohttp.ClientError,
            OSError,
            TimeoutError,
            ViewerError,
            StopIteration,
        ) as err:
            stats.end = f"error: {err!r}"
        finally:
            stats.ended_at = time.monotonic()
        return stats

    async def _play(self, playlist: str) -> None:
        base = playlist.rsplit("/", 1)[0]
        fetched: set[str] = set()
        reload = playlist
        started = False
        while True:
            text = (await self._get(reload)).decode()
            init, parts, next_msn, next_part = _parse_playlist(text)
            if init and self._config is None:
                self._config = mp4.avcc(await self._get(f"{base}/{init}"))
            if not started:
                # Start where a player would: the newest independent part.
                starts = [i for i, (_, ind) in enumerate(parts) if ind]
                if not starts:
                    await asyncio.sleep(0.2)
                    continue
                fetched.update(uri for uri, _ in parts[: starts[-1]])
                started = True
            for uri, independent in parts:
                if uri in fetched:
                    continue
                fetched.add(uri)
                self._part(await self._get(f"{base}/{uri}"), independent=independent)
            reload = f"{playlist}?_HLS_msn={next_msn}&_HLS_part={next_part}"

    def _part(self, data: bytes, *, independent: bool) -> None:
        now = time.monotonic()
        stats = self.stats
        for _ in range(len(mp4.samples(data))):
            if stats.picture(now):
                self.first_part.set()
        if (
            not independent
            or not self.sample_every
            or now < self._next_sample
            or self._config is None
        ):
            return
        sample = mp4.first_keyframe(data)
        if sample is None:
            return  # an "independent" part whose keyframe is in the next
        self._next_sample = now + self.sample_every
        gray = mp4.decode_first(self._config, sample)
        sent = None if gray is None else stamp.read_gray(gray)
        if sent is None:
            stats.unreadable_stamps += 1
        else:
            stats.sampled(now, float(stamp.age_ms(sent)))


def _parse_playlist(text: str) -> tuple[str | None, list[tuple[str, bool]], int, int]:
    """The init URI, the parts (URI, independent) in order, and the next part.

    Whole segments stand in for parts where a playlist has none.
    """
    init = None
    parts: list[tuple[str, bool]] = []
    msn = 0
    pending_parts: list[tuple[str, bool]] = []
    last_msn, last_part = -1, -1
    for line in text.splitlines():
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            msn = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-MAP:"):
            init = _attribute(line, "URI")
        elif line.startswith("#EXT-X-PART:"):
            uri = _attribute(line, "URI") or ""
            pending_parts.append((uri, _attribute(line, "INDEPENDENT") == "YES"))
            last_msn, last_part = msn, len(pending_parts) - 1
        elif line and not line.startswith("#"):
            # A whole segment: its parts (if listed) stand for it.
            parts += pending_parts or [(line, True)]
            if not pending_parts:
                last_msn, last_part = msn, -1
            pending_parts = []
            msn += 1
    parts += pending_parts  # the segment being made
    if last_part < 0:
        return init, parts, last_msn + 1, 0
    return init, parts, last_msn, last_part + 1


def _attribute(line: str, name: str) -> str | None:
    match = re.search(rf'{name}=("([^"]*)"|[^,]*)', line)
    if match is None:
        return None
    return match.group(2) if match.group(2) is not None else match.group(1)


async def first_frame_seconds(
    http: aiohttp.ClientSession,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    kind: type[Viewer] | None = None,
) -> float:
    """Seconds from sending the request to having the first whole picture."""
    viewer = (kind or Viewer)(http, url, headers=headers, sample_every=0)
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
