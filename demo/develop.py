"""The supervisor behind `scripts/develop`: cameras, Home Assistant, the district.

Run as `python -m demo` from the environment with Home Assistant. It starts
the district's synthetic cameras and a real Home Assistant on `config/`;
on the first start it onboards Home Assistant, sets up the district through
the APIs and keeps what later runs need in `config/.ses-demo.json` (git-
ignored); then prints where to go and waits. Ctrl-C (or SIGTERM) stops Home
Assistant and every camera process.

Settings (environment variables):

| variable | default | what |
| --- | --- | --- |
| SES_DEMO_PORT | 8123 | Home Assistant's HTTP port |
| SES_DEMO_URL | http://localhost:<port> | the address links are made for |
| SES_DEMO_USER | admin | the administrator's username (first start) |
| SES_DEMO_PASSWORD | school-demo | their password (first start) |
| SES_DEMO_CAMERA_PORT | 18100 | camera ports are counted from here (first start) |
| SES_DEMO_TZ | this machine's zone | Home Assistant's and the cameras' time zone |
| SES_DEMO_START_TIMEOUT | 600 | seconds Home Assistant may take to answer |
| SES_DEMO_RTSP_STREAM | 1 | 0: the RTSP camera gets only a snapshot URL (first start) |

config/README.md explains the district and SES_DEMO_RTSP_STREAM.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
import json
import os
from pathlib import Path
import signal
import sys
import time
from typing import Any, Final

from testbed.errors import SetupError
from testbed.hass import (
    REPO_ROOT,
    HassClient,
    HassProcess,
    finish_onboarding,
    login,
    long_lived_token,
    onboard,
    onboarding_steps,
)
from testbed.net import port_is_free
from testbed.spawn import tail

from . import blueprints, district

CONFIG_DIR: Final = REPO_ROOT / "config"
STATE_FILE: Final = ".ses-demo.json"
# Files of config/ that are committed; --reset removes everything else.
COMMITTED: Final = frozenset({"configuration.yaml", "README.md"})
STATE_VERSION: Final = 2
# Every notice, and every link sent to a phone, written where it can be read
# (allowlisted in configuration.yaml, served to no one).
NOTICES_FILE: Final = "notices/notices.txt"
FIRE_ALARM_AUTOMATION: Final = "ses_demo_fire_alarm"


@dataclass(frozen=True, slots=True)
class Settings:
    """What the environment asks for."""

    port: int
    url: str
    user: str
    password: str
    camera_port: int
    timezone: str
    start_timeout: float
    rtsp_stream: bool

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Settings:
        """Read the SES_DEMO_* variables.

        Raises:
            SetupError: a number that is not one.

        """
        try:
            port = int(env.get("SES_DEMO_PORT", "8123"))
            camera_port = int(env.get("SES_DEMO_CAMERA_PORT", "18100"))
            timeout = float(env.get("SES_DEMO_START_TIMEOUT", "600"))
        except ValueError as err:
            raise SetupError(f"a SES_DEMO_* setting is not a number: {err}") from err
        return cls(
            port=port,
            url=env.get("SES_DEMO_URL", f"http://localhost:{port}").rstrip("/"),
            user=env.get("SES_DEMO_USER", "admin"),
            password=env.get("SES_DEMO_PASSWORD", "school-demo"),
            camera_port=camera_port,
            timezone=env.get("SES_DEMO_TZ") or local_timezone(),
            start_timeout=timeout,
            rtsp_stream=env.get("SES_DEMO_RTSP_STREAM", "1") not in ("", "0"),
        )


def local_timezone() -> str:
    """This machine's IANA time zone name (UTC when it cannot tell)."""
    if tz := os.environ.get("TZ", "").lstrip(":"):
        return tz
    try:
        target = Path("/etc/localtime").resolve()
    except OSError:
        return "UTC"
    parts = target.parts
    if "zoneinfo" in parts:
        name = "/".join(parts[parts.index("zoneinfo") + 1 :])
        return "UTC" if name in ("Etc/UTC", "UCT", "Zulu", "") else name
    return "UTC"


def say(message: str) -> None:
    """Progress, on stderr like the shell scripts' `say`."""
    print(f"\033[1m==>\033[0m {message}", file=sys.stderr, flush=True)


class State:
    """What later runs need, in a git-ignored file of the config dir."""

    def __init__(self, path: Path) -> None:
        """Read `path` if it exists."""
        self.path = path
        self.data: dict[str, Any] = {}
        if path.exists():
            try:
                self.data = json.loads(path.read_text())
            except (OSError, ValueError) as err:
                raise SetupError(
                    f"{path} is unreadable ({err}); remove it, or run"
                    " scripts/develop --reset for a new demo"
                ) from err

    def save(self) -> None:
        """Write atomically, readable by this user only (it holds a token)."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2) + "\n")
        tmp.chmod(0o600)
        tmp.replace(self.path)


def reset(config_dir: Path) -> None:
    """Remove Home Assistant's state from the config dir (committed files stay)."""
    import shutil  # noqa: PLC0415 - only for --reset

    for item in config_dir.iterdir():
        if item.name in COMMITTED:
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()


