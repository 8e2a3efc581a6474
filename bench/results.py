"""What one benchmark run measured: the settings and every result.

Its own module so that the run (`bench.run`, which fills these in) and the
report (`bench.report`, which reads them) both import it and not each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .page import AlarmTrial


@dataclass(frozen=True, slots=True)
class CameraSettings:
    """One synthetic camera of a scenario."""

    size: str
    fps: float
    quality: int = 85
    """JPEG quality (MJPEG cameras)."""
    keyframe_interval: float = 2.0
    """Seconds between keyframes (H.264 cameras)."""
    bitrate_kbps: int | None = None
    """H.264 bit rate, as the camera is configured."""


@dataclass(frozen=True, slots=True)
class Settings:
    """How much to measure."""

    quick: bool
    counts: tuple[int, ...]
    window: float
    """Seconds of each measured window."""
    warmup: float
    """Seconds between the last viewer's first frame and the window."""
    reps: int
    """Repetitions of first-frame measurements."""
    close_viewers: int
    healthy_viewers: int
    stalled_viewers: int
    idle_window: float
    fanout_counts: tuple[int, ...] = ()
    """Extra N for this integration's two cheapest paths: fan-out per core."""
    wide_counts: tuple[int, ...] = ()
    """N for the wide MJPEG camera (transcoded); empty: not measured."""
    h264: CameraSettings = CameraSettings(
        "1280x720", 12.0, keyframe_interval=2.0, bitrate_kbps=1500
    )
    mjpeg: CameraSettings = CameraSettings("960x540", 10.0)
    mjpeg_wide: CameraSettings = CameraSettings("1280x720", 10.0)
    alarm_trials: int = 10
    """Trips of the fire alarm with the officer's page open."""
    keep: bool = False

    @classmethod
    def full(cls, *, keep: bool = False) -> Settings:
        """The full run (about 15 minutes on 2 cores)."""
        return cls(
            quick=False,
            counts=(1, 5, 10, 20),
            window=15.0,
            warmup=3.0,
            reps=5,
            close_viewers=40,
            healthy_viewers=10,
            stalled_viewers=5,
            idle_window=5.0,
            fanout_counts=(40,),
            wide_counts=(20,),
            keep=keep,
        )

    @classmethod
    def quick_run(cls, *, keep: bool = False) -> Settings:
        """A smoke run (a few minutes)."""
        return cls(
            quick=True,
            counts=(1, 5),
            window=4.0,
            warmup=1.5,
            reps=2,
            alarm_trials=3,
            close_viewers=6,
            healthy_viewers=4,
            stalled_viewers=2,
            idle_window=2.0,
            keep=keep,
        )


@dataclass(slots=True)
class LoadResult:
    """One path under N viewers for one window."""

    scenario: str
    """`h264`, `mjpeg` or `mjpeg-wide`: which camera."""
    proxy: str
    """`ours mp4`, `ours mjpeg`, `core proxy`, `core hls`."""
    n: int
    upstream_open: int
    """Most camera connections open at once during the window."""
    window_s: float
    cpu_s: float
    ha_cpu_s: float
    """Home Assistant's own share of `cpu_s` (the rest is its ffmpeg)."""
    children: int
    """Most ffmpeg children at once."""
    fps: list[float]
    """Pictures per viewer per whole second of the window, every viewer."""
    bytes_received: int
    """Body bytes all viewers received in the window."""
    latencies_ms: list[float]
    first_frame_s: list[float]
    """Each viewer's time from its request to its first picture."""
    unreadable_stamps: int
    ha_rss: float
    children_rss: float
    client_cpu_s: float
    camera_cpu_s: float
    failed_viewers: int
    saturated: bool = False
    """The path could not keep up (median fps under half the camera's)."""

    @property
    def cpu_per_viewer_minute(self) -> float:
        """CPU seconds of Home Assistant and its children per viewer-minute."""
        return self.cpu_s / (self.n * self.window_s / 60)

    @property
    def bytes_per_viewer_s(self) -> float:
        """What one viewer downloads a second (what a phone pays for)."""
        return self.bytes_received / (self.n * self.window_s)

    @property
    def cores(self) -> float:
        """Cores Home Assistant and its children kept busy."""
        return self.cpu_s / self.window_s


@dataclass(slots=True)
class StallResult:
    """Viewers that stop reading, next to healthy ones."""

    stalled: int
    healthy: int
    baseline_fps: list[float] = field(default_factory=list)
    stalled_fps: list[float] = field(default_factory=list)
    """Healthy viewers' fps while the stalled ones were connected."""
    baseline_rss: float = math.nan
    backed_up_rss: float = math.nan
    """Home Assistant's RSS while the stalled sockets were full."""
    send_queue: dict[int, int] = field(default_factory=dict)
    """Bytes in Home Assistant's kernel send queue per stalled viewer (last)."""
    receive_queue: dict[int, int] = field(default_factory=dict)
    backed_up_after: float | None = None
    stream_ended_after: list[float | None] = field(default_factory=list)
    """Seconds until the audit log recorded each stream's end."""
    end_reasons: dict[str, str | None] = field(default_factory=dict)
    socket_closed_after: dict[int, float] = field(default_factory=dict)
    """Seconds until Home Assistant's side of each socket left ESTABLISHED."""
    observed: float = 0.0


@dataclass(slots=True)
class Results:
    """Everything measured, with where and when."""

    settings: Settings
    started: datetime
    machine: dict[str, str] = field(default_factory=dict)
    loadavg: list[tuple[float, float, float]] = field(default_factory=list)
    idle_cpu_pct: float = 0.0
    idle_rss: float = 0.0
    loads: list[LoadResult] = field(default_factory=list)
    first_frame: dict[str, list[float]] = field(default_factory=dict)
    """`<scenario> <proxy> cold|warm` → seconds."""
    mjpeg_at_camera_size: float = math.nan
    """Bytes a second of this integration's JPEG encoder on the H.264 camera
    at the camera's own resolution (not scaled down): `/mp4`'s fair match."""
    fire_alarm: list[AlarmTrial] = field(default_factory=list)
    """(seconds to admitted, seconds to first frame, attempts) per trial."""
    close_n: int = 0
    close_after: dict[str, list[float]] = field(default_factory=dict)
    """Seconds from sending `deactivate` to each stream's end, by path."""
    close_not_closed: int = 0
    deactivate_answered: float = 0.0
    stall: StallResult | None = None
    failures: list[str] = field(default_factory=list)
    """Windows that could not be measured, and why."""
    duration_s: float = 0.0
