"""The benchmark: this integration's camera paths against Home Assistant core's.

One real Home Assistant (loopback, temporary config dir) with the cameras of
`bench.scenarios` (each in its own process, each frame's send time painted
in), added through core's config flows (and one `ffmpeg` camera in YAML),
and one agreement over them. Camera by camera, for each number of viewers N,
N viewers watch the camera by each path, and the benchmark records the
camera's connections, the CPU and memory of Home Assistant and its children
(/proc), pictures per second, bytes per viewer-second, the latency from the
painted send time, and each viewer's first picture. Only the camera being
measured runs. Then: first pictures cold and warm per path; this
integration's JPEG encoder at the H.264 camera's own size (the fair match
for `/mp4`'s bytes); the fire-alarm blueprint's time to a first frame at a
standing-link viewer; the time from `deactivate` to every `/mp4` and
`/mjpeg` stream closed; what viewers that stop reading cost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from datetime import UTC, datetime
import math
import os
from pathlib import Path
import shutil
import statistics
import sys
import tempfile
import time
from typing import Final

import aiohttp

from testbed import procfs
from testbed.cameras import Picture
from testbed.cameras.pictures import FFMPEG
from testbed.cameras.standalone import CameraProcess
from testbed.deployment import START_TIMEOUT, Deployment, Link, scratch_hass
from testbed.errors import SetupError
from testbed.net import LOOPBACK, free_port
from testbed.viewers import (
    HlsViewer,
    Mp4Viewer,
    StalledViewer,
    Viewer,
    ViewerError,
    first_frame_seconds,
)

from . import report
from .district import District, report as district_report
from .page import fire_alarm_on_page
from .results import CameraSettings, LoadResult, Results, Settings, StallResult
from .scenarios import (
    CAMERA_NAMES,
    CORE_HLS,
    FFMPEG_CAMERA,
    H264,
    MJPEG,
    MJPEG_WIDE,
    OURS_MJPEG,
    OURS_MP4,
    PATHS,
    Watch,
    ffmpeg_camera_yaml,
)

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
RESULTS_DIR: Final = REPO_ROOT / "bench-results"
FIRE_ALARM: Final = "binary_sensor.bench_fire_alarm"
IDLE_TIMEOUT: Final = 30.0
CAMERA_IDLE_TIMEOUT: Final = 90.0
"""Core's HLS stream closes its camera connection 30 s after its last player."""
LINGER: Final = 4.0
"""Seconds a reader may run on after its last viewer (3 s), and a margin."""
STALL_OBSERVE: Final = 20.0
"""Longest look at stalled viewers (the integration's write timeout is 5 s)."""
TCP_ESTABLISHED: Final = "01"
STEADY: Final = 0.5
"""Seconds the stalled sockets' queues must stay put to count as backed up."""
SATURATED: Final = 0.5
"""A path whose median fps falls under this share of the camera's has
saturated the machine: larger N are not tried."""
FIRST_PICTURE_TIMEOUT: Final = 60.0

type AnyViewer = Viewer | HlsViewer


