"""The benchmark's table (as printed, and pasted into README.md) and its CSV."""

from __future__ import annotations

import csv
import math
from pathlib import Path
import statistics
from typing import TYPE_CHECKING, Final

import numpy as np

from .scenarios import (
    BASELINE,
    CORE_HLS,
    CORE_PROXY,
    H264,
    MJPEG,
    MJPEG_WIDE,
    OURS_MJPEG,
    OURS_MP4,
    PATHS,
)

if TYPE_CHECKING:
    from .results import CameraSettings, LoadResult, Results, StallResult

MIB: Final = 1024 * 1024
KB: Final = 1000
TARGET_N: Final = 20
H264_CPU_RATIO: Final = 0.2
MJPEG_CPU_RATIO: Final = 1.0
MP4_BYTES_SHARE: Final = 0.25
MP4_LATENCY_S: Final = 1.0
FIRE_ALARM_TARGET_S: Final = 1.0
FIRE_ALARM_P95_S: Final = 2.0
CLOSE_TARGET_S: Final = 0.5
STALL_TARGET_BYTES: Final = 2 * MIB
FPS_KEPT: Final = 0.9
"""Healthy viewers keep their frame rate: median at least this share of before."""

type Row = tuple[str, str, str, str, str, float, str]
"""section, scenario, path, N, metric, value, unit."""


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def _ratio(ours: float, core: float) -> float:
    return ours / core if core else math.nan


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _f(value: float, digits: int = 1) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


def _per_stalled(stall: StallResult) -> float:
    return (stall.backed_up_rss - stall.baseline_rss) / stall.stalled


def _find(results: Results, scenario: str, path: str, n: int) -> LoadResult | None:
    return next(
        (r for r in results.loads if (r.scenario, r.proxy, r.n) == (scenario, path, n)),
        None,
    )


def _describe(scenario: str, camera: CameraSettings) -> str:
    if scenario == H264:
        return (
            f"{camera.size} H.264 over RTSP at {camera.fps:g} fps, a keyframe every"
            f" {camera.keyframe_interval:g} s, {camera.bitrate_kbps} kbit/s;"
            " ours: mp4 remuxed (no decoding), mjpeg decoded from it and scaled to"
            " 960 px; core proxy: an ffmpeg camera (one ffmpeg per viewer, decodes"
            " and encodes MJPEG); core hls: the stream integration (LL-HLS)"
        )
    what = (
        "passed through (no ffmpeg)"
        if scenario == MJPEG
        else "decoded and scaled to 960 px once (ffmpeg)"
    )
    return (
        f"{camera.size} MJPEG at {camera.fps:g} fps (JPEG quality {camera.quality});"
        f" ours: {what}; core proxy: core's mjpeg camera relays the camera's bytes,"
        " a camera connection per viewer"
    )


# ------------------------------------------------------------------ the table

_HEAD: Final = (
    "   N path       |  up | CPU s/viewer-min (ffmpeg) ratio | fps med  p5 |"
    " KB/viewer-s | latency ms p50   p95 | first ms | RSS MiB HA+kids | client %"
)


def _load_row(load: LoadResult, baseline: LoadResult | None) -> str:
    cpu = load.cpu_per_viewer_minute
    ffmpeg = 100 * (load.cpu_s - load.ha_cpu_s) / load.cpu_s if load.cpu_s else 0.0
    ratio = (
        _f(_ratio(cpu, baseline.cpu_per_viewer_minute), 2)
        if baseline is not None and load.proxy.startswith("ours")
        else "-"
    )
    mark = "*" if load.saturated else " "
    return (
        f" {load.n:>3} {load.proxy:<10} | {load.upstream_open:>3} |"
        f" {cpu:>10.3f} ({ffmpeg:>3.0f}%) {ratio:>11} |"
        f" {_f(_median(load.fps)):>5}{mark}{_f(_pct(load.fps, 5)):>4} |"
        f" {load.bytes_per_viewer_s / KB:>11.1f} |"
        f" {_f(_median(load.latencies_ms), 0):>10}"
        f" {_f(_pct(load.latencies_ms, 95), 0):>5} |"
        f" {_f(1000 * _median(load.first_frame_s), 0):>8} |"
        f" {load.ha_rss / MIB:>7.0f}+{load.children_rss / MIB:<7.0f} |"
        f" {100 * load.client_cpu_s / load.window_s:>8.0f}"
    )


