"""A camera's own MJPEG, passed to viewers as it was sent: no ffmpeg, no re-encoding.

Most cheap cameras already send JPEGs small enough for a phone. Decoding and
encoding them again (what ffmpeg would do) costs several CPU-seconds a minute
per camera and makes the picture no better, so such a camera's multipart
stream is read here with aiohttp and its JPEGs are handed on unchanged, at
most `fps` a second.

Whether a camera qualifies is learnt on its first connection: a stream that
is not multipart JPEG, or whose frames are wider than `max_width`, raises
`NotPassable` saying which, and the caller reads it another way.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

import aiohttp

from .ffmpeg import SourceError, redact
from .frames import MultipartJpegParser, jpeg_size
from .hub import FrameSource

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

CONNECT_TIMEOUT: Final = 10.0
MULTIPART: Final = "multipart/"


class NotPassable(SourceError):  # noqa: N818 - what the stream is, not a fault
    """The stream cannot be passed through as it is."""

    def __init__(self, reason: str, *, mjpeg: bool) -> None:
        """Say why; `mjpeg`: it is MJPEG (too wide), not another kind of stream."""
        super().__init__(reason)
        self.mjpeg = mjpeg


class MjpegPassthrough(FrameSource):
    """One HTTP connection to an MJPEG camera; its JPEGs, unchanged."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        max_width: int = 960,
        fps: float = 10,
        read_timeout: float = 10.0,
    ) -> None:
        """Read `url` (credentials in it are sent as basic auth, never logged)."""
        self._session = session
        self._url = url
        self._max_width = max_width
        self._gap = 0.75 / fps  # as ffmpeg's cap: never repeats, never waits
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=CONNECT_TIMEOUT, sock_read=read_timeout
        )
        self._response: aiohttp.ClientResponse | None = None

    async def frames(self) -> AsyncIterator[bytes]:
        """Yield the camera's JPEGs, at most `fps` a second.

        Raises:
            NotPassable: not multipart JPEG, or frames wider than `max_width`.
            SourceError: the camera could not be reached, refused, or ended.

        """
        try:
            response = await self._session.get(self._url, timeout=self._timeout)
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            raise SourceError(
                redact(f"cannot reach the camera: {err!r}", self._url)
            ) from None
        self._response = response
        try:
            if response.status != 200:  # noqa: PLR2004
                # e.g. digest authentication, which ffmpeg speaks and this not
                raise NotPassable(f"the camera answered {response.status}", mjpeg=False)
            if not response.content_type.startswith(MULTIPART):
                raise NotPassable(f"not MJPEG: {response.content_type}", mjpeg=False)
            async for jpeg in self._jpegs(response):
                yield jpeg
            raise SourceError("the camera ended its stream")
        except (aiohttp.ClientError, OSError) as err:
            raise SourceError(
                redact(f"camera connection lost: {err!r}", self._url)
            ) from None
        finally:
            await self.aclose()

    async def _jpegs(self, response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        """The response's JPEGs that fit, at most `fps` a second."""
        loop = asyncio.get_running_loop()
        parser = MultipartJpegParser()
        last = -self._gap
        async for chunk in response.content.iter_any():
            try:
                jpegs = parser.feed(chunk)
            except ValueError as err:
                raise SourceError(f"unreadable MJPEG: {err}") from err
            for jpeg in jpegs:
                size = jpeg_size(jpeg)
                if size is None:
                    continue  # a broken frame: the next one will do
                if size[0] > self._max_width:
                    raise NotPassable(
                        f"{size[0]}x{size[1]} is wider than {self._max_width}",
                        mjpeg=True,
                    )
                now = loop.time()
                if now - last >= self._gap:
                    last = now
                    yield jpeg

    async def aclose(self) -> None:
        """Close the connection. Idempotent."""
        if self._response is not None:
            self._response.close()
            self._response = None