async def _first_picture(
    path: str, viewer: AnyViewer, task: asyncio.Task[object]
) -> None:
    """Wait for a viewer's first picture; raise if its stream ends first."""
    waiter = asyncio.ensure_future(viewer.first_part.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        task.result()
        raise ViewerError(
            f"a {path} viewer ended before its first picture ({viewer.stats.end})"
        )


def machine_facts() -> dict[str, str]:
    """CPU model, cores, kernel."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "kernel": os.uname().release,
        "python": sys.version.split()[0],
    }


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def _picture(camera: CameraSettings) -> Picture:
    return Picture(
        size=camera.size,
        fps=camera.fps,
        quality=camera.quality,
        keyframe_interval=camera.keyframe_interval,
        bitrate_kbps=camera.bitrate_kbps,
        stamped=True,
    )


class Bench:
    """Runs the measurements in order; `results` fills as it goes."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        """Prepare (nothing runs yet)."""
        self.settings = settings
        self.workdir = workdir
        self.results = Results(settings, datetime.now(UTC), machine_facts())
        self.cameras: dict[str, CameraProcess] = {
            H264: CameraProcess(
                free_port(),
                _picture(settings.h264),
                rtsp=True,
                log=workdir / "camera-h264.log",
            ),
            MJPEG: CameraProcess(
                free_port(),
                _picture(settings.mjpeg),
                # A stream starts with the next frame made, so the first
                # one's stamp says when it was sent, not an earlier one.
                latest_on_connect=False,
                log=workdir / "camera-mjpeg.log",
            ),
        }
        if settings.wide_counts:
            self.cameras[MJPEG_WIDE] = CameraProcess(
                free_port(),
                _picture(settings.mjpeg_wide),
                latest_on_connect=False,
                log=workdir / "camera-mjpeg-wide.log",
            )
        self.hass = scratch_hass(
            workdir / "config",
            log_level="warning",
            extra_yaml="stream:\n" + ffmpeg_camera_yaml(self.cameras[H264].stream_url),
        )
        self.deployment: Deployment | None = None
        self.entities: dict[str, str] = {}
        """Scenario → the camera entity this integration reads."""
        self.links: list[Link] = []
        self.http: aiohttp.ClientSession | None = None
        self.hls_url = ""

    # ------------------------------------------------------------- helpers

    def say(self, message: str) -> None:
        """Progress on stderr."""
        load = os.getloadavg()
        self.results.loadavg.append(load)
        print(f"\033[1m==>\033[0m {message}  (load {load[0]:.2f})", file=sys.stderr)

    @property
    def dep(self) -> Deployment:
        """The deployment (after set-up)."""
        if self.deployment is None:
            raise SetupError("Home Assistant is not set up")
        return self.deployment

    @property
    def session(self) -> aiohttp.ClientSession:
        """The viewers' HTTP session."""
        if self.http is None:
            raise SetupError("no HTTP session")
        return self.http

    def watch(self, scenario: str, path: str, index: int) -> Watch:
        """How viewer `index` watches the scenario's camera by `path`."""
        entity = self.entities[scenario]
        link = self.links[index]
        if path == OURS_MP4:
            return Watch(f"{self.hass.url}{link.path}/mp4/{entity}", {}, Mp4Viewer)
        if path == OURS_MJPEG:
            return Watch(f"{self.hass.url}{link.mjpeg(entity)}", {}, Viewer)
        if path == CORE_HLS:
            return Watch(f"{self.hass.url}{self.hls_url}", {}, HlsViewer)
        proxied = FFMPEG_CAMERA if scenario == H264 else entity
        return Watch(
            f"{self.hass.url}/api/camera_proxy_stream/{proxied}",
            {"Authorization": f"Bearer {self.dep.token}"},
            Viewer,
        )

    def viewer(self, watch: Watch, sample_every: float = 1.0) -> AnyViewer:
        """A client for `watch`."""
        kind = watch.kind
        if issubclass(kind, Viewer):
            return kind(
                self.session,
                watch.url,
                headers=watch.headers,
                sample_every=sample_every,
            )
        return HlsViewer(self.session, watch.url, sample_every=sample_every)

    async def only(self, *scenarios: str) -> None:
        """Run the cameras of `scenarios`, stop the others (their CPU is noise)."""
        for name, camera in self.cameras.items():
            if name not in scenarios and camera.proc is not None:
                await camera.stop()
        for name in scenarios:
            if self.cameras[name].proc is None:
                await self.cameras[name].start()
        await asyncio.sleep(0.5)

    async def wait_idle(self) -> None:
        """Wait until Home Assistant reads no camera for this integration.

        No ffmpeg child, and every camera of the agreement idle (a camera
        passed through has no ffmpeg but a connection).
        """
        deadline = time.monotonic() + IDLE_TIMEOUT
        path = f"{self.links[0].path}/cameras.json"
        while True:
            status, _headers, body = await self.dep.viewer_get(path)
            # Without a session the statuses are not shown, and streams are
            # closed: what remains is readers lingering (3 s) after them.
            if status == 403:
                await asyncio.sleep(LINGER)
            busy = status not in (200, 403) or any(
                f'"status": "{state}"' in body for state in ("live", "connecting")
            )
            if not busy and not self.hass.ffmpeg_readers():
                break
            if time.monotonic() > deadline:
                raise SetupError(
                    f"Home Assistant still reads cameras {IDLE_TIMEOUT:g} s"
                    " after the last viewer left"
                )
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.3)

    async def start_viewers(
        self,
        scenario: str,
        path: str,
        n: int,
        first: int = 0,
        sample_every: float = 1.0,
    ) -> tuple[list[AnyViewer], list[asyncio.Task[object]]]:
        """N viewers by `path`, each with its first picture."""
        viewers = [
            self.viewer(self.watch(scenario, path, index), sample_every)
            for index in range(first, first + n)
        ]
        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task[object]] = [
            loop.create_task(viewer.run()) for viewer in viewers
        ]
        try:
            async with asyncio.timeout(FIRST_PICTURE_TIMEOUT):
                for viewer, task in zip(viewers, tasks, strict=True):
                    await _first_picture(path, viewer, task)
        except TimeoutError as err:
            await self.stop_viewers(tasks)
            raise SetupError(
                f"{n} {path} viewers of {scenario} did not all get a first picture"
                f" in {FIRST_PICTURE_TIMEOUT:g} s"
            ) from err
        except BaseException:
            await self.stop_viewers(tasks)
            raise
        return viewers, tasks

    @staticmethod
    async def stop_viewers(tasks: list[asyncio.Task[object]]) -> None:
        """Cancel viewers and wait for them."""
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------- phases

    async def setup(self) -> None:
        """Cameras, Home Assistant, onboarding, the agreement, links, automation."""
        settings = self.settings
        self.say("starting the cameras")
        for camera in self.cameras.values():
            await camera.start()
        self.say("starting Home Assistant")
        await self.hass.boot(START_TIMEOUT)
        self.deployment = await Deployment.create(self.hass)
        dep = self.dep
        h264 = self.cameras[H264]
        self.entities[H264] = await dep.add_generic_camera(
            CAMERA_NAMES[H264], h264.stream_url, rtsp_transport="udp"
        )
        for scenario in (MJPEG, MJPEG_WIDE):
            if (mjpeg := self.cameras.get(scenario)) is not None:
                self.entities[scenario] = await dep.add_mjpeg_camera(
                    CAMERA_NAMES[scenario], mjpeg.stream_url, mjpeg.still_url
                )
        await dep.add_agreement(max_session_minutes=240, max_viewers=100)
        await dep.set_state(FIRE_ALARM, "off")
        await dep.add_fire_alarm_automation(FIRE_ALARM)
        wanted = max(
            *settings.counts,
            *settings.fanout_counts,
            *settings.wide_counts,
            settings.close_viewers,
            settings.healthy_viewers + settings.stalled_viewers,
        )
        self.links = [
            await dep.link(f"Officer {i + 1}", standing=True) for i in range(wanted + 1)
        ]
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=True),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
        )
        await self.only()
        await asyncio.sleep(1)

    async def idle(self) -> None:
        """Home Assistant with nothing to do: CPU and memory."""
        sampler = procfs.TreeSampler(self.hass.pid)
        sampler.start()
        await asyncio.sleep(self.settings.idle_window)
        samples = await sampler.stop()
        spent = samples[-1].cpu_seconds - samples[0].cpu_seconds
        self.results.idle_cpu_pct = 100 * spent / (samples[-1].at - samples[0].at)
        self.results.idle_rss = _median([s.root_rss for s in samples])

    async def load(self, scenario: str, path: str, n: int) -> LoadResult:
        """N viewers watching the scenario's camera by `path` for one window."""
        settings = self.settings
        camera = self.cameras[scenario]
        await self.wait_camera_idle(scenario)
        viewers, tasks = await self.start_viewers(scenario, path, n)
        try:
            await asyncio.sleep(settings.warmup)
            sampler = procfs.TreeSampler(self.hass.pid)
            sampler.start()
            client0 = time.process_time()
            camera0 = procfs.sample_tree(camera.pid).cpu_seconds
            start = time.monotonic()
            open_counts = []
            for _ in range(4):
                await asyncio.sleep(settings.window / 4)
                with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                    open_counts.append((await camera.stats())["open_connections"])
            stop = time.monotonic()
            client = time.process_time() - client0
            camera_cpu = procfs.sample_tree(camera.pid).cpu_seconds - camera0
            samples = await sampler.stop()
            failed = sum(1 for task in tasks if task.done())
        finally:
            await self.stop_viewers(tasks)
        fps = [b for v in viewers for b in v.stats.fps_buckets(start, stop)]
        fps_camera = {H264: settings.h264, MJPEG: settings.mjpeg}.get(
            scenario, settings.mjpeg_wide
        ).fps
        result = LoadResult(
            scenario=scenario,
            proxy=path,
            n=n,
            upstream_open=max(open_counts, default=-1),
            window_s=samples[-1].at - samples[0].at,
            cpu_s=samples[-1].cpu_seconds - samples[0].cpu_seconds,
            ha_cpu_s=samples[-1].root_cpu_seconds - samples[0].root_cpu_seconds,
            children=max(s.children for s in samples),
            fps=fps,
            bytes_received=sum(v.stats.bytes_between(start, stop) for v in viewers),
            latencies_ms=[
                ms for v in viewers for ms in v.stats.latencies_between(start, stop)
            ],
            first_frame_s=[
                v.stats.first_part_at - v.stats.opened_at
                for v in viewers
                if v.stats.first_part_at is not None and v.stats.opened_at is not None
            ],
            unreadable_stamps=sum(v.stats.unreadable_stamps for v in viewers),
            ha_rss=_median([s.root_rss for s in samples]),
            children_rss=_median([s.children_rss for s in samples]),
            client_cpu_s=client,
            camera_cpu_s=camera_cpu,
            failed_viewers=failed,
        )
        result.saturated = _median(fps) < SATURATED * fps_camera
        if path in (OURS_MP4, OURS_MJPEG):
            await self.wait_idle()
        return result

    async def measure(self, scenario: str, counts: tuple[int, ...]) -> None:
        """Every path of the camera at every N (until a path saturates).

        Path by path: core's HLS keeps the camera connected for 30 s after
        its last player, so it comes last, and each window starts with the
        camera's connections all closed.
        """
        for path in PATHS[scenario]:
            for n in counts:
                self.say(f"{scenario}: {n} viewers by {path}")
                try:
                    if path == CORE_HLS:
                        # Home Assistant's stream worker opens the camera
                        # once the paths before have let go of it.
                        await self.wait_camera_idle(scenario)
                        await self.start_hls()
                    result = await self.load(scenario, path, n)
                except (ViewerError, SetupError, aiohttp.ClientError, OSError) as err:
                    # A path that fails under load has met its limit here.
                    self.say(f"{scenario}: {path} failed at N={n}: {err}")
                    self.results.failures.append(f"{scenario} {path} N={n}: {err}")
                    break
                self.results.loads.append(result)
                print(report.load_line(result), file=sys.stderr)
                if result.saturated:
                    break

    async def wait_camera_idle(self, scenario: str) -> None:
        """Wait until nothing is connected to the scenario's camera."""
        camera = self.cameras[scenario]
        async with asyncio.timeout(CAMERA_IDLE_TIMEOUT):
            while True:
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    if not (await camera.stats())["open_connections"]:
                        return
                await asyncio.sleep(0.5)

    async def start_hls(self) -> None:
        """Ask for the H.264 camera's HLS (the stream stops when unwatched)."""
        self.hls_url = await self.dep.hls_url(self.entities[H264])

    async def fanout(self, scenario: str, path: str) -> None:
        """This integration's path at the larger N: viewer traffic per core."""
        for n in self.settings.fanout_counts:
            self.say(f"fan-out: {n} viewers of {scenario} by {path}")
            result = await self.load(scenario, path, n)
            self.results.loads.append(result)
            print(report.load_line(result), file=sys.stderr)

    async def first_frames(self, scenario: str) -> None:
        """First picture for each path, cold and warm (HLS: warm only)."""
        found = self.results.first_frame
        for path in PATHS[scenario]:
            for _ in range(self.settings.reps):
                if path != CORE_HLS:  # HLS cold is the stream starting: seconds
                    await self.wait_idle()
                    watch = self.watch(scenario, path, 0)
                    found.setdefault(f"{scenario} {path} cold", []).append(
                        await self._first(watch)
                    )
                else:
                    await self.start_hls()
                # Warm: another viewer is watching already.
                _, tasks = await self.start_viewers(
                    scenario, path, 1, first=1, sample_every=0
                )
                try:
                    await asyncio.sleep(0.5)
                    watch = self.watch(scenario, path, 0)
                    found.setdefault(f"{scenario} {path} warm", []).append(
                        await self._first(watch)
                    )
                finally:
                    await self.stop_viewers(tasks)

    async def _first(self, watch: Watch) -> float:
        if watch.kind is HlsViewer:
            viewer = self.viewer(watch, sample_every=0)
            task = asyncio.get_running_loop().create_task(viewer.run())
            try:
                await _first_picture(CORE_HLS, viewer, task)
            finally:
                await self.stop_viewers([task])
            stats = viewer.stats
            assert stats.first_part_at is not None  # noqa: S101
            assert stats.opened_at is not None  # noqa: S101
            return stats.first_part_at - stats.opened_at
        kind = watch.kind if watch.kind is not HlsViewer else Viewer
        return await first_frame_seconds(
            self.session,
            watch.url,
            headers=watch.headers,
            kind=kind,  # type: ignore[arg-type]
        )

    async def mjpeg_at_camera_size(self) -> None:
        """This integration's JPEG encoder on the H.264 camera, not scaled down.

        `/mjpeg` sends at most 960 px wide; `/mp4` the camera's own 1280x720.
        Their bytes compare fairly at the same size: the same ffmpeg command
        the integration runs, with the camera's width as the limit, run here
        for one window.
        """
        # Imported here: only this measurement runs the integration's code.
        from custom_components.school_emergency_share.media import (  # noqa: PLC0415
            FfmpegSource,
        )

        settings = self.settings
        width = int(settings.h264.size.split("x")[0])
        source = FfmpegSource(
            FFMPEG,
            self.cameras[H264].stream_url,
            fps=10,
            max_width=width,
            extra_input_args={"rtsp_transport": "udp"},
        )
        sizes: list[tuple[float, int]] = []
        frames = aiter(source.frames())
        try:
            async with asyncio.timeout(
                self.settings.warmup + self.settings.window + 30
            ):
                async for jpeg in frames:
                    sizes.append((time.monotonic(), len(jpeg) + 120))  # + part headers
                    if (
                        sizes[-1][0] - sizes[0][0]
                        > self.settings.warmup + self.settings.window
                    ):
                        break
        finally:
            await source.aclose()
        start = sizes[0][0] + self.settings.warmup
        counted = [size for at, size in sizes if at >= start]
        self.results.mjpeg_at_camera_size = sum(counted) / self.settings.window

    async def stall(self) -> StallResult:
        """Stalled viewers: Home Assistant's memory, healthy viewers' frame rate.

        Each stalled viewer sends its request and never reads. Watched until
        the integration has ended each of their streams (its audit log says
        `view_ended`) and a little after, or `STALL_OBSERVE` seconds.
        """
        settings = self.settings
        healthy, count = settings.healthy_viewers, settings.stalled_viewers
        result = StallResult(stalled=count, healthy=healthy)
        viewers, tasks = await self.start_viewers(
            MJPEG, OURS_MJPEG, healthy, sample_every=0
        )
        watch = _StallWatch(self, self.links[healthy : healthy + count], result)
        try:
            await asyncio.sleep(settings.warmup)
            start = time.monotonic()
            rss = []
            while time.monotonic() < start + settings.window:
                rss.append(float(self.hass.rss()))
                await asyncio.sleep(0.25)
            result.baseline_fps = [
                b for v in viewers for b in v.stats.fps_buckets(start, time.monotonic())
            ]
            result.baseline_rss = _median(rss)
            opened = await watch.open()
            await watch.observe()
            result.stalled_fps = [
                b
                for v in viewers
                for b in v.stats.fps_buckets(opened, time.monotonic())
            ]
        finally:
            watch.close()
            await self.stop_viewers(tasks)
        await self.wait_idle()
        return result

    async def close_all(self) -> None:
        """`deactivate` with N streams open (half /mp4, half /mjpeg) until all end."""
        n = self.settings.close_viewers
        mp4, mp4_tasks = await self.start_viewers(
            H264, OURS_MP4, n // 2, sample_every=0
        )
        mjpeg, mjpeg_tasks = await self.start_viewers(
            MJPEG, OURS_MJPEG, n - n // 2, first=n // 2, sample_every=0
        )
        tasks = mp4_tasks + mjpeg_tasks
        await asyncio.sleep(1)
        sent = time.monotonic()
        await self.dep.deactivate("Bench: close every stream")
        self.results.deactivate_answered = time.monotonic() - sent
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await asyncio.gather(*tasks, return_exceptions=True)
        await self.stop_viewers(tasks)
        self.results.close_n = n
        for path, viewers in ((OURS_MP4, mp4), (OURS_MJPEG, mjpeg)):
            self.results.close_after[path] = [
                v.stats.ended_at - sent
                for v in viewers
                if v.stats.end == "eof" and v.stats.ended_at is not None
            ]
        self.results.close_not_closed = n - sum(
            len(after) for after in self.results.close_after.values()
        )
        await self.wait_idle()

    async def fire_alarm(self) -> None:
        """The blueprint's alarm → the first picture on an officer's open page."""
        dep = self.dep

        async def reset() -> None:
            await dep.ensure_idle()
            await dep.set_state(FIRE_ALARM, "off")
            await self.wait_idle()

        async def trip() -> None:
            await dep.set_state(FIRE_ALARM, "on")

        self.results.fire_alarm = await fire_alarm_on_page(
            f"{self.hass.url}{self.links[0].path}",
            self.settings.alarm_trials,
            trip=trip,
            reset=reset,
        )
        await reset()

    # ------------------------------------------------------------- all

    async def run(self) -> Results:
        """Every measurement; Home Assistant and the cameras are always stopped."""
        started = time.monotonic()
        settings = self.settings
        try:
            await self.setup()
            self.say("idle Home Assistant")
            await self.idle()
            await self.dep.activate("Bench: load", duration_minutes=240)

            await self.only(H264)
            await self.measure(H264, settings.counts)
            await self.fanout(H264, OURS_MP4)
            self.say("H.264 camera: first pictures, cold and warm")
            await self.first_frames(H264)
            self.say("H.264 camera: this integration's JPEG encoder at 1280x720")
            await self.mjpeg_at_camera_size()

            await self.only(MJPEG)
            await self.measure(MJPEG, settings.counts)
            await self.fanout(MJPEG, OURS_MJPEG)
            self.say("MJPEG camera: first pictures, cold and warm")
            await self.first_frames(MJPEG)
            self.say(
                f"{settings.stalled_viewers} stalled viewers"
                f" next to {settings.healthy_viewers} healthy ones"
            )
            self.results.stall = await self.stall()

            if settings.wide_counts:
                await self.only(MJPEG_WIDE)
                await self.measure(MJPEG_WIDE, settings.wide_counts)

            await self.only(H264, MJPEG)
            self.say(f"deactivate with {settings.close_viewers} streams open")
            await self.close_all()
            self.say("fire alarm to first frame")
            await self.fire_alarm()
        finally:
            await self.shutdown()
            self.results.duration_s = time.monotonic() - started
        return self.results

    async def shutdown(self) -> None:
        """Stop everything that was started."""
        if self.http is not None:
            await self.http.close()
        if self.deployment is not None:
            await self.deployment.close()
        with contextlib.suppress(SetupError):
            await self.hass.stop()
        for camera in self.cameras.values():
            await camera.stop()


