"""One camera's outputs — JPEG frames and fragmented MP4 — from one connection.

A `CameraFeeds` holds a camera's two hubs and decides, each time one of them
connects, how to read the camera with the least work, by what its stream
turned out to be (`StreamKind`, learnt on the first connection):

| the camera | `/mp4` (`mp4` hub) | JPEGs (`jpeg` hub: `/mjpeg`, snapshots) |
| --- | --- | --- |
| no stream source | — | its stills, polled (`PollingSource`) |
| MJPEG, at most `max_width` wide | — | passed through (`MjpegPassthrough`) |
| MJPEG, wider | — | ffmpeg decodes and encodes (`FfmpegSource`) |
| H.264 (RTSP, HLS…) | remuxed (`RemuxSource`) | decoded from it (`DecoderSource`) |
| other video (H.265…) | — (remuxed for the decoder) | decoded from it |

So a watched camera has one connection, whatever its viewers watch; the
decoder runs only while someone wants JPEGs. With privacy masks the camera's
pictures are only ever sent re-encoded with the masks painted in: no
passthrough, no `/mp4`, and the masks are painted where the JPEGs are made
(ffmpeg's filter graph, or Pillow for stills). A change of masks restarts
the JPEG reader and ends every `/mp4` viewer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
import logging
from typing import TYPE_CHECKING, Final, Protocol
from urllib.parse import urlsplit

from .ffmpeg import SourceError
from .fmp4 import InitSegment, MediaSegment
from .fragments import FragmentHub
from .hub import CameraStatus, FrameSource, Source
from .jpegs import CameraHub
from .masking import mask_jpeg
from .passthrough import MjpegPassthrough, NotPassable
from .remux import DecoderSource, RemuxSource
from .sources import FfmpegSource, PollingSource

if TYPE_CHECKING:
    import aiohttp

    from ..core.masks import Mask

_LOGGER = logging.getLogger(__name__)

REASON_MASKED: Final = "masked"
"""Why `/mp4` viewers were let go: the camera now has privacy masks."""


class StreamKind(StrEnum):
    """What a camera's stream turned out to be."""

    UNKNOWN = "unknown"
    """Not read yet."""
    STILLS = "stills"
    """No stream source: stills only."""
    MJPEG = "mjpeg"
    """MJPEG small enough to pass through."""
    MJPEG_WIDE = "mjpeg_wide"
    """MJPEG that must be scaled down."""
    VIDEO = "video"
    """A video stream ffmpeg reads; its codec not yet seen."""
    H264 = "h264"
    """H.264: passed through to `/mp4`."""
    OTHER_CODEC = "other_codec"
    """Another codec (H.265, MPEG-4…): browsers get JPEGs only."""


class CameraAccess(Protocol):
    """How to reach one camera (Home Assistant's camera entity, in production)."""

    async def stream_source(self) -> str | None:
        """The camera's stream URL, or None if it has none."""
        ...

    async def still(self) -> bytes | None:
        """One still image, or None if there is none now."""
        ...

    @property
    def input_args(self) -> Mapping[str, str]:
        """Input options for ffmpeg that the camera's own settings ask for."""
        ...

    @property
    def streams_video(self) -> bool:
        """Whether the camera says its stream is video (not MJPEG).

        Such a camera is remuxed at once; others with an HTTP stream are
        first tried as MJPEG to pass through. (Asking would spend a
        connection, which some cameras have only one of.)
        """
        ...


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """How cameras are read; the same for every camera of an agreement."""

    ffmpeg: str
    """The binary of ffmpeg."""
    session: aiohttp.ClientSession
    """For passing MJPEG through."""
    fps: float = 10
    max_width: int = 960
    still_fps: float = 2
    linger: float = 3.0


def _passable_url(url: str) -> bool:
    """Whether the URL can serve MJPEG over HTTP (HLS playlists cannot)."""
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and not parts.path.endswith(
        ".m3u8"
    )