def load_line(load: LoadResult) -> str:
    """One measured window, alone (progress while the run goes on)."""
    return f"{load.scenario}:{_load_row(load, None)}"


def _scenario_table(results: Results, scenario: str) -> list[str]:
    loads = [r for r in results.loads if r.scenario == scenario]
    if not loads:
        return []
    camera = {
        H264: results.settings.h264,
        MJPEG: results.settings.mjpeg,
        MJPEG_WIDE: results.settings.mjpeg_wide,
    }[scenario]
    order = {path: index for index, path in enumerate(PATHS[scenario])}
    rows = [
        _load_row(r, _find(results, scenario, BASELINE[scenario], r.n))
        for r in sorted(loads, key=lambda r: (r.n, order[r.proxy]))
    ]
    return [
        f"camera {scenario}: {_describe(scenario, camera)}",
        _HEAD,
        "-" * len(_HEAD),
        *rows,
        "",
    ]


def _first_frame_lines(results: Results) -> list[str]:
    found = results.first_frame
    if not found:
        return []
    lines = [f"first picture, ms (median of {results.settings.reps}), cold / warm:"]
    for scenario, paths in PATHS.items():
        parts = []
        for path in paths:
            cold = _median(found.get(f"{scenario} {path} cold", []))
            warm = _median(found.get(f"{scenario} {path} warm", []))
            if math.isnan(cold) and math.isnan(warm):
                continue
            parts.append(f"{path} {_f(1000 * cold, 0)} / {_f(1000 * warm, 0)}")
        if parts:
            lines.append(f"  {scenario}: " + "; ".join(parts))
    return lines


def _bytes_lines(results: Results) -> list[str]:
    mp4 = [r for r in results.loads if (r.scenario, r.proxy) == (H264, OURS_MP4)]
    mjpeg = [r for r in results.loads if (r.scenario, r.proxy) == (H264, OURS_MJPEG)]
    if not mp4:
        return []
    mp4_rate = _median([r.bytes_per_viewer_s for r in mp4])
    mjpeg_rate = _median([r.bytes_per_viewer_s for r in mjpeg])
    same = results.mjpeg_at_camera_size
    return [
        (
            f"bytes per viewer-second, H.264 camera: mp4 {mp4_rate / KB:.0f} KB/s"
            f" ({8 * mp4_rate / 1e6:.2f} Mbit/s, 1280x720); mjpeg as served"
            f" {mjpeg_rate / KB:.0f} KB/s (960x540, mp4/mjpeg ="
            f" {_f(_ratio(mp4_rate, mjpeg_rate), 2)}); our JPEG encoder at 1280x720"
            f" {same / KB:.0f} KB/s (mp4/that = {_f(_ratio(mp4_rate, same), 2)});"
            f" an hour on a phone: mp4 {mp4_rate * 3600 / 1e9:.2f} GB, mjpeg"
            f" {mjpeg_rate * 3600 / 1e9:.2f} GB"
        )
    ]


def _mbs(load: LoadResult) -> float:
    return load.bytes_received / load.window_s / 1e6


def _fanout_lines(results: Results) -> list[str]:
    lines = []
    for scenario, path in ((H264, OURS_MP4), (MJPEG, OURS_MJPEG), (H264, CORE_HLS)):
        loads = sorted(
            (r for r in results.loads if (r.scenario, r.proxy) == (scenario, path)),
            key=lambda r: r.n,
        )
        if not loads:
            continue
        parts = [
            f"N={r.n} {_mbs(r):.1f} MB/s on {r.cores:.2f} cores ="
            f" {_mbs(r) / r.cores:.1f} MB/s per core"
            for r in loads
            if r.cores > 0
        ]
        lines.append(f"  {scenario} {path}: " + "; ".join(parts))
    return (
        [
            "fan-out (viewer traffic per core of Home Assistant and its children):",
            *lines,
        ]
        if lines
        else []
    )


