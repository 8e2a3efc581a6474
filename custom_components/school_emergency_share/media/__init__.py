"""Reading each camera once and fanning its pictures out to viewers.

Plain asyncio, aiohttp, ffmpeg and Pillow; no Home Assistant import. A
camera's `CameraFeeds` (`camera`) holds two hubs, both on `hub`'s machinery:
JPEG frames for `/mjpeg` and snapshots (`jpegs`), fragmented MP4 for `/mp4`
(`fragments`), both from one upstream connection whatever the number of
viewers. The sources that read a camera: `remux` (H.264 passed through, and
JPEGs decoded from it), `passthrough` (a camera's own MJPEG), `sources`
(ffmpeg transcoding, polled stills); `ffmpeg` runs their processes, `masking`
paints privacy masks, `frames` and `fmp4` read the two formats. Each viewer
is served by `mjpeg` or `mp4` (through `serving`).
"""

from . import mjpeg, mp4
from .camera import CameraAccess, CameraFeeds, FeedSettings, StreamKind
from .ffmpeg import SourceError
from .fmp4 import FragmentedMp4Parser, InitSegment, MediaSegment, Mp4FormatError
from .fragments import Fragment, FragmentHub, FragmentSubscription
from .frames import Frame, MultipartJpegParser, StreamFormatError, jpeg_size
from .hub import CameraStatus, FrameSource, Hub, Source, StreamClosed, Subscription
from .jpegs import CameraHub, FrameSubscription
from .masking import mask_jpeg
from .mjpeg import BOUNDARY, CONTENT_TYPE, part, stream
from .passthrough import MjpegPassthrough, NotPassable
from .remux import DecoderSource, RemuxSource
from .serving import StreamResult
from .sources import FfmpegSource, PollingSource

__all__ = [
    "BOUNDARY",
    "CONTENT_TYPE",
    "CameraAccess",
    "CameraFeeds",
    "CameraHub",
    "CameraStatus",
    "DecoderSource",
    "FeedSettings",
    "FfmpegSource",
    "Fragment",
    "FragmentHub",
    "FragmentSubscription",
    "FragmentedMp4Parser",
    "Frame",
    "FrameSource",
    "FrameSubscription",
    "Hub",
    "InitSegment",
    "MediaSegment",
    "MjpegPassthrough",
    "Mp4FormatError",
    "MultipartJpegParser",
    "NotPassable",
    "PollingSource",
    "RemuxSource",
    "Source",
    "SourceError",
    "StreamClosed",
    "StreamFormatError",
    "StreamKind",
    "StreamResult",
    "Subscription",
    "jpeg_size",
    "mask_jpeg",
    "mjpeg",
    "mp4",
    "part",
    "stream",
]
