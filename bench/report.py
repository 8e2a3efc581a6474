"""The benchmark's table (as printed, and pasted into README.md) and its CSV."""

from __future__ import annotations

import csv
import math
from pathlib import Path
import statistics
from typing import TYPE_CHECKING, Final

import numpy as np

if TYPE_CHECKING:
    from .results import LoadResult, Results, StallResult

MIB: Final = 1024 * 1024
CPU_TARGET_N: Final = 20
CPU_TARGET_RATIO: Final = 0.2
FIRE_ALARM_TARGET_S: Final = 1.0
CLOSE_TARGET_S: Final = 0.5
STALL_TARGET_BYTES: Final = 2 * MIB
FPS_KEPT: Final = 0.9
"""Healthy viewers keep their frame rate: median at least this share of before."""

type Row = tuple[str, str, str, str, float, str]
"""section, proxy, N, metric, value, unit."""


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


def _pairs(results: Results) -> list[tuple[int, LoadResult, LoadResult]]:
    by_key = {(r.proxy, r.n): r for r in results.loads}
    return [
        (n, by_key[("ours", n)], by_key[("core", n)])
        for n in results.settings.counts
        if ("ours", n) in by_key and ("core", n) in by_key
    ]


def _per_stalled(stall: StallResult) -> float:
    return (stall.backed_up_rss - stall.baseline_rss) / stall.stalled


# ------------------------------------------------------------------ the table

_HEAD: Final = (
    (
        "  N | upstream  | CPU s per viewer-minute     | fps median | fps p5    |"
        " latency ms  | latency ms  | RSS MiB        | client CPU %"
    ),
    (
        "    | ours core | ours (ffmpeg)   core  ratio | ours  core | ours core |"
        " median      | p95         | ours      core | ours core"
    ),
    (
        "    |           |                             |            |           |"
        "  ours  core |  ours  core | HA+ffmpeg   HA |"
    ),
)


def _load_row(n: int, ours: LoadResult, core: LoadResult) -> str:
    o_cpu, c_cpu = ours.cpu_per_viewer_minute, core.cpu_per_viewer_minute
    ffmpeg = 100 * (ours.cpu_s - ours.ha_cpu_s) / ours.cpu_s if ours.cpu_s else 0.0
    rss = f"{ours.ha_rss / MIB:.0f}+{ours.children_rss / MIB:.0f}"
    core_rss = (core.ha_rss + core.children_rss) / MIB
    client = [100 * r.client_cpu_s / r.window_s for r in (ours, core)]
    latency = [
        _f(value, 0)
        for value in (
            _median(ours.latencies_ms),
            _median(core.latencies_ms),
            _pct(ours.latencies_ms, 95),
            _pct(core.latencies_ms, 95),
        )
    ]
    return (
        f"{n:>3} | {ours.upstream_open:>4} {core.upstream_open:>4} |"
        f" {o_cpu:>6.3f} ({ffmpeg:>3.0f}%) {c_cpu:>6.3f} {_ratio(o_cpu, c_cpu):>6.2f} |"
        f" {_f(_median(ours.fps)):>4} {_f(_median(core.fps)):>5} |"
        f" {_f(_pct(ours.fps, 5)):>4} {_f(_pct(core.fps, 5)):>4} |"
        f" {latency[0]:>5} {latency[1]:>5} | {latency[2]:>5} {latency[3]:>5} |"
        f" {rss:>9} {core_rss:>4.0f} | {client[0]:>4.0f} {client[1]:>4.0f}"
    )


def _load_table(results: Results) -> list[str]:
    rows = [_load_row(n, ours, core) for n, ours, core in _pairs(results)]
    return [*_HEAD, "-" * max(len(line) for line in (*_HEAD, *rows)), *rows]


def _first_frame_line(results: Results) -> list[str]:
    found = results.first_frame
    if not found:
        return []
    cold = (_median(found.get("ours cold", [])), _median(found.get("core cold", [])))
    warm = (_median(found.get("ours warm", [])), _median(found.get("core warm", [])))
    return [
        (
            f"first frame, ms (median of {results.settings.reps}):"
            f" cold ours {_f(1000 * cold[0], 0)} core {_f(1000 * cold[1], 0)}"
            f" (ratio {_f(_ratio(*cold), 2)});"
            f" warm ours {_f(1000 * warm[0], 0)} core {_f(1000 * warm[1], 0)}"
            f" (ratio {_f(_ratio(*warm), 2)})"
        )
    ]