class CameraFeeds:
    """A camera's hubs, and the choice of how each of them reads it."""

    def __init__(
        self,
        name: str,
        access: CameraAccess,
        settings: FeedSettings,
        *,
        masks: Sequence[Mask] = (),
        on_change: Callable[[], None] | None = None,
    ) -> None:
        """Nothing is read until a hub gets its first subscriber.

        Args:
            name: names the camera in logs.
            access: reaches the camera.
            settings: how cameras are read.
            masks: the camera's privacy masks.
            on_change: told when a hub's status or the stream's kind changes.

        """
        self.name = name
        self._access = access
        self._settings = settings
        self._on_change = on_change
        self.masks: tuple[Mask, ...] = tuple(masks)
        self.kind = StreamKind.UNKNOWN
        self.codec: str | None = None
        """The codec string of the stream's last init segment."""
        self.jpeg = CameraHub(
            name,
            self._jpeg_source,
            linger=settings.linger,
            on_status=self._status_changed,
        )
        self.mp4 = FragmentHub(
            name,
            self._mp4_source,
            linger=settings.linger,
            on_status=self._status_changed,
        )

    @property
    def status(self) -> CameraStatus:
        """The better of the two hubs' statuses: live if either is."""
        statuses = {self.jpeg.status, self.mp4.status}
        for status in (
            CameraStatus.LIVE,
            CameraStatus.CONNECTING,
            CameraStatus.OFFLINE,
        ):
            if status in statuses:
                return status
        return CameraStatus.IDLE

    @property
    def last_frame_at(self) -> float | None:
        """When either hub last had a picture (epoch seconds), if ever."""
        times = [t for t in (self.jpeg.last_item_at, self.mp4.last_item_at) if t]
        return max(times, default=None)

    @property
    def mp4_possible(self) -> bool:
        """Whether `/mp4` may be served, as far as is known.

        Not with masks (its pictures are sent masked, hence re-encoded), and
        not once the stream turned out not to be H.264 video.
        """
        return not self.masks and self.kind in (
            StreamKind.UNKNOWN,
            StreamKind.VIDEO,
            StreamKind.H264,
        )

    def set_masks(self, masks: Sequence[Mask]) -> bool:
        """Use `masks` from now on; returns whether they changed.

        The JPEG reader starts over (nothing made before reaches a viewer
        after); with masks, every `/mp4` viewer is let go.
        """
        masks = tuple(masks)
        if masks == self.masks:
            return False
        self.masks = masks
        if masks:
            self.mp4.close_all(REASON_MASKED)
        self.jpeg.restart()
        self._changed()
        return True

    async def stop(self) -> None:
        """Stop both hubs (the JPEG one first: its decoder reads the other)."""
        await self.jpeg.stop()
        await self.mp4.stop()

    # ------------------------------------------------------------- choosing

    def _jpeg_source(self) -> Source[bytes]:
        masks = self.masks  # as they are when this connection starts
        return _Attempt(lambda attempt: self._jpegs(attempt, masks))

    def _mp4_source(self) -> Source[MediaSegment]:
        return _Attempt(self._segments)

    async def _jpegs(
        self, attempt: _Attempt[bytes], masks: tuple[Mask, ...]
    ) -> AsyncIterator[bytes]:
        """The camera's JPEGs, read the best way known (see the table above)."""
        url = await self._access.stream_source()
        if not url:
            self._learn(StreamKind.STILLS)
            async for frame in attempt.read(self._stills(masks)):
                yield frame
            return
        if self.kind is StreamKind.UNKNOWN and self._access.streams_video:
            self._learn(StreamKind.VIDEO)
        passable = self.kind in (StreamKind.UNKNOWN, StreamKind.MJPEG)
        if passable and _passable_url(url) and not masks:
            # Ends only if the stream cannot be passed through, having
            # learnt what it is instead.
            async for frame in self._passed_through(attempt, url):
                yield frame
        source: FrameSource
        if self.kind in (StreamKind.MJPEG, StreamKind.MJPEG_WIDE) or (
            masks and passable and _passable_url(url)
        ):
            # Too wide, or masked (re-encoded): ffmpeg reads MJPEG directly.
            source = self._transcoder(url, masks)
        else:
            source = self._decoder(masks)
        async for frame in attempt.read(source):
            yield frame

    async def _passed_through(
        self, attempt: _Attempt[bytes], url: str
    ) -> AsyncIterator[bytes]:
        try:
            async for frame in attempt.read(self._passthrough(url)):
                self._learn(StreamKind.MJPEG)
                yield frame
        except NotPassable as why:
            _LOGGER.debug("Camera %s is not passed through: %s", self.name, why)
            self._learn(StreamKind.MJPEG_WIDE if why.mjpeg else StreamKind.VIDEO)

    async def _segments(
        self, attempt: _Attempt[MediaSegment]
    ) -> AsyncIterator[MediaSegment]:
        """The camera's fragments, from its remuxer."""
        url = await self._access.stream_source()
        if not url:
            self._learn(StreamKind.STILLS)
            raise SourceError("the camera has no stream")
        if self.kind in (StreamKind.MJPEG, StreamKind.MJPEG_WIDE):
            raise SourceError("the camera streams MJPEG")
        async for segment in attempt.read(self._remuxer(url)):
            yield segment

    def _learn(self, kind: StreamKind) -> None:
        if kind is not self.kind:
            _LOGGER.debug("Camera %s streams %s", self.name, kind)
            self.kind = kind
            self._changed()

    def _learn_init(self, init: InitSegment) -> None:
        self.codec = init.codec
        self._learn(StreamKind.H264 if init.h264 else StreamKind.OTHER_CODEC)

    def _status_changed(self, _status: CameraStatus) -> None:
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    # ------------------------------------------------------------- makers

    def _stills(self, masks: tuple[Mask, ...]) -> PollingSource:
        transform = None
        if masks:

            async def masked(jpeg: bytes) -> bytes | None:
                try:
                    return await asyncio.to_thread(mask_jpeg, jpeg, masks)
                except ValueError:
                    return None  # undecodable: never sent unmasked

            transform = masked
        return PollingSource(
            self._access.still, fps=self._settings.still_fps, transform=transform
        )

    def _transcoder(self, url: str, masks: tuple[Mask, ...]) -> FfmpegSource:
        settings = self._settings
        return FfmpegSource(
            settings.ffmpeg,
            url,
            fps=settings.fps,
            max_width=settings.max_width,
            masks=masks,
            extra_input_args=self._access.input_args,
        )

    def _decoder(self, masks: tuple[Mask, ...]) -> DecoderSource:
        settings = self._settings
        return DecoderSource(
            settings.ffmpeg,
            self.mp4,
            fps=settings.fps,
            max_width=settings.max_width,
            masks=masks,
        )

    def _passthrough(self, url: str) -> MjpegPassthrough:
        settings = self._settings
        return MjpegPassthrough(
            settings.session, url, max_width=settings.max_width, fps=settings.fps
        )

    def _remuxer(self, url: str) -> RemuxSource:
        return RemuxSource(
            self._settings.ffmpeg,
            url,
            extra_input_args=self._access.input_args,
            on_init=self._learn_init,
        )


class _Attempt[R](Source[R]):
    """One connection attempt, whose way of reading is chosen as it starts."""

    def __init__(self, choose: Callable[[_Attempt[R]], AsyncIterator[R]]) -> None:
        self._choose = choose
        self._inner: Source[R] | None = None
        self._closed = False

    def frames(self) -> AsyncIterator[R]:
        return self._choose(self)

    async def read(self, source: Source[R]) -> AsyncIterator[R]:
        """Read `source` as this attempt's connection; it is closed after."""
        if self._closed:
            raise SourceError("closed")
        self._inner = source
        try:
            async for item in source.frames():
                yield item
        finally:
            await source.aclose()
            self._inner = None

    async def aclose(self) -> None:
        self._closed = True
        if self._inner is not None:
            await self._inner.aclose()
