"""The benchmark: this integration's proxy against Home Assistant core's.

One real Home Assistant (loopback, temporary config dir) with one stamped
MJPEG camera (`testbed.cameras.standalone`, its own process) added through
core's `mjpeg` config flow, and one agreement over it. In the same run, for
each number of viewers N, N viewers read the camera through

- ours: `/api/school_emergency_share/view/{token}/mjpeg/{camera}` during an
  active session, each viewer with its own standing link, and
- core's: `/api/camera_proxy_stream/{camera}` with a bearer token,

and the benchmark records the camera's connections, the CPU and memory of
Home Assistant and its children (/proc), delivered frames per second and
frame latency (from the send time painted in the pixels). Then, for ours and
core's, first-frame latency with no reader running (cold) and with one
running (warm); for ours only, the fire-alarm blueprint's time to a first
frame at a standing-link viewer, the time from `deactivate` to every stream
closed, and what viewers that stop reading cost.
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
from testbed.cameras.standalone import CameraProcess
from testbed.deployment import START_TIMEOUT, Deployment, Link, scratch_hass
from testbed.errors import SetupError
from testbed.net import LOOPBACK, free_port
from testbed.viewers import (
    StalledViewer,
    Viewer,
    ViewerError,
    first_frame_seconds,
    retry_until_admitted,
)

from . import report
from .results import LoadResult, Results, Settings, StallResult

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
RESULTS_DIR: Final = REPO_ROOT / "bench-results"
CAMERA_NAME: Final = "Bench camera"
FIRE_ALARM: Final = "binary_sensor.bench_fire_alarm"
OURS: Final = "ours"
CORE: Final = "core"
IDLE_TIMEOUT: Final = 20.0
STALL_OBSERVE: Final = 20.0
"""Longest look at stalled viewers (the integration's write timeout is 5 s)."""
TCP_ESTABLISHED: Final = "01"
STEADY: Final = 0.5
"""Seconds the stalled sockets' queues must stay put to count as backed up."""


async def _first_part(proxy: str, viewer: Viewer, task: asyncio.Task[object]) -> None:
    """Wait for a viewer's first frame; raise if its stream ends first."""
    waiter = asyncio.ensure_future(viewer.first_part.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        task.result()
        raise ViewerError(
            f"a {proxy} viewer ended before its first frame ({viewer.stats.end})"
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


class Bench:
    """Runs the measurements in order; `results` fills as it goes."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        """Prepare (nothing runs yet)."""
        self.settings = settings
        self.workdir = workdir
        self.results = Results(settings, datetime.now(UTC), machine_facts())
        self.camera = CameraProcess(
            free_port(),
            Picture(
                size=settings.camera_size,
                fps=settings.camera_fps,
                quality=settings.camera_quality,
                stamped=True,
            ),
            # A stream starts with the next frame made, so the first one's
            # stamp says when it was sent, not when an earlier one was.
            latest_on_connect=False,
            log=workdir / "camera.log",
        )
        self.hass = scratch_hass(workdir / "config", log_level="warning")
        self.deployment: Deployment | None = None
        self.entity = ""
        self.links: list[Link] = []
        self.http: aiohttp.ClientSession | None = None

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

    def url(self, proxy: str, index: int) -> tuple[str, dict[str, str]]:
        """The stream URL and headers of viewer `index` through `proxy`."""
        if proxy == OURS:
            return f"{self.hass.url}{self.links[index].mjpeg(self.entity)}", {}
        return (
            f"{self.hass.url}/api/camera_proxy_stream/{self.entity}",
            {"Authorization": f"Bearer {self.dep.token}"},
        )

    async def wait_idle(self) -> None:
        """Wait until Home Assistant runs no ffmpeg reader (ours is idle)."""
        deadline = time.monotonic() + IDLE_TIMEOUT
        while self.hass.ffmpeg_readers():
            if time.monotonic() > deadline:
                raise SetupError(
                    f"Home Assistant's ffmpeg reader still runs {IDLE_TIMEOUT:g} s"
                    " after the last viewer left"
                )
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)

    async def start_viewers(
        self, proxy: str, n: int, first: int = 0, sample_every: float = 1.0
    ) -> tuple[list[Viewer], list[asyncio.Task[object]]]:
        """N viewers through `proxy`, each with its first frame."""
        viewers = []
        for index in range(first, first + n):
            url, headers = self.url(proxy, index)
            viewers.append(
                Viewer(self.session, url, headers=headers, sample_every=sample_every)
            )
        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task[object]] = [
            loop.create_task(viewer.run()) for viewer in viewers
        ]
        try:
            async with asyncio.timeout(30):
                for viewer, task in zip(viewers, tasks, strict=True):
                    await _first_part(proxy, viewer, task)
        except TimeoutError as err:
            await self.stop_viewers(tasks)
            raise SetupError(
                f"{n} {proxy} viewers did not all get a first frame in 30 s"
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
        """Camera, Home Assistant, onboarding, the agreement, links, automation."""
        self.say(f"starting the stamped camera ({self.settings.camera_size})")
        await self.camera.start()
        self.say("starting Home Assistant")
        await self.hass.boot(START_TIMEOUT)
        self.deployment = await Deployment.create(self.hass)
        dep = self.dep
        self.entity = await dep.add_mjpeg_camera(
            CAMERA_NAME, self.camera.stream_url, self.camera.still_url
        )
        await dep.add_agreement(max_session_minutes=240, max_viewers=100)
        await dep.set_state(FIRE_ALARM, "off")
        await dep.add_fire_alarm_automation(FIRE_ALARM)
        wanted = max(
            *self.settings.counts,
            self.settings.close_viewers,
            self.settings.healthy_viewers + self.settings.stalled_viewers,
        )
        self.links = [
            await dep.link(f"Officer {i + 1}", standing=True) for i in range(wanted)
        ]
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=True),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
        )
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

    async def load(self, proxy: str, n: int) -> LoadResult:
        """N viewers through `proxy` for one window."""
        settings = self.settings
        before = await self.camera.stats()
        viewers, tasks = await self.start_viewers(proxy, n)
        try:
            await asyncio.sleep(settings.warmup)
            sampler = procfs.TreeSampler(self.hass.pid)
            sampler.start()
            client0 = time.process_time()
            camera0 = procfs.own_cpu_seconds(self.camera.pid)
            start = time.monotonic()
            open_counts = []
            for _ in range(4):
                await asyncio.sleep(settings.window / 4)
                open_counts.append((await self.camera.stats())["open_connections"])
            stop = time.monotonic()
            client = time.process_time() - client0
            camera = procfs.own_cpu_seconds(self.camera.pid) - camera0
            samples = await sampler.stop()
            after = await self.camera.stats()
            failed = sum(1 for task in tasks if task.done())
        finally:
            await self.stop_viewers(tasks)
        fps = [b for v in viewers for b in v.stats.fps_buckets(start, stop)]
        latencies = [
            ms for v in viewers for ms in v.stats.latencies_between(start, stop)
        ]
        result = LoadResult(
            proxy=proxy,
            n=n,
            upstream_open=max(open_counts),
            upstream_opened=after["connections_opened"] - before["connections_opened"],
            window_s=samples[-1].at - samples[0].at,
            cpu_s=samples[-1].cpu_seconds - samples[0].cpu_seconds,
            ha_cpu_s=samples[-1].root_cpu_seconds - samples[0].root_cpu_seconds,
            fps=fps,
            latencies_ms=latencies,
            unreadable_stamps=sum(v.stats.unreadable_stamps for v in viewers),
            ha_rss=_median([s.root_rss for s in samples]),
            children_rss=_median([s.children_rss for s in samples]),
            children=max(s.children for s in samples),
            client_cpu_s=client,
            camera_cpu_s=camera,
            failed_viewers=failed,
        )
        if proxy == OURS:
            await self.wait_idle()
        return result

    async def first_frames(self) -> None:
        """First-frame latency, cold and warm, for both proxies."""
        found = self.results.first_frame
        for _ in range(self.settings.reps):
            for proxy in (OURS, CORE):
                if proxy == OURS:
                    await self.wait_idle()
                url, headers = self.url(proxy, 0)
                found.setdefault(f"{proxy} cold", []).append(
                    await first_frame_seconds(self.session, url, headers=headers)
                )
                # Warm: another viewer is watching already.
                _, tasks = await self.start_viewers(proxy, 1, first=1, sample_every=0)
                try:
                    await asyncio.sleep(0.5)
                    url, headers = self.url(proxy, 0)
                    found.setdefault(f"{proxy} warm", []).append(
                        await first_frame_seconds(self.session, url, headers=headers)
                    )
                finally:
                    await self.stop_viewers(tasks)

    async def stall(self) -> StallResult:
        """Stalled viewers: Home Assistant's memory, healthy viewers' frame rate.

        Each stalled viewer sends its request and never reads. Watched until
        the integration has ended each of their streams (its audit log says
        `view_ended`) and a little after, or `STALL_OBSERVE` seconds.
        """
        settings = self.settings
        healthy, count = settings.healthy_viewers, settings.stalled_viewers
        result = StallResult(stalled=count, healthy=healthy)
        viewers, tasks = await self.start_viewers(OURS, healthy, sample_every=0)
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
        """`deactivate` with N streams open: how long until each has ended."""
        n = self.settings.close_viewers
        viewers, tasks = await self.start_viewers(OURS, n, sample_every=0)
        await asyncio.sleep(1)
        sent = time.monotonic()
        await self.dep.deactivate("Bench: close every stream")
        self.results.deactivate_answered = time.monotonic() - sent
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await asyncio.gather(*tasks, return_exceptions=True)
        await self.stop_viewers(tasks)
        self.results.close_n = n
        self.results.close_after = [
            v.stats.ended_at - sent
            for v in viewers
            if v.stats.end == "eof" and v.stats.ended_at is not None
        ]
        self.results.close_not_closed = n - len(self.results.close_after)
        await self.wait_idle()

    async def fire_alarm(self) -> None:
        """The blueprint's alarm → a standing-link viewer's first frame."""
        dep = self.dep
        url, _ = self.url(OURS, 0)
        for _ in range(self.settings.reps):
            await dep.ensure_idle()
            await dep.set_state(FIRE_ALARM, "off")
            await self.wait_idle()
            waiting = asyncio.get_running_loop().create_task(
                retry_until_admitted(self.session, url, retry_every=0.05)
            )
            await asyncio.sleep(0.3)  # the viewer is refused (403) a few times
            if waiting.done():
                waiting.result()
                raise SetupError("the standing link opened with no session active")
            alarm = time.monotonic()
            await dep.set_state(FIRE_ALARM, "on")
            admission = await waiting
            self.results.fire_alarm.append(
                (
                    admission.admitted_at - alarm,
                    admission.first_frame_at - alarm,
                    admission.attempts,
                )
            )
            await dep.deactivate("Bench: alarm trial over")
        await dep.set_state(FIRE_ALARM, "off")

    # ------------------------------------------------------------- all

    async def run(self) -> Results:
        """Every measurement; Home Assistant and the camera are always stopped."""
        started = time.monotonic()
        settings = self.settings
        try:
            await self.setup()
            self.say("idle Home Assistant")
            await self.idle()
            await self.dep.activate("Bench: load", duration_minutes=240)
            for n in settings.counts:
                for proxy in (OURS, CORE):
                    self.say(f"{n} viewers through {proxy} proxy")
                    self.results.loads.append(await self.load(proxy, n))
            self.say("first frames, cold and warm")
            await self.first_frames()
            self.say(
                f"{settings.stalled_viewers} stalled viewers"
                f" next to {settings.healthy_viewers} healthy ones"
            )
            self.results.stall = await self.stall()
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
        await self.camera.stop()


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
            viewer = StalledViewer(LOOPBACK, bench.hass.port, link.mjpeg(bench.entity))
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
        "--out", type=Path, default=RESULTS_DIR, help="where the CSV and table go"
    )
    return parser.parse_args(argv)


def preflight() -> None:
    """Refuse early what cannot work here."""
    if shutil.which("ffmpeg") is None:
        raise SetupError("ffmpeg is missing; run scripts/setup")
    if not Path("/proc/self/stat").exists():
        raise SetupError("/proc is needed to measure CPU and memory")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table; write CSV. Returns the exit status."""
    args = parse_args(argv)
    settings = (
        Settings.quick_run(keep=args.keep)
        if args.quick
        else Settings.full(keep=args.keep)
    )
    try:
        preflight()
    except SetupError as err:
        print(f"\033[31merror:\033[0m {err}", file=sys.stderr)
        return 1
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