class Supervisor:
    """Runs the demo until asked to stop."""

    def __init__(self, settings: Settings, config_dir: Path = CONFIG_DIR) -> None:
        """Prepare (nothing runs yet)."""
        self.settings = settings
        self.config_dir = config_dir
        self.state = State(config_dir / STATE_FILE)
        self.camera_port = int(self.state.data.get("camera_port", settings.camera_port))
        self.cameras = district.make_cameras(
            self.camera_port,
            timezone=settings.timezone,
            log_dir=config_dir / "logs",
        )
        self.hass = HassProcess(
            config_dir,
            settings.port,
            env={
                "SES_DEMO_PORT": str(settings.port),
                "SES_DEMO_URL": settings.url,
                "SES_DEMO_TZ": settings.timezone,
                "SES_DEMO_NOTICES": str((config_dir / NOTICES_FILE).parent),
            },
            output=config_dir / "logs" / "hass-console.log",
        )
        self.started: list[district.Camera] = []

    @property
    def local_url(self) -> str:
        """Home Assistant on the loopback interface."""
        return self.hass.url

    def preflight(self) -> None:
        """Refuse early, with a reason, what cannot work."""
        if not port_is_free(self.settings.port):
            raise SetupError(
                f"port {self.settings.port} is busy (another Home Assistant or demo"
                " running?); stop it, or set SES_DEMO_PORT to use another port"
            )
        self.hass.check()
        port = self.state.data.get("port", self.settings.port)
        if port != self.settings.port:
            # Home Assistant 2026.10 keeps the HTTP settings of its first start
            # (see HassClient.confirm_http_config); it would not listen here.
            raise SetupError(
                f"config/ was set up with Home Assistant on port {port}, which keeps"
                f" it: set SES_DEMO_PORT={port}, or start over with --reset"
            )
        busy = [
            p for p in district.camera_ports(self.camera_port) if not port_is_free(p)
        ]
        if busy:
            raise SetupError(
                f"camera ports {busy} are busy (another demo running?)"
                + ("" if self.state.data else "; SES_DEMO_CAMERA_PORT picks others")
            )
        automations = self.config_dir / "automations.yaml"
        if not automations.exists():
            automations.write_text("[]\n")

    async def start_cameras(self) -> None:
        """Start every camera; returns once each has a picture."""
        t0 = time.monotonic()
        for camera in self.cameras.values():
            await camera.start()
            self.started.append(camera)
        say(
            f"{len(self.started)} cameras on 127.0.0.1:{self.camera_port + 1}"
            f"-{self.camera_port + len(self.started)}"
            f" (RTSP :{self.camera_port + district.RTSP_PORT_OFFSET})"
            f" in {time.monotonic() - t0:.1f} s"
        )

    async def token(self) -> str:
        """A working token: stored, from onboarding, or by logging in."""
        base = self.local_url
        stored = self.state.data.get("token")
        if stored:
            async with HassClient(base, stored) as client:
                if await client.token_works():
                    return str(stored)
            say("the stored token no longer works; logging in again")
        steps = await onboarding_steps(base)
        if steps and not steps.get("user"):
            say(f"onboarding: creating the administrator {self.settings.user!r}")
            tokens = await onboard(
                base,
                name="District IT admin",
                username=self.settings.user,
                password=self.settings.password,
            )
        else:
            tokens = await login(base, self.settings.user, self.settings.password)
            # An earlier run may have stopped between onboarding's steps.
            await finish_onboarding(base, tokens.access_token)
        token = await long_lived_token(base, tokens.access_token)
        self.state.data["token"] = token
        self.state.save()
        return token

    async def setup(self, client: HassClient) -> None:
        """Onboard and populate on the first run; check the link on every run."""
        data = self.state.data
        if data.get("version") != STATE_VERSION:
            t0 = time.monotonic()
            say("setting up the district (floors, areas, cameras, agreement)")
            populated = await district.populate(
                client,
                self.cameras,
                timezone=self.settings.timezone,
                rtsp_stream=self.settings.rtsp_stream,
                save_dashboard=True,
                notify_file=self.config_dir / NOTICES_FILE,
            )
            data.update(
                entry_id=populated.entry_id,
                port=self.settings.port,
                camera_port=self.camera_port,
                cameras=populated.cameras,
                rtsp_stream=self.settings.rtsp_stream,
            )
            self.state.save()
            say(f"district ready in {time.monotonic() - t0:.1f} s")
        entry_id = str(data["entry_id"])
        link = data.get("link_path")
        if link is None or await district.link_status(client, link) == 401:
            if link is not None:
                say("the stored standing link was revoked or expired; making a new one")
            data["link_path"] = await district.create_standing_link(client, entry_id)
        data["version"] = STATE_VERSION
        self.state.save()
        for note in await blueprints.instantiate(client, entry_id):
            say(note)

    async def run(self, stop_event: asyncio.Event) -> int:
        """Everything from preflight to shutdown; returns the exit status."""
        t0 = time.monotonic()
        self.preflight()
        await self.start_cameras()
        say(f"starting Home Assistant on port {self.settings.port}")
        # Allowlisted in configuration.yaml, which needs it to exist.
        (self.config_dir / NOTICES_FILE).parent.mkdir(parents=True, exist_ok=True)
        await self.hass.start()
        up = await _until_stopped(
            self.hass.wait_until_up(self.settings.start_timeout), stop_event
        )
        if up is None:
            return 130
        say(f"Home Assistant answers after {up:.1f} s")
        token = await self.token()
        async with HassClient(self.local_url, token) as client:
            await client.wait_running(self.settings.start_timeout)
            await client.confirm_http_config()
            await self.setup(client)
            fire_automation = await blueprints.automation_exists(
                client, FIRE_ALARM_AUTOMATION
            )
        self.print_ready(time.monotonic() - t0, fire_automation=fire_automation)
        return await self.watch(stop_event)

    def print_ready(self, seconds: float, *, fire_automation: bool) -> None:
        """Where to go, how to log in, the standing link, how to trip an alarm."""
        url = self.settings.url
        link = f"{url}{self.state.data['link_path']}"
        if fire_automation:
            trip = (
                "turn on 'Fire alarm (Lincoln High panel)' on the dashboard"
                " (input_boolean.fire_alarm): its automation starts sharing"
            )
        else:
            trip = (
                "the fire-alarm blueprint automation is missing, so turn on"
                " 'Emergency sharing' on the dashboard, or call"
                " school_emergency_share.activate"
            )
        lines = [
            "",
            f"School Emergency Share demo is ready ({seconds:.0f} s).",
            "",
            f"  Dashboard       {url}/{district.DASHBOARD_PATH}/emergency",
            f"  Log in as       {self.settings.user} / {self.settings.password}",
            f"  Standing link   {link}",
            "                  (Springfield PD dispatch: cameras only while sharing)",
            f"  Emergency       {trip}",
            "  Audit log       config/school_emergency_share/",
            f"  Logs            {self.hass.log_file}",
            "",
            "Ctrl-C stops Home Assistant and the cameras.",
            "",
        ]
        print("\n".join(lines), flush=True)

    async def watch(self, stop_event: asyncio.Event) -> int:
        """Wait for Ctrl-C; report Home Assistant exiting by itself."""
        proc = self.hass.proc
        assert proc is not None  # noqa: S101 - run() started it
        exited = asyncio.ensure_future(proc.wait())
        stopping = asyncio.ensure_future(stop_event.wait())
        waiting: set[asyncio.Future[Any]] = {exited, stopping}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if exited.done():
            print(
                f"error: Home Assistant exited by itself (status {proc.returncode});"
                f" last lines of its log:\n{tail(self.hass.log_file)}",
                file=sys.stderr,
            )
            return 1
        exited.cancel()
        return 0

    async def shutdown(self) -> None:
        """Stop Home Assistant, then the cameras; every process is reaped."""
        if self.hass.proc is not None and self.hass.proc.returncode is None:
            say("stopping Home Assistant")
        t0 = time.monotonic()
        status = await self.hass.stop()
        if status is not None:
            took = time.monotonic() - t0
            say(f"Home Assistant stopped ({took:.1f} s, status {status})")
        for camera in reversed(self.started):
            await camera.stop()
        if self.started:
            say(f"{len(self.started)} cameras stopped")


