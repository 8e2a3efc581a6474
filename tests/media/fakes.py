"""An in-process camera for hub tests: scripted, fast, countable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from custom_components.school_emergency_share.media import InitSegment, MediaSegment


@dataclass(slots=True)
class FakeCamera:
    """Frames at `fps` to each connection while alive; counts connections.

    `alive = False` drops open connections at their next frame and refuses new
    ones; `hung = True` keeps connections open without frames.
    """

    fps: float = 50.0
    alive: bool = True
    hung: bool = False
    frame_size: int = 1000
    close_delay: float = 0.0
    """Seconds a connection takes to close (an ffmpeg process exiting)."""
    connections_opened: int = 0
    open_connections: int = 0
    attempts: list[float] = field(default_factory=list)
    """Loop time of every connection attempt, refused ones included."""
    sources: list[FakeSource] = field(default_factory=list)
    unclosed: int = 0
    """Connections opened and not yet fully closed."""
    most_unclosed: int = 0

    def factory(self) -> FakeSource:
        """A new connection, as the hub's source factory."""
        source = FakeSource(self)
        self.sources.append(source)
        return source


class FakeSource:
    """One connection to a `FakeCamera`."""

    def __init__(self, camera: FakeCamera) -> None:
        """Belong to `camera`."""
        self.camera = camera
        self.closed = False
        self.counted = False

    async def frames(self) -> AsyncIterator[bytes]:
        """Yield numbered fake JPEGs until the camera dies."""
        camera = self.camera
        loop = asyncio.get_running_loop()
        camera.attempts.append(loop.time())
        if not camera.alive:
            raise ConnectionRefusedError("camera is down")
        camera.connections_opened += 1
        camera.open_connections += 1
        camera.unclosed += 1
        camera.most_unclosed = max(camera.most_unclosed, camera.unclosed)
        self.counted = True
        try:
            n = 0
            while not self.closed:
                if not camera.alive:
                    raise ConnectionResetError("camera went down")
                if not camera.hung:
                    n += 1
                    body = n.to_bytes(4) * (camera.frame_size // 4)
                    yield b"\xff\xd8" + body + b"\xff\xd9"
                await asyncio.sleep(1 / camera.fps)
        finally:
            camera.open_connections -= 1

    async def aclose(self) -> None:
        """Close the connection, taking the camera's `close_delay`."""
        if self.closed:
            return
        self.closed = True
        try:
            await asyncio.sleep(self.camera.close_delay)
        finally:
            if self.counted:
                self.camera.unclosed -= 1


def fake_init(connection: int) -> InitSegment:
    """An init segment standing for one connection's (compared by identity)."""
    return InitSegment(
        data=b"init-%d" % connection,
        track_id=1,
        timescale=90_000,
        codec="avc1.42c01e",
        width=320,
        height=180,
    )


@dataclass(slots=True)
class FakeH264Camera:
    """Fragments at `fps`, a keyframe every `gop`, per connection; counted."""

    fps: float = 10.0
    gop: int = 10
    connections_opened: int = 0
    open_connections: int = 0
    alive: bool = True

    def factory(self) -> FakeRemux:
        """A new connection, as a fragment hub's source factory."""
        return FakeRemux(self)


class FakeRemux:
    """One connection to a `FakeH264Camera`: its own init segment, then frames."""

    def __init__(self, camera: FakeH264Camera) -> None:
        """Belong to `camera`."""
        self.camera = camera
        self.closed = False

    async def frames(self) -> AsyncIterator[MediaSegment]:
        """Fragments, the first a keyframe, until closed or the camera dies."""
        camera = self.camera
        if not camera.alive:
            raise ConnectionRefusedError("camera is down")
        camera.connections_opened += 1
        camera.open_connections += 1
        init = fake_init(camera.connections_opened)
        try:
            n = 0
            while not self.closed:
                if not camera.alive:
                    raise ConnectionResetError("camera went down")
                yield MediaSegment(init, b"frame-%d" % n, n % camera.gop == 0, n * 9000)
                n += 1
                await asyncio.sleep(1 / camera.fps)
        finally:
            camera.open_connections -= 1

    async def aclose(self) -> None:
        """Close the connection."""
        self.closed = True