def _fire_alarm_line(results: Results) -> list[str]:
    if not results.fire_alarm:
        return []
    frames = [t.frame_s for t in results.fire_alarm]
    active = [t.active_s for t in results.fire_alarm]
    players = sorted({t.player for t in results.fire_alarm})
    requests = [t.requests for t in results.fire_alarm]
    return [
        (
            "fire alarm (blueprint automation) -> first picture drawn on the officer's"
            f" page, open and idle in Chromium ({len(frames)} trials): median"
            f" {_f(_median(frames), 2)} s, p95 {_f(_pct(frames, 95), 2)} s,"
            f" max {_f(max(frames), 2)} s; the page active after median"
            f" {_f(_median(active), 2)} s; first tile played by {', '.join(players)};"
            f" {min(requests)}-{max(requests)} requests from alarm to picture"
        )
    ]


def _close_line(results: Results) -> list[str]:
    if not results.close_n:
        return []
    every = [t for after in results.close_after.values() for t in after]
    by_path = ", ".join(
        f"{path} {len(after)} (slowest {_f(max(after, default=math.nan), 3)} s)"
        for path, after in results.close_after.items()
    )
    return [
        (
            f"deactivate -> all {results.close_n} streams closed ({by_path}):"
            f" slowest {_f(max(every, default=math.nan), 3)} s, median"
            f" {_f(_median(every), 3)} s, not closed {results.close_not_closed};"
            f" the service call answered after {results.deactivate_answered:.3f} s"
        )
    ]


def _stall_lines(stall: StallResult | None) -> list[str]:
    if stall is None:
        return []
    ended = [e for e in stall.stream_ended_after if e is not None]
    reasons = ", ".join(sorted({str(r) for r in stall.end_reasons.values()}))
    closed = sorted(stall.socket_closed_after.values())
    queued = _median([float(q) for q in stall.send_queue.values()]) / 1024
    if len(closed) == stall.stalled:
        sockets = (
            "Home Assistant's side of each socket closed after"
            f" {_f(closed[0])}-{_f(closed[-1])} s"
        )
    else:
        sockets = (
            f"{stall.stalled - len(closed)} of {stall.stalled} sockets still open"
            f" on Home Assistant's side after {stall.observed:.0f} s, with"
            f" {queued:.0f} KiB queued in its kernel send buffer each"
        )
    return [
        (
            f"stalled viewers (mjpeg camera, ours): {stall.stalled} sockets that"
            f" never read, next to {stall.healthy} healthy viewers"
        ),
        (
            f"  Home Assistant RSS {stall.baseline_rss / MIB:.1f} MiB before,"
            f" {stall.backed_up_rss / MIB:.1f} MiB once they backed up"
            f" (after {_f(_nan(stall.backed_up_after))} s):"
            f" {_per_stalled(stall) / MIB:+.2f} MiB per stalled viewer"
        ),
        (
            f"  the integration ended {len(ended)} of {stall.stalled} streams after"
            f" {_f(min(ended, default=math.nan))}-{_f(max(ended, default=math.nan))} s"
            f" (audit view_ended, reason {reasons or 'none recorded'})"
        ),
        f"  {sockets}",
        (
            f"  healthy viewers' fps median {_f(_median(stall.baseline_fps))} ->"
            f" {_f(_median(stall.stalled_fps))}, p5 {_f(_pct(stall.baseline_fps, 5))}"
            f" -> {_f(_pct(stall.stalled_fps, 5))}"
        ),
    ]


def _overhead_lines(results: Results) -> list[str]:
    loads = results.loads
    if not loads:
        return []
    client = max(loads, key=lambda r: r.client_cpu_s / r.window_s)
    camera = max(loads, key=lambda r: r.camera_cpu_s / r.window_s)
    lines = [
        (
            f"idle Home Assistant: CPU {results.idle_cpu_pct:.1f} % of a core,"
            f" RSS {results.idle_rss / MIB:.0f} MiB; benchmark client CPU at most"
            f" {100 * client.client_cpu_s / client.window_s:.0f} % of a core"
            f" ({client.scenario} {client.proxy}, N={client.n}); camera process at"
            f" most {100 * camera.camera_cpu_s / camera.window_s:.0f} %"
            f" ({camera.scenario})"
        )
    ]
    unreadable = sum(r.unreadable_stamps for r in loads)
    failed = sum(r.failed_viewers for r in loads)
    saturated = [f"{r.scenario} {r.proxy} N={r.n}" for r in loads if r.saturated]
    if unreadable or failed:
        lines.append(
            f"warnings: {unreadable} sampled pictures without a readable stamp,"
            f" {failed} viewers ended during a window"
        )
    lines += [f"failed (not measured): {failure}" for failure in results.failures]
    if saturated:
        lines.append(
            "* saturated (median fps under half the camera's; larger N not tried): "
            + ", ".join(saturated)
        )
    return lines