def _fire_alarm_line(results: Results) -> list[str]:
    if not results.fire_alarm:
        return []
    admitted = [a for a, _, _ in results.fire_alarm]
    frames = [t for _, t, _ in results.fire_alarm]
    return [
        (
            "fire alarm (blueprint automation) -> first frame at a standing-link"
            f" viewer retrying every 50 ms, {len(frames)} trials: median"
            f" {_f(_median(frames), 2)} s, max {_f(max(frames), 2)} s"
            f" (link admitted after median {_f(_median(admitted), 2)} s)"
        )
    ]


def _close_line(results: Results) -> list[str]:
    if not results.close_n:
        return []
    return [
        (
            f"deactivate -> all {results.close_n} streams closed: slowest"
            f" {_f(max(results.close_after, default=math.nan), 3)} s, median"
            f" {_f(_median(results.close_after), 3)} s, not closed"
            f" {results.close_not_closed}; the service call answered after"
            f" {results.deactivate_answered:.3f} s"
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
            f"stalled viewers: {stall.stalled} sockets that never read, next to"
            f" {stall.healthy} healthy viewers"
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
            f" ({client.proxy}, N={client.n}); camera process at most"
            f" {100 * camera.camera_cpu_s / camera.window_s:.0f} %"
        )
    ]
    unreadable = sum(r.unreadable_stamps for r in loads)
    failed = sum(r.failed_viewers for r in loads)
    if unreadable or failed:
        lines.append(
            f"warnings: {unreadable} sampled frames without a readable stamp,"
            f" {failed} viewers ended during a window"
        )
    return lines


def _targets(results: Results) -> list[str]:
    lines = ["targets:"]

    def line(name: str, met: bool | None, detail: str) -> None:
        verdict = "n/a" if met is None else ("met" if met else "MISSED")
        lines.append(f"  {name:<50} {verdict:<6} {detail}")

    pairs = _pairs(results)
    line(
        "one upstream connection for any N",
        all(o.upstream_open == 1 and o.upstream_opened <= 1 for _, o, _ in pairs),
        f"ours {', '.join(str(o.upstream_open) for _, o, _ in pairs)};"
        f" core {', '.join(str(c.upstream_open) for _, _, c in pairs)}",
    )
    at20 = next(((o, c) for n, o, c in pairs if n == CPU_TARGET_N), None)
    if at20 is None:
        line("CPU per viewer at N=20 <= 1/5 of core's", None, "N=20 not measured")
    else:
        ratio = _ratio(at20[0].cpu_per_viewer_minute, at20[1].cpu_per_viewer_minute)
        line(
            "CPU per viewer at N=20 <= 1/5 of core's",
            ratio <= CPU_TARGET_RATIO,
            f"ours/core = {ratio:.2f}",
        )
    frames = [t for _, t, _ in results.fire_alarm]
    line(
        "fire alarm -> first frame < 1 s (median)",
        _median(frames) < FIRE_ALARM_TARGET_S if frames else None,
        f"{_f(_median(frames), 2)} s",
    )
    slowest = max(results.close_after, default=math.nan)
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
            "School Emergency Share proxy (ours) vs Home Assistant core's"
            " /api/camera_proxy_stream (core), same camera, same run"
        ),
        (
            f"camera: {settings.camera_size} MJPEG at {settings.camera_fps:g} fps"
            f" (JPEG quality {settings.camera_quality}); ours re-encodes once with"
            " ffmpeg (<= 960 px wide, <= 10 fps); core relays the camera's bytes"
        ),
        (
            f"each row: {settings.window:g} s window after {settings.warmup:g} s"
            " warm-up; CPU and RSS: Home Assistant's process plus its children"
            " (/proc); fps: parts per viewer per second; latency: from the send"
            " time painted in the frame, sampled once a second per viewer"
        ),
        "",
        *_load_table(results),
        "",
        *_first_frame_line(results),
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
        ("upstream_opened", load.upstream_opened, "connections"),
        ("cpu_per_viewer_minute", load.cpu_per_viewer_minute, "s"),
        ("cpu", load.cpu_s, "s"),
        ("ha_cpu", load.ha_cpu_s, "s"),
        ("window", load.window_s, "s"),
        ("fps_median", _median(load.fps), "fps"),
        ("fps_p5", _pct(load.fps, 5), "fps"),
        ("latency_median", _median(load.latencies_ms), "ms"),
        ("latency_p95", _pct(load.latencies_ms, 95), "ms"),
        ("latency_samples", len(load.latencies_ms), "frames"),
        ("ha_rss", load.ha_rss / MIB, "MiB"),
        ("children_rss", load.children_rss / MIB, "MiB"),
        ("children", load.children, "processes"),
        ("client_cpu", 100 * load.client_cpu_s / load.window_s, "% of a core"),
        ("camera_cpu", 100 * load.camera_cpu_s / load.window_s, "% of a core"),
        ("failed_viewers", load.failed_viewers, "viewers"),
    ]
    return [("load", load.proxy, str(load.n), m, v, u) for m, v, u in values]


