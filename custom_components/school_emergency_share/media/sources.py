"""JPEG sources that make their own frames: an ffmpeg transcoder, a still poller.

Each source is one connection; the camera hub makes a new one per attempt.
The other sources are elsewhere: `passthrough` (a camera's own MJPEG, as
sent) and `remux` (H.264 passed through as fragmented MP4, and the decoder
that makes JPEGs from it without a second camera connection).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

import ffmpeg

from .ffmpeg import GLOBAL_ARGS, FfmpegProcess, OneFfmpeg, SourceError, input_args
from .frames import MultipartJpegParser
from .hub import FrameSource
from .masking import ffmpeg_masked

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence

    from ..core.masks import Mask

JPEG_THREADS: Final = "1"
"""One encoder thread: frame threading adds about 100 ms of delay per frame,
which costs more here (live video) than it saves."""


def jpeg_output(
    video: ffmpeg.nodes.FilterableStream,
    *,
    fps: float,
    max_width: int,
    quality: int,
    masks: Sequence[Mask] = (),
) -> ffmpeg.nodes.OutputStream:
    """Viewer-sized, rate-capped, masked multipart JPEG on standard output.

    About `fps` frames a second: a frame passes when at least three quarters
    of a period followed the last one passed (the slack keeps a camera running
    at the cap, with jittery timestamps, from losing frames; the rate stays
    under 4/3 of the cap). Unlike the `fps` filter this never repeats a frame
    (a repeat would carry a new capture time for an old picture) and never
    holds one back waiting for the next.
    """
    if fps <= 0 or max_width < 2 or not 2 <= quality <= 31:  # noqa: PLR2004
        raise ValueError("fps > 0, max_width >= 2, quality 2-31")
    gap = f"{0.75 / fps:.4f}"
    keep = f"isnan(prev_selected_t)+gte(t-prev_selected_t,{gap})"
    # Even dimensions for the JPEG encoder's chroma; min() never upscales.
    width = f"trunc(min({max_width},iw)/2)*2"
    scaled = video.filter("select", keep).filter("scale", w=width, h=-2)
    # Numbered frames in the filters' time base (`enc_time_base=-1`): the JPEG
    # encoder refuses a timestamp that does not increase, which a camera's
    # can do, and so would the default time base (1/frame rate, a guess for
    # MJPEG) once a remuxer's timestamps are rounded to it.
    numbered = ffmpeg_masked(scaled, masks).filter("setpts", "N")
    # Passthrough: the muxer must not duplicate frames to make a constant rate.
    return ffmpeg.output(
        numbered,
        "pipe:1",
        f="mpjpeg",
        an=None,
        threads=JPEG_THREADS,
        fps_mode="passthrough",
        enc_time_base="-1",
        **{"q:v": str(quality)},
    )


async def jpegs_from(process: FfmpegProcess) -> AsyncIterator[bytes]:
    """The JPEGs of an ffmpeg writing `jpeg_output`, until its stdout ends.

    Raises:
        SourceError: what it wrote is not the multipart it was asked for.

    """
    parser = MultipartJpegParser()
    while chunk := await process.read():
        try:
            jpegs = parser.feed(chunk)
        except ValueError as err:
            raise SourceError(f"unreadable ffmpeg output: {err}") from err
        for jpeg in jpegs:
            yield jpeg


class FfmpegSource(OneFfmpeg, FrameSource):
    """One ffmpeg process reading a camera and writing viewer-sized JPEGs.

    ffmpeg decodes whatever the camera sends (RTSP/H.264, HTTP MJPEG, HLS…),
    drops audio, caps the frame rate, scales down to `max_width`, paints the
    privacy masks and writes multipart JPEG to its stdout, which is parsed here.
    """

    def __init__(
        self,
        binary: str,
        url: str,
        *,
        fps: float = 10,
        max_width: int = 960,
        quality: int = 5,
        masks: Sequence[Mask] = (),
        extra_input_args: Mapping[str, str] | None = None,
    ) -> None:
        """Describe the process; it starts when `frames()` is first iterated.

        Args:
            binary: the ffmpeg executable.
            url: the camera's stream; may hold credentials, never logged.
            fps: most frames per second sent on.
            max_width: frames wider than this are scaled down (aspect kept).
            quality: JPEG quality scale, 2 (best) to 31 (smallest).
            masks: privacy masks painted into every frame.
            extra_input_args: input options that add to or override the
                defaults, e.g. `{"rtsp_transport": "udp"}`.

        """
        if fps <= 0 or max_width < 2 or not 2 <= quality <= 31:  # noqa: PLR2004
            raise ValueError("fps > 0, max_width >= 2, quality 2-31")
        super().__init__(binary, url)
        self._url = url
        self._fps = fps
        self._max_width = max_width
        self._quality = quality
        self._masks = tuple(masks)
        self._extra_input_args = dict(extra_input_args or {})

    @property
    def process(self) -> FfmpegProcess:
        """The ffmpeg process (started by `frames()`)."""
        return self._process

    @property
    def stderr_tail(self) -> str:
        """The end of ffmpeg's error output, credentials removed."""
        return self._process.stderr_tail

    def command(self) -> list[str]:
        """The ffmpeg command line this source runs."""
        video = ffmpeg.input(
            self._url, **input_args(self._url, self._extra_input_args)
        ).video
        output = jpeg_output(
            video,
            fps=self._fps,
            max_width=self._max_width,
            quality=self._quality,
            masks=self._masks,
        )
        command: list[str] = output.compile(cmd=[self._binary, *GLOBAL_ARGS])
        return command

    async def frames(self) -> AsyncIterator[bytes]:
        """Start ffmpeg and yield its JPEGs until it exits.

        Raises:
            SourceError: ffmpeg exited (the camera failed or could not be
                reached) or could not be started.
            RuntimeError: called a second time; a source is one connection.

        """
        process = self._once()
        try:
            await process.start(self.command())
            async for jpeg in jpegs_from(process):
                yield jpeg
            raise await process.exit_error()
        finally:
            await self.aclose()


class PollingSource(FrameSource):
    """A camera without a stream: its still image, polled at a capped rate."""

    def __init__(
        self,
        get_image: Callable[[], Awaitable[bytes | None]],
        *,
        fps: float = 2,
        transform: Callable[[bytes], Awaitable[bytes | None]] | None = None,
    ) -> None:
        """Poll `get_image` at most `fps` times a second, one call at a time.

        `transform` makes the frame out of each new still (privacy masks);
        None from it drops that still.
        """
        if fps <= 0:
            raise ValueError("fps must be positive")
        self._get_image = get_image
        self._interval = 1 / fps
        self._transform = transform

    async def frames(self) -> AsyncIterator[bytes]:
        """Yield each new still image.

        None yields nothing, and neither does an image identical to the last
        one: a camera that keeps answering with a cached still is not live, and
        its tile must go stale rather than look fresh.
        """
        loop = asyncio.get_running_loop()
        last: bytes | None = None
        while True:
            started = loop.time()
            image = await self._get_image()
            if image and image != last:
                last = image
                frame = image
                if self._transform is not None:
                    frame = await self._transform(image) or b""
                if frame:
                    yield frame
            await asyncio.sleep(max(0.0, started + self._interval - loop.time()))

    async def aclose(self) -> None:
        """Nothing to release: each poll is its own request."""
