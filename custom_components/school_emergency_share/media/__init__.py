"""Reading each camera once and fanning its frames out to viewers.

Plain asyncio, aiohttp and ffmpeg; no Home Assistant import. A `CameraHub`
per camera owns one upstream `FrameSource` (an `FfmpegSource` process or a
`PollingSource`) whatever the number of viewers; each viewer holds a
`Subscription` and is served by `mjpeg.stream`.
"""

from .frames import Frame, MultipartJpegParser, StreamFormatError
from .hub import CameraHub, CameraStatus, FrameSource, StreamClosed, Subscription
from .mjpeg import BOUNDARY, CONTENT_TYPE, StreamResult, part, stream
from .sources import FfmpegSource, PollingSource, SourceError

__all__ = [
    "BOUNDARY",
    "CONTENT_TYPE",
    "CameraHub",
    "CameraStatus",
    "FfmpegSource",
    "Frame",
    "FrameSource",
    "MultipartJpegParser",
    "PollingSource",
    "SourceError",
    "StreamClosed",
    "StreamFormatError",
    "StreamResult",
    "Subscription",
    "part",
    "stream",
]
