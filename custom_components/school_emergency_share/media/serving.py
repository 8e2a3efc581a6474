"""Serving one hub subscription to one HTTP viewer, whatever it carries.

The loop every live stream shares (`mjpeg`, `mp4`): take the next item from
the viewer's subscription, re-check that the viewer may still watch, write
the item's bytes. A viewer that stops reading is dropped after
`write_timeout`; one whose permission ends is dropped before the next write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
import time
from typing import TYPE_CHECKING, Final, Required, TypedDict

from .hub import StreamClosed

if TYPE_CHECKING:
    from aiohttp import web

    from .hub import Subscription

REASON_CLIENT_GONE: Final = "client_gone"
REASON_NOT_ALLOWED: Final = "not_allowed"
REASON_WRITE_TIMEOUT: Final = "write_timeout"


class StreamEnd(Exception):  # noqa: N818 - an ending, not an error
    """Raised by a stream's `wire` to end it before writing an item."""

    def __init__(self, reason: str) -> None:
        """End with `reason`."""
        super().__init__(reason)
        self.reason = reason


class ServeOptions(TypedDict, total=False):
    """How `serve` treats a viewer, for the formats that wrap it."""

    allowed: Required[Callable[[], bool]]
    write_timeout: float
    idle_check: float


@dataclass(frozen=True, slots=True)
class StreamResult:
    """How a viewer's stream ended."""

    reason: str
    """`client_gone`, `not_allowed`, `write_timeout`, the subscription's close
    reason (e.g. the session ended), or the stream's own (`StreamEnd`)."""
    frames_sent: int
    frames_skipped: int
    """Items the viewer never got because it fell behind."""
    bytes_sent: int
    started: float
    """`time.monotonic()` when streaming began."""
    ended: float

    @property
    def duration(self) -> float:
        """Seconds the stream lasted."""
        return self.ended - self.started


async def serve[T](
    response: web.StreamResponse,
    subscription: Subscription[T],
    wire: Callable[[T], Sequence[bytes]],
    *,
    allowed: Callable[[], bool],
    write_timeout: float = 5.0,
    idle_check: float = 1.0,
) -> StreamResult:
    """Write the subscription's items to a prepared response until it ends.

    Args:
        response: already prepared by the caller.
        subscription: the viewer's subscription; closed when this returns.
        wire: the bytes to write for an item (built once per item where
            they are the same for every viewer); may raise `StreamEnd`.
        allowed: the caller's live authorization (link valid, session
            active…), checked before every write and at least every
            `idle_check` seconds.
        write_timeout: a write not accepted in this many seconds means the
            viewer stopped reading.
        idle_check: longest wait for an item before re-checking `allowed`.

    Returns:
        Why and after how many items the stream ended.

    """
    started = time.monotonic()
    sent = sent_bytes = 0
    reason = "cancelled"  # unless a break below says otherwise
    try:
        while True:
            try:
                item = await subscription.next_frame(idle_check)
            except StreamClosed as closed:
                reason = closed.reason
                break
            if not allowed():
                reason = REASON_NOT_ALLOWED
                break
            if item is None:
                continue
            try:
                chunks = wire(item)
            except StreamEnd as end:
                reason = end.reason
                break
            try:
                # aiohttp's write waits for the socket to drain, so this is
                # where a viewer that stopped reading shows up.
                async with asyncio.timeout(write_timeout):
                    for chunk in chunks:
                        await response.write(chunk)
                        sent_bytes += len(chunk)
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
        bytes_sent=sent_bytes,
        started=started,
        ended=time.monotonic(),
    )
