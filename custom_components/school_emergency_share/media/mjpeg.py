"""Serving one camera subscription to one HTTP viewer as multipart MJPEG.

Every part carries the time its frame came off the camera, so the viewer can
show how fresh the picture is. A viewer that stops reading is dropped after
`write_timeout`; one whose permission ends is dropped before the next write.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import time
from typing import TYPE_CHECKING, Final

from .hub import StreamClosed

if TYPE_CHECKING:
    from collections.abc import Callable

    from aiohttp import web

    from .frames import Frame
    from .hub import Subscription

BOUNDARY: Final = "frame"
CONTENT_TYPE: Final = f"multipart/x-mixed-replace; boundary={BOUNDARY}"

REASON_CLIENT_GONE: Final = "client_gone"
REASON_NOT_ALLOWED: Final = "not_allowed"
REASON_WRITE_TIMEOUT: Final = "write_timeout"


@dataclass(frozen=True, slots=True)
class StreamResult:
    """How a viewer's stream ended."""

    reason: str
    """`client_gone`, `not_allowed`, `write_timeout`, or the subscription's
    close reason (e.g. the session ended)."""
    frames_sent: int
    frames_skipped: int
    """Frames the viewer never got because newer ones replaced them."""
    started: float
    """`time.monotonic()` when streaming began."""
    ended: float

    @property
    def duration(self) -> float:
        """Seconds the stream lasted."""
        return self.ended - self.started


def part(frame: Frame) -> bytes:
    """One multipart part: headers, with the capture time, then the JPEG."""
    headers = (
        f"--{BOUNDARY}\r\n"
        "Content-Type: image/jpeg\r\n"
        f"Content-Length: {len(frame.jpeg)}\r\n"
        f"X-Capture-Time: {int(frame.captured_at * 1000)}\r\n"
        f"X-Frame-Seq: {frame.seq}\r\n"
        "\r\n"
    )
    return b"".join((headers.encode("ascii"), frame.jpeg, b"\r\n"))


async def stream(
    response: web.StreamResponse,
    subscription: Subscription,
    *,
    allowed: Callable[[], bool],
    write_timeout: float = 5.0,
    idle_check: float = 1.0,
) -> StreamResult:
    """Write the subscription's frames to a prepared response until it ends.

    Args:
        response: already prepared by the caller with `CONTENT_TYPE`.
        subscription: the viewer's subscription; closed when this returns.
        allowed: the caller's live authorization (link valid, session
            active…), checked before every write and at least every
            `idle_check` seconds.
        write_timeout: a write not accepted in this many seconds means the
            viewer stopped reading.
        idle_check: longest wait for a frame before re-checking `allowed`.

    Returns:
        Why and after how many frames the stream ended.

    """
    started = time.monotonic()
    sent = 0
    reason = "cancelled"  # unless a break below says otherwise
    try:
        while True:
            try:
                frame = await subscription.next_frame(idle_check)
            except StreamClosed as closed:
                reason = closed.reason
                break
            if not allowed():
                reason = REASON_NOT_ALLOWED
                break
            if frame is None:
                continue
            try:
                # aiohttp's write waits for the socket to drain, so this is
                # where a viewer that stopped reading shows up.
                async with asyncio.timeout(write_timeout):
                    await response.write(part(frame))
            except TimeoutError:
                reason = REASON_WRITE_TIMEOUT
                break
            except ConnectionError:  # incl. aiohttp's ClientConnectionResetError
                reason = REASON_CLIENT_GONE
                break
            sent += 1
    finally:
        subscription.close(reason)
    return StreamResult(
        reason=reason,
        frames_sent=sent,
        frames_skipped=subscription.frames_skipped,
        started=started,
        ended=time.monotonic(),
    )
