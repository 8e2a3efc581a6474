"""Synthetic IP cameras on the loopback interface, for tests, demo and benchmark.

One implementation per way a camera serves video, each with the options its
users need (see the modules):

- `MjpegCamera` (`testbed.cameras.mjpeg`): MJPEG over HTTP to any number of
  clients, connections counted; kill, revive and pause for fault tests.
- `RtspCamera`, `H264HttpCamera` (`testbed.cameras.h264`): H.264 over RTSP
  (with an optional still from the same encoder) and over HTTP MPEG-TS from an
  ffmpeg that takes one client.
- `Picture` (`testbed.cameras.pictures`): what every one of them shows, and
  how: a name and a clock burned in, or each frame's send time painted in.
- `CameraProcess` (`testbed.cameras.standalone`): an MJPEG camera in a process
  of its own, so its CPU is not the measuring client's.
"""

from .h264 import H264HttpCamera, RtspCamera
from .mjpeg import MjpegCamera
from .pictures import Picture, sample_jpegs

# `CameraProcess` is imported from `testbed.cameras.standalone`, which also runs
# as `python -m`: importing it here would load it twice in the camera process.
__all__ = [
    "H264HttpCamera",
    "MjpegCamera",
    "Picture",
    "RtspCamera",
    "sample_jpegs",
]
