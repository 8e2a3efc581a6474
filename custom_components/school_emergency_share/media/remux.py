"""A camera's H.264 passed through as fragmented MP4, and JPEGs made from it.

`RemuxSource` is the one connection to an H.264 camera: ffmpeg copies the
video (no decoding, no audio) into fragmented MP4 cut at every frame, and
this cuts it into the init segment and fragments (`fmp4`). It costs next to
no CPU whatever the resolution.

`DecoderSource` makes JPEGs for `/mjpeg` and snapshots out of those
fragments: it subscribes to the camera's `FragmentHub` like any viewer and
pipes what it gets into a second ffmpeg that decodes, scales, masks and
encodes JPEG. So a camera watched over `/mp4` and `/mjpeg` at once is still
read once, and the decoder runs only while somebody wants JPEGs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Final

import ffmpeg

from .ffmpeg import GLOBAL_ARGS, OneFfmpeg, SourceError, input_args
from .fmp4 import FragmentedMp4Parser, InitSegment, MediaSegment, Mp4FormatError
from .hub import FrameSource, Source, StreamClosed
from .sources import jpeg_output, jpegs_from

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping, Sequence

    from ..core.masks import Mask
    from .fragments import Fragment, FragmentHub
    from .hub import Subscription

_LOGGER = logging.getLogger(__name__)

MOVFLAGS: Final = "empty_moov+default_base_moof+frag_every_frame+skip_trailer"
"""An init segment with no samples, then one fragment per frame, each with
its own base offset (what Media Source Extensions need), and no index at the
end (a live stream has none). A fragment is written when the next frame
arrives: one frame interval of delay, about 80 ms at 12 fps."""
DECODER_INPUT: Final[Mapping[str, str]] = {
    "f": "mp4",
    # The init segment describes the stream fully: no probing, so the first
    # keyframe is decoded as soon as it arrives. (`nobuffer` would drop the
    # packets read while probing: the whole first picture group.)
    "analyzeduration": "0",
    "probesize": "32",
    "flags": "low_delay",
}
FEED_WAIT: Final = 1.0
"""Longest wait for a fragment before checking again whether to go on."""


class RemuxSource(OneFfmpeg, Source[MediaSegment]):
    """One ffmpeg copying a camera's video into fragmented MP4."""

    def __init__(
        self,
        binary: str,
        url: str,
        *,
        extra_input_args: Mapping[str, str] | None = None,
        on_init: Callable[[InitSegment], None] | None = None,
    ) -> None:
        """Describe the process; it starts when `frames()` is first iterated.

        Args:
            binary: the ffmpeg executable.
            url: the camera's stream; may hold credentials, never logged.
            extra_input_args: input options that add to or override the
                defaults, e.g. `{"rtsp_transport": "udp"}`.
            on_init: told each init segment as it is read (the codec).

        """
        super().__init__(binary, url)
        self._url = url
        self._extra_input_args = dict(extra_input_args or {})
        self._on_init = on_init

    def command(self) -> list[str]:
        """The ffmpeg command line this source runs."""
        options = input_args(self._url, self._extra_input_args)
        return [
            self._binary,
            *GLOBAL_ARGS,
            *(arg for key, value in options.items() for arg in (f"-{key}", value)),
            *("-i", self._url),
            *("-map", "0:v:0", "-c:v", "copy", "-an", "-sn", "-dn"),
            *("-f", "mp4", "-movflags", MOVFLAGS, "-flush_packets", "1", "pipe:1"),
        ]

    async def frames(self) -> AsyncIterator[MediaSegment]:
        """Start ffmpeg and yield its fragments until it exits.

        Raises:
            SourceError: ffmpeg exited (the camera failed or could not be
                reached), could not be started, or wrote unreadable MP4.
            RuntimeError: called a second time; a source is one connection.

        """
        process = self._once()
        try:
            await process.start(self.command())
            parser = FragmentedMp4Parser()
            while chunk := await process.read():
                try:
                    segments = parser.feed(chunk)
                except (Mp4FormatError, ValueError) as err:
                    raise SourceError(f"unreadable ffmpeg output: {err}") from err
                for segment in segments:
                    if isinstance(segment, InitSegment):
                        _LOGGER.debug(
                            "Remuxing %s %dx%d",
                            segment.codec,
                            segment.width,
                            segment.height,
                        )
                        if self._on_init is not None:
                            self._on_init(segment)
                    else:
                        yield segment
            raise await process.exit_error()
        finally:
            await self.aclose()


class DecoderSource(OneFfmpeg, FrameSource):
    """JPEGs decoded from a camera's fragments, by a second ffmpeg fed on stdin."""

    def __init__(
        self,
        binary: str,
        fragments: FragmentHub,
        *,
        fps: float = 10,
        max_width: int = 960,
        quality: int = 5,
        masks: Sequence[Mask] = (),
    ) -> None:
        """Decode what `fragments` carries; the rest as `FfmpegSource`."""
        super().__init__(binary, "pipe:0")
        self._fragments = fragments
        self._output = jpeg_output(
            ffmpeg.input("pipe:0", **DECODER_INPUT).video,
            fps=fps,
            max_width=max_width,
            quality=quality,
            masks=masks,
        )

    def command(self) -> list[str]:
        """The decoder's command line."""
        command: list[str] = self._output.compile(cmd=[self._binary, *GLOBAL_ARGS])
        return command

    async def frames(self) -> AsyncIterator[bytes]:
        """Feed the decoder from a subscription; yield its JPEGs.

        Raises:
            SourceError: the decoder exited, or its feed ended (the camera's
                fragments stopped or started over).
            RuntimeError: called a second time.

        """
        process = self._once()
        subscription = self._fragments.subscribe()
        feeder: asyncio.Task[None] | None = None
        try:
            await process.start(self.command(), stdin=True)
            feeder = asyncio.get_running_loop().create_task(
                self._feed(subscription, process.stdin),
                name=f"decoder feed pid {process.pid}",
            )
            async for jpeg in jpegs_from(process):
                yield jpeg
            if feeder.done() and (failure := feeder.exception()) is not None:
                raise SourceError(f"decoder feed ended: {failure}") from failure
            raise await process.exit_error()
        finally:
            self._fragments.unsubscribe(subscription)
            if feeder is not None:
                feeder.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await feeder
            await self.aclose()

    @staticmethod
    async def _feed(
        subscription: Subscription[Fragment], stdin: asyncio.StreamWriter
    ) -> None:
        """Write the init segment, then every fragment; close stdin at the end."""
        init: InitSegment | None = None
        try:
            while True:
                fragment = await subscription.next_frame(FEED_WAIT)
                if fragment is None:
                    continue
                if init is None:
                    init = fragment.init
                    stdin.write(init.data)
                elif fragment.init is not init:
                    raise SourceError("the camera's stream started over")
                stdin.write(fragment.segment.data)
                await stdin.drain()
        except StreamClosed as closed:
            raise SourceError(
                f"the camera's fragments ended ({closed.reason})"
            ) from None
        finally:
            # The decoder flushes and exits; its output's end ends `frames()`.
            stdin.close()