class _StallWatch:
    """Stalled sockets, and what Home Assistant does with them."""

    def __init__(self, bench: Bench, links: list[Link], result: StallResult) -> None:
        self.bench = bench
        self.links = links
        self.link_ids = {link.link_id for link in links}
        self.result = result
        self.sockets: list[StalledViewer] = []
        self.opened = 0.0
        self.seen_seq = 0
        self.ended: dict[str, float] = {}

    async def open(self) -> float:
        """Send every stalled request; returns when."""
        bench = self.bench
        records = bench.dep.audit_records()
        self.seen_seq = max((r["seq"] for r in records), default=0)
        for link in self.links:
            viewer = StalledViewer(
                LOOPBACK, bench.hass.port, link.mjpeg(bench.entities[MJPEG])
            )
            await viewer.open()
            self.sockets.append(viewer)
        self.opened = time.monotonic()
        return self.opened

    async def observe(self) -> None:
        """Sample queues, memory and the audit log until the streams ended."""
        result, hass = self.result, self.bench.hass
        backed: list[float] = []
        last: list[int] = []
        steady_since = self.opened
        while (now := time.monotonic()) < self.opened + STALL_OBSERVE:
            sizes = self._queues(now)
            if sizes != last:
                last, steady_since = sizes, now
            elif result.backed_up_after is None and now - steady_since >= STEADY:
                result.backed_up_after = steady_since - self.opened
            if result.backed_up_after is not None:
                backed.append(float(hass.rss()))
            self._read_audit(now)
            if (
                len(self.ended) == len(self.links)
                and now > max(self.ended.values()) + self.opened + 2
            ):
                break
            await asyncio.sleep(0.2)
        result.observed = time.monotonic() - self.opened
        result.stream_ended_after = [
            self.ended.get(link.link_id) for link in self.links
        ]
        result.backed_up_rss = _median(backed) if backed else math.nan

    def _queues(self, now: float) -> list[int]:
        """Record each socket's kernel queues; returns their sizes."""
        port, result, sizes = self.bench.hass.port, self.result, []
        for number, viewer in enumerate(self.sockets):
            server = procfs.tcp_queues(port, viewer.local_port)
            client = procfs.tcp_queues(viewer.local_port, port)
            if server is None or server[2] != TCP_ESTABLISHED:
                result.socket_closed_after.setdefault(number, now - self.opened)
                continue
            result.send_queue[number] = server[0]
            result.receive_queue[number] = client[1] if client else 0
            sizes.append(server[0] + result.receive_queue[number])
        return sizes

    def _read_audit(self, now: float) -> None:
        for record in self.bench.dep.audit_records():
            data = record.get("data") or {}
            if (
                record["seq"] > self.seen_seq
                and record["event"] == "view_ended"
                and data.get("link_id") in self.link_ids
            ):
                self.ended.setdefault(data["link_id"], now - self.opened)
                self.result.end_reasons[data["link_id"]] = data.get("reason")

    def close(self) -> None:
        """Drop every stalled socket."""
        for viewer in self.sockets:
            viewer.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="This integration's camera proxy against Home Assistant core's,"
        " on a real Home Assistant.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="N = 1, 5 and short windows (smoke run)"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary Home Assistant config dir and logs",
    )
    parser.add_argument(
        "--district",
        action="store_true",
        help="the seed district instead: one agreement over 400 cameras",
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS_DIR, help="where the CSV and table go"
    )
    return parser.parse_args(argv)


