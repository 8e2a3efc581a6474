"""What the benchmark compares: cameras, and the paths viewers watch them by.

Three cameras, each a process of its own (`testbed.cameras.standalone`) that
paints each frame's send time into its pixels:

- `h264`: H.264 over RTSP, 1280x720 at 12 fps, a keyframe every 2 s, at a
  camera's bit rate: the kind most school cameras are. Home Assistant sees it
  twice: as a `generic` camera (stream source, RTSP over UDP: what this
  integration reads, and what core's HLS plays) and as an `ffmpeg` camera
  (YAML), whose `/api/camera_proxy_stream` runs one ffmpeg per viewer that
  decodes the H.264 and encodes MJPEG. (A `generic` camera's proxy stream is
  its still image polled at its frame rate, or nothing without a still URL:
  `Camera.handle_async_mjpeg_stream`'s default; the `ffmpeg`, `onvif` and a
  few other platforms override it with an ffmpeg per viewer.)
- `mjpeg`: MJPEG over HTTP, 960x540 at 10 fps: small enough that this
  integration passes its JPEGs through. Core's `mjpeg` camera relays it, one
  camera connection per viewer.
- `mjpeg-wide`: the same at 1280x720, which this integration scales down
  (ffmpeg decodes and encodes once): where passthrough does not apply.

Paths: `ours mp4` and `ours mjpeg` (this integration, a standing link per
viewer), `core proxy` (`/api/camera_proxy_stream`, bearer token), `core hls`
(core's `stream` integration, low-latency HLS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from testbed.viewers import HlsViewer, Viewer

H264: Final = "h264"
MJPEG: Final = "mjpeg"
MJPEG_WIDE: Final = "mjpeg-wide"
OURS_MP4: Final = "ours mp4"
OURS_MJPEG: Final = "ours mjpeg"
CORE_PROXY: Final = "core proxy"
CORE_HLS: Final = "core hls"

PATHS: Final[dict[str, tuple[str, ...]]] = {
    H264: (OURS_MP4, OURS_MJPEG, CORE_PROXY, CORE_HLS),
    MJPEG: (OURS_MJPEG, CORE_PROXY),
    MJPEG_WIDE: (OURS_MJPEG, CORE_PROXY),
}
"""Each camera's paths, in the order measured."""
BASELINE: Final[dict[str, str]] = {
    H264: CORE_PROXY,
    MJPEG: CORE_PROXY,
    MJPEG_WIDE: CORE_PROXY,
}
"""What each of ours is compared with (the ratio in the table)."""
CAMERA_NAMES: Final[dict[str, str]] = {
    H264: "Bench H264",
    MJPEG: "Bench MJPEG",
    MJPEG_WIDE: "Bench MJPEG 720p",
}
FFMPEG_CAMERA: Final = "camera.bench_h264_ffmpeg"
"""The H.264 camera as core's `ffmpeg` platform sees it (YAML)."""


def ffmpeg_camera_yaml(rtsp_url: str) -> str:
    """The YAML of core's `ffmpeg` camera over the RTSP camera (over UDP)."""
    return (
        "camera:\n"
        "  - platform: ffmpeg\n"
        "    name: Bench H264 ffmpeg\n"
        f'    input: "-rtsp_transport udp -i {rtsp_url}"\n'
    )


@dataclass(frozen=True, slots=True)
class Watch:
    """How one viewer watches: its URL, headers and client."""

    url: str
    headers: dict[str, str]
    kind: type[Viewer | HlsViewer]
