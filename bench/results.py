"""What one benchmark run measured: the settings and every result.

Its own module so that the run (`bench.run`, which fills these in) and the
report (`bench.report`, which reads them) both import it and not each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
import math


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
    """Repetitions of first-frame and fire-alarm measurements."""
    close_viewers: int
    healthy_viewers: int
    stalled_viewers: int
    idle_window: float
    camera_size: str = "1280x720"
    camera_fps: float = 10.0
    camera_quality: int = 85
    keep: bool = False

    @classmethod
    def full(cls, *, keep: bool = False) -> Settings:
        """The full run (under 10 minutes on 2 cores)."""
        return cls(
            quick=False,
            counts=(1, 5, 10, 20, 40),
            window=15.0,
            warmup=3.0,
            reps=5,
            close_viewers=40,
            healthy_viewers=10,
            stalled_viewers=5,
            idle_window=5.0,
            keep=keep,
        )

    @classmethod
    def quick_run(cls, *, keep: bool = False) -> Settings:
        """A smoke run (under 2 minutes)."""
        return cls(
            quick=True,
            counts=(1, 5),
            window=4.0,
            warmup=1.5,
            reps=2,
            close_viewers=5,
            healthy_viewers=4,
            stalled_viewers=2,
            idle_window=2.0,
            keep=keep,
        )


@dataclass(slots=True)
class LoadResult:
    """One proxy under N viewers for one window."""

    proxy: str
    n: int
    upstream_open: int
    """Most camera connections open at once during the window."""
    upstream_opened: int
    """Camera connections opened from the first viewer to the window's end."""
    window_s: float
    cpu_s: float
    ha_cpu_s: float
    """Home Assistant's own share of `cpu_s` (the rest is its ffmpeg)."""
    fps: list[float]
    """Parts per viewer per whole second of the window, every viewer."""
    latencies_ms: list[float]
    unreadable_stamps: int
    ha_rss: float
    children_rss: float
    children: int
    client_cpu_s: float
    camera_cpu_s: float
    failed_viewers: int

    @property
    def cpu_per_viewer_minute(self) -> float:
        """CPU seconds of Home Assistant and its children per viewer-minute."""
        return self.cpu_s / (self.n * self.window_s / 60)


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
    """`ours cold`, `ours warm`, `core cold`, `core warm` → seconds."""
    fire_alarm: list[tuple[float, float, int]] = field(default_factory=list)
    """(seconds to admitted, seconds to first frame, attempts) per trial."""
    close_n: int = 0
    close_after: list[float] = field(default_factory=list)
    """Seconds from sending `deactivate` to each stream's end."""
    close_not_closed: int = 0
    deactivate_answered: float = 0.0
    stall: StallResult | None = None
    duration_s: float = 0.0