def run_district(args: argparse.Namespace) -> int:
    """`--district`: measure the 400-camera agreement; print and keep the report."""
    workdir = Path(tempfile.mkdtemp(prefix="ses-district-"))
    run = District(workdir)
    try:
        results = asyncio.run(run.run())
    except (SetupError, ViewerError, OSError, TimeoutError, aiohttp.ClientError) as err:
        print(f"\033[31merror:\033[0m {str(err) or repr(err)}", file=sys.stderr)
        print(f"kept {workdir}", file=sys.stderr)
        return 1
    text = district_report(results)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"district-{results.started:%Y%m%dT%H%M%SZ}.txt"
    path.write_text(text + "\n")
    _keep_log(workdir, path.with_suffix(".hass.log"))
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"report: {path}", file=sys.stderr)
    return 0


def preflight() -> None:
    """Refuse early what cannot work here."""
    if shutil.which("ffmpeg") is None:
        raise SetupError("ffmpeg is missing; run scripts/setup")
    if not Path("/proc/self/stat").exists():
        raise SetupError("/proc is needed to measure CPU and memory")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table; write CSV. Returns the exit status."""
    args = parse_args(argv)
    try:
        preflight()
    except SetupError as err:
        print(f"\033[31merror:\033[0m {err}", file=sys.stderr)
        return 1
    if args.district:
        return run_district(args)
    settings = (
        Settings.quick_run(keep=args.keep)
        if args.quick
        else Settings.full(keep=args.keep)
    )
    workdir = Path(tempfile.mkdtemp(prefix="ses-bench-"))
    bench = Bench(settings, workdir)
    failed = False
    log = args.out / f"{report.file_stem(bench.results)}.hass.log"
    try:
        results = asyncio.run(bench.run())
    except (SetupError, ViewerError, OSError, TimeoutError, aiohttp.ClientError) as err:
        message = str(err) or repr(err)
        print(f"\033[31merror:\033[0m {message}", file=sys.stderr)
        print(
            f"kept {workdir}; Home Assistant's log is {bench.hass.log_file}",
            file=sys.stderr,
        )
        failed = True
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        failed = True
        return 130
    except Exception as err:  # noqa: BLE001 - a message, not a traceback
        print(
            f"\033[31merror:\033[0m unexpected {type(err).__name__}: {err}"
            f" (kept {workdir}; Home Assistant's log is"
            f" {bench.hass.log_file})",
            file=sys.stderr,
        )
        failed = True
        return 1
    finally:
        _keep_log(workdir, log)
        if not settings.keep and not failed:
            shutil.rmtree(workdir, ignore_errors=True)
    text = report.table(results)
    print(text)
    csv_path, text_path = report.write(results, text, args.out)
    print(f"CSV: {csv_path}\ntable: {text_path}", file=sys.stderr)
    return 0


def _keep_log(workdir: Path, destination: Path) -> None:
    """Keep Home Assistant's log (warnings and up) next to the results."""
    log = workdir / "config" / "home-assistant.log"
    if log.exists():
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, destination)