async def _until_stopped[T](
    work: Coroutine[Any, Any, T], stop_event: asyncio.Event
) -> T | None:
    """`work`'s result, or None if the stop event comes first."""
    task: asyncio.Future[T] = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop_event.wait())
    waiting: set[asyncio.Future[Any]] = {task, stopping}
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if task.done():
        return task.result()
    task.cancel()
    return None


async def main_async(settings: Settings) -> int:
    """Run the supervisor with signal handling; returns the exit status."""
    stop_event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_event.set)
    supervisor = Supervisor(settings)
    runner = asyncio.ensure_future(supervisor.run(stop_event))
    try:
        # A stop request during set-up interrupts it; shutdown follows.
        stopping = asyncio.ensure_future(stop_event.wait())
        waiting: set[asyncio.Future[Any]] = {runner, stopping}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not runner.done():
            runner.cancel()
            try:
                await runner
            except asyncio.CancelledError:
                return 130
        return runner.result()
    except SetupError as err:
        print(f"\033[31merror:\033[0m {err}", file=sys.stderr)
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        # Ctrl-C again during shutdown is ignored: half-stopped is worse.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        await supervisor.shutdown()


def main(argv: list[str] | None = None) -> int:
    """`python -m demo [--reset]`."""
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description="Run the demo district: cameras and Home Assistant.",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="start from scratch: remove Home Assistant's state in config/",
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(dict(os.environ))
        if args.reset:
            reset(CONFIG_DIR)
            say("config/ reset: the next start onboards again")
        return asyncio.run(main_async(settings))
    except SetupError as err:
        print(f"\033[31merror:\033[0m {err}", file=sys.stderr)
        return 1
