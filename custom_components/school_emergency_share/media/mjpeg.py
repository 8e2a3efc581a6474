"""Serving one camera's JPEG frames to one HTTP viewer as multipart MJPEG.

Every part carries the time its frame came off the camera, so the viewer can
show how fresh the picture is. The part is built once per frame (`Frame.part`)
and the same bytes are written to every viewer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Unpack

from .frames import BOUNDARY, Frame
from .serving import (
    REASON_CLIENT_GONE,
    REASON_NOT_ALLOWED,
    REASON_WRITE_TIMEOUT,
    ServeOptions,
    StreamResult,
    serve,
)

if TYPE_CHECKING:
    from aiohttp import web

    from .hub import Subscription

CONTENT_TYPE: Final = f"multipart/x-mixed-replace; boundary={BOUNDARY}"

__all__ = [
    "BOUNDARY",
    "CONTENT_TYPE",
    "REASON_CLIENT_GONE",
    "REASON_NOT_ALLOWED",
    "REASON_WRITE_TIMEOUT",
    "StreamResult",
    "part",
    "stream",
]


def part(frame: Frame) -> bytes:
    """One multipart part: headers, with the capture time, then the JPEG."""
    return frame.part


def _wire(frame: Frame) -> tuple[bytes]:
    return (frame.part,)


async def stream(
    response: web.StreamResponse,
    subscription: Subscription[Frame],
    **options: Unpack[ServeOptions],
) -> StreamResult:
    """Write the frames to a response prepared with `CONTENT_TYPE` (see `serve`)."""
    return await serve(response, subscription, _wire, **options)
