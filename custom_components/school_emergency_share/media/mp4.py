"""Serving one camera's fragmented MP4 to one HTTP viewer.

The viewer gets the init segment, then fragments from a keyframe on (its
`FragmentSubscription` sees to that), each preceded by a `prft` box with the
time it came off the camera. Whenever the camera's stream starts over (a
new remuxer, a new init segment) the new init segment is sent before its
first fragment. A stream that turns out not to be H.264 ends before anything
is sent (`REASON_NOT_H264`): browsers are only promised H.264.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Unpack

from .serving import ServeOptions, StreamEnd, StreamResult, serve

if TYPE_CHECKING:
    from aiohttp import web

    from .fmp4 import InitSegment
    from .fragments import Fragment
    from .hub import Subscription

CONTENT_TYPE: Final = "video/mp4"
REASON_NOT_H264: Final = "not_h264"


class _Wire:
    """The bytes for each fragment, with the init segment where one is due."""

    def __init__(self) -> None:
        self.init: InitSegment | None = None

    def __call__(self, fragment: Fragment) -> tuple[bytes, ...]:
        init = fragment.init
        if init is self.init:
            return (fragment.wire,)
        if not init.h264:
            raise StreamEnd(REASON_NOT_H264)
        self.init = init
        return (init.data, fragment.wire)


async def stream(
    response: web.StreamResponse,
    subscription: Subscription[Fragment],
    **options: Unpack[ServeOptions],
) -> StreamResult:
    """Write the fragments to a response prepared as `video/mp4` (see `serve`)."""
    return await serve(response, subscription, _Wire(), **options)