def _stall_rows(stall: StallResult) -> list[Row]:
    values: list[tuple[str, float, str]] = [
        ("rss_per_stalled_viewer", _per_stalled(stall) / MIB, "MiB"),
        ("baseline_rss", stall.baseline_rss / MIB, "MiB"),
        ("backed_up_rss", stall.backed_up_rss / MIB, "MiB"),
        ("fps_before", _median(stall.baseline_fps), "fps"),
        ("fps_during", _median(stall.stalled_fps), "fps"),
        ("fps_p5_before", _pct(stall.baseline_fps, 5), "fps"),
        ("fps_p5_during", _pct(stall.stalled_fps, 5), "fps"),
        ("backed_up_after", _nan(stall.backed_up_after), "s"),
        ("observed", stall.observed, "s"),
    ]
    values += [("send_queue", q / 1024, "KiB") for q in stall.send_queue.values()]
    values += [("receive_queue", q / 1024, "KiB") for q in stall.receive_queue.values()]
    values += [("stream_ended_after", _nan(e), "s") for e in stall.stream_ended_after]
    values += [
        ("socket_closed_after", _nan(stall.socket_closed_after.get(i)), "s")
        for i in range(stall.stalled)
    ]
    return [("stall", "ours", str(stall.stalled), m, v, u) for m, v, u in values]


def _rows(results: Results) -> list[Row]:
    rows = [row for load in results.loads for row in _load_rows(load)]
    rows += [
        ("first_frame", key.split()[0], "1", key.split()[1], 1000 * value, "ms")
        for key, values in results.first_frame.items()
        for value in values
    ]
    for admitted, frame, attempts in results.fire_alarm:
        rows += [
            ("fire_alarm", "ours", "1", "admitted", admitted, "s"),
            ("fire_alarm", "ours", "1", "first_frame", frame, "s"),
            ("fire_alarm", "ours", "1", "attempts", attempts, "requests"),
        ]
    n = str(results.close_n)
    rows += [("deactivate", "ours", n, "closed", v, "s") for v in results.close_after]
    if results.close_n:
        rows.append(
            ("deactivate", "ours", n, "not_closed", results.close_not_closed, "streams")
        )
    if results.stall is not None:
        rows += _stall_rows(results.stall)
    rows += [
        ("idle", "-", "0", "cpu", results.idle_cpu_pct, "% of a core"),
        ("idle", "-", "0", "rss", results.idle_rss / MIB, "MiB"),
    ]
    rows += [
        ("machine", "-", str(index), "loadavg_1min", load[0], "")
        for index, load in enumerate(results.loadavg)
    ]
    return rows


def file_stem(results: Results) -> str:
    """`bench-<UTC start>[-quick]`: the name the run's files share."""
    quick = "-quick" if results.settings.quick else ""
    return f"bench-{results.started:%Y%m%dT%H%M%SZ}{quick}"


def write(results: Results, text: str, directory: Path) -> tuple[Path, Path]:
    """Write the CSV (one measurement per row) and the table; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = file_stem(results)
    csv_path = directory / f"{stem}.csv"
    with csv_path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["run", "section", "proxy", "n", "metric", "value", "unit"])
        run = results.started.isoformat(timespec="seconds")
        for section, proxy, n, metric, value, unit in _rows(results):
            writer.writerow([run, section, proxy, n, metric, f"{value:.6g}", unit])
    text_path = directory / f"{stem}.txt"
    text_path.write_text(text + "\n")
    return csv_path, text_path