def _cpu_target(
    results: Results, scenario: str, path: str, limit: float
) -> tuple[bool | None, str]:
    ours = _find(results, scenario, path, TARGET_N)
    core = _find(results, scenario, BASELINE[scenario], TARGET_N)
    if ours is None:
        return None, f"N={TARGET_N} not measured"
    if core is None:
        served = [
            r
            for r in results.loads
            if (r.scenario, r.proxy) == (scenario, BASELINE[scenario])
        ]
        last = max(served, key=lambda r: r.n, default=None)
        if last is None or not last.saturated:
            return None, f"core N={TARGET_N} not measured"
        ratio = _ratio(
            ours.cpu_per_viewer_minute,
            last.cpu_per_viewer_minute,
        )
        return True, (
            f"core cannot serve N={TARGET_N} here: saturated at N={last.n};"
            f" ours at N={TARGET_N} / core at N={last.n} = {ratio:.3f}"
        )
    ratio = _ratio(ours.cpu_per_viewer_minute, core.cpu_per_viewer_minute)
    note = " (core saturated)" if core.saturated else ""
    return ratio <= limit, f"ours/core = {ratio:.3f}{note}"


def _targets(results: Results) -> list[str]:
    lines = ["targets:"]

    def line(name: str, met: bool | None, detail: str) -> None:
        verdict = "n/a" if met is None else ("met" if met else "MISSED")
        lines.append(f"  {name:<52} {verdict:<6} {detail}")

    ours = [r for r in results.loads if r.proxy.startswith("ours")]
    most = {
        scenario: max(r.upstream_open for r in ours if r.scenario == scenario)
        for scenario in PATHS
        if any(r.scenario == scenario for r in ours)
    }
    line(
        "one camera connection for any N (ours)",
        all(r.upstream_open == 1 for r in ours) if ours else None,
        "most open at once: "
        + ", ".join(f"{scenario} {count}" for scenario, count in most.items())
        + "; core proxy: "
        + ", ".join(
            str(r.upstream_open)
            for r in sorted(results.loads, key=lambda r: (r.scenario, r.n))
            if r.proxy == CORE_PROXY and r.scenario == H264
        )
        + " (h264)",
    )
    for path in (OURS_MP4, OURS_MJPEG):
        met, detail = _cpu_target(results, H264, path, H264_CPU_RATIO)
        line(f"h264 {path}: CPU per viewer at N=20 <= 0.2 x core's", met, detail)
    mp4 = [r for r in results.loads if (r.scenario, r.proxy) == (H264, OURS_MP4)]
    mp4_rate = _median([r.bytes_per_viewer_s for r in mp4])
    same = results.mjpeg_at_camera_size
    line(
        "mp4 bytes <= 1/4 of our mjpeg at the same size",
        None if math.isnan(mp4_rate * same) else mp4_rate <= MP4_BYTES_SHARE * same,
        f"{mp4_rate / KB:.0f} / {same / KB:.0f} KB/s = {_f(_ratio(mp4_rate, same), 2)}",
    )
    latencies = [ms for r in mp4 for ms in r.latencies_ms]
    line(
        "mp4 p50 latency < 1 s",
        _median(latencies) < 1000 * MP4_LATENCY_S if latencies else None,
        f"p50 {_f(_median(latencies), 0)} ms, p95 {_f(_pct(latencies, 95), 0)} ms"
        " (keyframes, painted send time)",
    )
    met, detail = _cpu_target(results, MJPEG, OURS_MJPEG, MJPEG_CPU_RATIO)
    line("mjpeg camera: CPU per viewer at N=20 <= core's", met, detail)
    frames = [t.frame_s for t in results.fire_alarm]
    line(
        "fire alarm -> picture on the page: median < 1 s",
        _median(frames) < FIRE_ALARM_TARGET_S if frames else None,
        f"{_f(_median(frames), 2)} s",
    )
    line(
        "fire alarm -> picture on the page: p95 < 2 s",
        _pct(frames, 95) < FIRE_ALARM_P95_S if frames else None,
        f"{_f(_pct(frames, 95), 2)} s",
    )
    every = [t for after in results.close_after.values() for t in after]
    slowest = max(every, default=math.nan)
    line(
        f"all {results.close_n} streams closed within 0.5 s of deactivate",
        results.close_not_closed == 0 and slowest <= CLOSE_TARGET_S
        if results.close_n
        else None,
        f"slowest {_f(slowest, 3)} s, not closed {results.close_not_closed}",
    )
    stall = results.stall
    if stall is None:
        line("a stalled viewer < 2 MiB; the others keep fps", None, "not measured")
    else:
        # Home Assistant's RSS and the kernel's send queue it fills, per viewer.
        rss = max(_per_stalled(stall), 0.0)
        kernel = _median([float(q) for q in stall.send_queue.values()])
        before, during = _median(stall.baseline_fps), _median(stall.stalled_fps)
        still_open = stall.stalled - len(stall.socket_closed_after)
        line(
            "a stalled viewer < 2 MiB; the others keep fps",
            rss + kernel < STALL_TARGET_BYTES and during >= FPS_KEPT * before,
            f"{rss / MIB:.2f} MiB RSS + {kernel / 1024:.0f} KiB kernel each;"
            f" fps {_f(before)} -> {_f(during)}; {still_open} of {stall.stalled}"
            f" sockets still open after {stall.observed:.0f} s",
        )
    return lines


def _machine_line(results: Results) -> str:
    load = [sample[0] for sample in results.loadavg] or [math.nan]
    machine = results.machine
    kind = "--quick" if results.settings.quick else "full"
    return (
        f"machine: {machine.get('cpu')}, {machine.get('cores')} cores;"
        f" load average (1 min) during the run {min(load):.2f}-{max(load):.2f};"
        f" {results.started:%Y-%m-%d %H:%M} UTC; {kind} run took"
        f" {results.duration_s:.0f} s"
    )


def table(results: Results) -> str:
    """The whole report, as printed."""
    settings = results.settings
    lines = [
        (
            "School Emergency Share (ours) vs Home Assistant core (core), same"
            " cameras, same run"
        ),
        (
            f"each row: {settings.window:g} s window after {settings.warmup:g} s"
            " warm-up; up: camera connections open at most; CPU and RSS: Home"
            " Assistant's process plus its children (/proc); ratio: ours / core"
            " proxy at the same N; fps: pictures per viewer per second; latency:"
            " from the send time painted in the picture (mp4 and hls: keyframes),"
            " sampled once a second per viewer; first: each viewer's first picture"
            " as N start together"
        ),
        "",
        *_scenario_table(results, H264),
        *_scenario_table(results, MJPEG),
        *_scenario_table(results, MJPEG_WIDE),
        *_bytes_lines(results),
        *_fanout_lines(results),
        *_first_frame_lines(results),
        *_fire_alarm_line(results),
        *_close_line(results),
        *_stall_lines(results.stall),
        *_overhead_lines(results),
        "",
        *_targets(results),
        "",
        _machine_line(results),
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------ the CSV


def _load_rows(load: LoadResult) -> list[Row]:
    values: list[tuple[str, float, str]] = [
        ("upstream_open", load.upstream_open, "connections"),
        ("cpu_per_viewer_minute", load.cpu_per_viewer_minute, "s"),
        ("cpu", load.cpu_s, "s"),
        ("ha_cpu", load.ha_cpu_s, "s"),
        ("window", load.window_s, "s"),
        ("fps_median", _median(load.fps), "fps"),
        ("fps_p5", _pct(load.fps, 5), "fps"),
        ("bytes_per_viewer_s", load.bytes_per_viewer_s, "B/s"),
        ("latency_median", _median(load.latencies_ms), "ms"),
        ("latency_p95", _pct(load.latencies_ms, 95), "ms"),
        ("latency_samples", len(load.latencies_ms), "pictures"),
        ("first_picture_median", 1000 * _median(load.first_frame_s), "ms"),
        ("ha_rss", load.ha_rss / MIB, "MiB"),
        ("children_rss", load.children_rss / MIB, "MiB"),
        ("children", load.children, "processes"),
        ("client_cpu", 100 * load.client_cpu_s / load.window_s, "% of a core"),
        ("camera_cpu", 100 * load.camera_cpu_s / load.window_s, "% of a core"),
        ("failed_viewers", load.failed_viewers, "viewers"),
        ("saturated", float(load.saturated), "bool"),
    ]
    return [
        ("load", load.scenario, load.proxy, str(load.n), m, v, u) for m, v, u in values
    ]


def _stall_rows(stall: StallResult) -> list[Row]:
    values: list[tuple[str, float, str]] = [
        ("rss_per_stalled_viewer", _per_stalled(stall) / MIB, "MiB"),
        ("baseline_rss", stall.baseline_rss / MIB, "MiB"),
        ("backed_up_rss", stall.backed_up_rss / MIB, "MiB"),
        ("fps_before", _median(stall.baseline_fps), "fps"),
        ("fps_during", _median(stall.stalled_fps), "fps"),
        ("backed_up_after", _nan(stall.backed_up_after), "s"),
        ("observed", stall.observed, "s"),
    ]
    values += [("send_queue", q / 1024, "KiB") for q in stall.send_queue.values()]
    values += [("stream_ended_after", _nan(e), "s") for e in stall.stream_ended_after]
    return [
        ("stall", MJPEG, OURS_MJPEG, str(stall.stalled), m, v, u) for m, v, u in values
    ]


def _rows(results: Results) -> list[Row]:
    rows = [row for load in results.loads for row in _load_rows(load)]
    for key, values in results.first_frame.items():
        scenario, _, rest = key.partition(" ")
        path, _, kind = rest.rpartition(" ")
        rows += [
            ("first_picture", scenario, path, "1", kind, 1000 * v, "ms") for v in values
        ]
    rows.append(
        (
            "bytes",
            H264,
            "our jpeg encoder at camera size",
            "1",
            "bytes_per_s",
            results.mjpeg_at_camera_size,
            "B/s",
        )
    )
    for trial in results.fire_alarm:
        path = OURS_MP4 if trial.player == "mp4" else OURS_MJPEG
        rows += [
            ("fire_alarm", trial.camera, path, "1", "page_active", trial.active_s, "s"),
            (
                "fire_alarm",
                trial.camera,
                path,
                "1",
                "first_picture",
                trial.frame_s,
                "s",
            ),
            ("fire_alarm", trial.camera, path, "1", "requests", trial.requests, "n"),
        ]
    n = str(results.close_n)
    for path, after in results.close_after.items():
        rows += [("deactivate", "-", path, n, "closed", v, "s") for v in after]
    if results.stall is not None:
        rows += _stall_rows(results.stall)
    rows += [
        ("idle", "-", "-", "0", "cpu", results.idle_cpu_pct, "% of a core"),
        ("idle", "-", "-", "0", "rss", results.idle_rss / MIB, "MiB"),
    ]
    rows += [
        ("machine", "-", "-", str(index), "loadavg_1min", load[0], "")
        for index, load in enumerate(results.loadavg)
    ]
    return rows


def file_stem(results: Results, kind: str = "bench") -> str:
    """`<kind>-<UTC start>[-quick]`: the name the run's files share."""
    quick = "-quick" if results.settings.quick else ""
    return f"{kind}-{results.started:%Y%m%dT%H%M%SZ}{quick}"


def write(results: Results, text: str, directory: Path) -> tuple[Path, Path]:
    """Write the CSV (one measurement per row) and the table; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = file_stem(results)
    csv_path = directory / f"{stem}.csv"
    with csv_path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["run", "section", "camera", "path", "n", "metric", "value", "unit"]
        )
        run = results.started.isoformat(timespec="seconds")
        for row in _rows(results):
            section, scenario, path, n, metric, value, unit = row
            writer.writerow(
                [run, section, scenario, path, n, metric, f"{value:.6g}", unit]
            )
    text_path = directory / f"{stem}.txt"
    text_path.write_text(text + "\n")
    return csv_path, text_path
