"""A real Home Assistant: the process, onboarding, and a small API client.

- `HassProcess` runs `python -m homeassistant -c <config> --skip-pip` with this
  repository on `PYTHONPATH`, so Home Assistant imports the integration from
  the repository itself (`custom_components/__init__.py` makes it a regular
  package); a `custom_components` folder in the config dir would shadow it and
  is refused. It stops gracefully or is killed outright, and tells what runs
  under it (its ffmpeg readers, descriptors, memory).
- `onboard()` does what the first-run wizard does, through the onboarding API;
  `login()` gets a token for an existing user; `long_lived_token()` makes a
  token that outlives the session.
- `HassClient` speaks REST and WebSocket with a token.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import itertools
import os
from pathlib import Path
import sys
import time
from typing import Any, Final, Self

import aiohttp

from . import procfs
from .errors import ApiError, SetupError
from .net import LOOPBACK, port_is_free
from .spawn import spawn, stop, tail

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
CLIENT_NAME: Final = "School Emergency Share demo"
_POLL: Final = 0.5
_TIMEOUT: Final = aiohttp.ClientTimeout(total=60)


def client_id(base_url: str) -> str:
    """The OAuth client id Home Assistant's own frontend uses for `base_url`."""
    return f"{base_url.rstrip('/')}/"


class HassProcess:
    """A Home Assistant process on a config dir and port.

    Use `start()` then `wait_until_up()`; `stop()` shuts it down gracefully
    (SIGTERM, then SIGKILL of its whole process group after `stop_grace`).
    """

    def __init__(
        self,
        config_dir: Path,
        port: int,
        *,
        python: str = sys.executable,
        repo_root: Path = REPO_ROOT,
        env: dict[str, str] | None = None,
        output: Path | None = None,
        stop_grace: float = 60.0,
    ) -> None:
        """Describe the process.

        Args:
            config_dir: Home Assistant's configuration directory.
            port: the HTTP port its configuration makes it listen on (the
                caller's configuration must agree; it is checked, not set).
            python: the interpreter of the environment with Home Assistant.
            repo_root: put on `PYTHONPATH` so `custom_components` is this
                repository's.
            env: extra environment variables (e.g. what `!env_var` reads).
            output: file for Home Assistant's stdout and stderr (its log
                proper is `<config_dir>/home-assistant.log`).
            stop_grace: seconds a shutdown may take before SIGKILL.

        """
        self.config_dir = config_dir
        self.port = port
        self.python = python
        self.repo_root = repo_root
        self.env = dict(env or {})
        self.output = output
        self.stop_grace = stop_grace
        self.proc: asyncio.subprocess.Process | None = None
        self.started_at = 0.0

    @property
    def url(self) -> str:
        """Where Home Assistant answers, on the loopback interface."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def log_file(self) -> Path:
        """Home Assistant's own log."""
        return self.config_dir / "home-assistant.log"

    def check(self) -> None:
        """Refuse to start where it cannot work as intended."""
        shadow = self.config_dir / "custom_components"
        if shadow.exists():
            raise SetupError(
                f"{shadow} exists and would shadow the repository's integration;"
                " remove it (the integration is loaded from the repository)"
            )
        if not port_is_free(self.port):
            raise SetupError(
                f"port {self.port} is busy (another Home Assistant or demo?);"
                " stop it or choose another port"
            )

    async def start(self) -> None:
        """Start Home Assistant (it takes a while to answer; see below)."""
        self.check()
        env = dict(os.environ)
        env.update(self.env)
        paths = [str(self.repo_root), *filter(None, [env.get("PYTHONPATH")])]
        env["PYTHONPATH"] = os.pathsep.join(paths)
        # Logging goes to the log file; the console copy is for early crashes.
        self.started_at = time.monotonic()
        self.proc = await spawn(
            self.python,
            *("-m", "homeassistant", "--config", str(self.config_dir)),
            *("--skip-pip", "--log-no-color"),
            output=self.output,
            env=env,
            cwd=self.config_dir,
        )

    def _died(self) -> SetupError:
        code = self.proc.returncode if self.proc else None
        where = self.output or self.log_file
        return SetupError(
            f"Home Assistant exited during start-up (status {code}); last lines"
            f" of {where}:\n{tail(where) or tail(self.log_file)}"
        )

    async def wait_until_up(self, seconds: float) -> float:
        """Wait until the HTTP API answers; returns seconds since start.

        Raises:
            SetupError: the process exited, or `seconds` passed.

        """
        deadline = self.started_at + seconds
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(5)) as http:
            while time.monotonic() < deadline:
                if self.proc is None or self.proc.returncode is not None:
                    raise self._died()
                # The frontend sets up after onboarding, which registers its
                # views only while onboarding is not finished: once the
                # frontend answers, /api/onboarding tells the truth.
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(f"{self.url}/manifest.json") as response:
                        if response.status == 200:
                            return time.monotonic() - self.started_at
                await asyncio.sleep(_POLL)
        raise SetupError(
            f"Home Assistant did not answer on {self.url} within {seconds:g} s"
            f" (a first start can take minutes here); see {self.log_file}"
        )

    async def boot(self, seconds: float) -> float:
        """`start()` and `wait_until_up()`; returns seconds until it answered."""
        await self.start()
        return await self.wait_until_up(seconds)

    async def stop(self) -> int | None:
        """Shut down gracefully; returns the exit status (None if never started)."""
        if self.proc is None:
            return None
        # SIGTERM to Home Assistant alone: it stops its own children in order.
        return await stop(self.proc, grace=self.stop_grace, group=False)

    async def kill(self) -> None:
        """SIGKILL Home Assistant and everything it started; reap it."""
        if self.proc is not None:
            await stop(self.proc, grace=0)

    @property
    def pid(self) -> int:
        """The running Home Assistant process.

        Raises:
            SetupError: it is not running.

        """
        if self.proc is None or self.proc.returncode is not None:
            raise SetupError("Home Assistant is not running")
        return self.proc.pid

    def ffmpeg_readers(self) -> list[int]:
        """Pids of Home Assistant's ffmpeg children (zombies excluded)."""
        return [p.pid for p in procfs.children_named(self.pid, "ffmpeg")]

    def open_fds(self) -> int:
        """Home Assistant's open file descriptors."""
        return procfs.open_fds(self.pid)

    def rss(self) -> int:
        """Home Assistant's resident memory in bytes."""
        item = procfs.stat(self.pid)
        if item is None:
            raise SetupError("Home Assistant is not running")
        return item.rss_bytes

    async def __aenter__(self) -> Self:
        """Start the process."""
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        """Stop the process."""
        await self.stop()


@dataclass(frozen=True, slots=True)
class Tokens:
    """An access token (short-lived) and the refresh token behind it."""

    access_token: str
    refresh_token: str | None


async def _json(response: aiohttp.ClientResponse) -> Any:
    text = await response.text()
    if response.status >= 400:
        raise ApiError(
            f"{response.method} {response.url.path} answered {response.status}:"
            f" {text[:500]}"
        )
    if not text:
        return None
    return await response.json(content_type=None)


async def _token_for_code(
    http: aiohttp.ClientSession, base_url: str, code: str
) -> Tokens:
    async with http.post(
        f"{base_url}/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id(base_url),
        },
    ) as response:
        body = await _json(response)
    return Tokens(body["access_token"], body.get("refresh_token"))


async def onboarding_steps(base_url: str) -> dict[str, bool]:
    """Each onboarding step and whether it is done; empty when all are done.

    Call it once the frontend answers (`HassProcess.wait_until_up`): until
    onboarding is set up, its API is missing as it is when onboarding is over.
    """
    async with (
        aiohttp.ClientSession(timeout=_TIMEOUT) as http,
        http.get(f"{base_url}/api/onboarding") as response,
    ):
        if response.status == 404:  # finished: the views are not registered
            return {}
        steps = await _json(response)
    return {step["step"]: step["done"] for step in steps}


async def onboard(
    base_url: str,
    *,
    name: str,
    username: str,
    password: str,
    language: str = "en",
) -> Tokens:
    """Finish onboarding as the first-run wizard does; returns the owner's tokens.

    Creates the owner (an administrator), then completes the core config,
    analytics (nothing is shared) and integration steps.

    Raises:
        SetupError: a step failed, or the user step was already done.

    """
    cid = client_id(base_url)
    async with aiohttp.ClientSession(timeout=_TIMEOUT) as http:
        async with http.post(
            f"{base_url}/api/onboarding/users",
            json={
                "client_id": cid,
                "name": name,
                "username": username,
                "password": password,
                "language": language,
            },
        ) as response:
            code = (await _json(response))["auth_code"]
        tokens = await _token_for_code(http, base_url, code)
        await finish_onboarding(base_url, tokens.access_token)
    return tokens


async def finish_onboarding(base_url: str, access_token: str) -> None:
    """Complete the steps after the user step that are not done yet."""
    steps = await onboarding_steps(base_url)
    if not steps:
        return
    cid = client_id(base_url)
    bodies: dict[str, dict[str, Any]] = {
        "core_config": {},
        "analytics": {},
        "integration": {"client_id": cid, "redirect_uri": f"{cid}?auth_callback=1"},
    }
    headers = {"Authorization": f"Bearer {access_token}"}
    async with aiohttp.ClientSession(timeout=_TIMEOUT, headers=headers) as http:
        for step, body in bodies.items():
            if steps.get(step, True):
                continue
            async with http.post(
                f"{base_url}/api/onboarding/{step}", json=body
            ) as response:
                await _json(response)


async def login(base_url: str, username: str, password: str) -> Tokens:
    """Log in with Home Assistant's own login flow, as the login page does.

    Raises:
        SetupError: wrong credentials, or the flow failed.

    """
    cid = client_id(base_url)
    async with aiohttp.ClientSession(timeout=_TIMEOUT) as http:
        async with http.post(
            f"{base_url}/auth/login_flow",
            json={
                "client_id": cid,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{cid}?auth_callback=1",
            },
        ) as response:
            flow = await _json(response)
        async with http.post(
            f"{base_url}/auth/login_flow/{flow['flow_id']}",
            json={"client_id": cid, "username": username, "password": password},
        ) as response:
            result = await _json(response)
        if result.get("type") != "create_entry":
            raise SetupError(
                f"cannot log in as {username!r}: {result.get('errors') or result}"
            )
        return await _token_for_code(http, base_url, result["result"])


async def long_lived_token(
    base_url: str, access_token: str, *, name: str = CLIENT_NAME, days: int = 3650
) -> str:
    """A long-lived access token (Profile → Security) for the token's user."""
    async with HassClient(base_url, access_token) as client:
        token: str = await client.ws(
            "auth/long_lived_access_token", client_name=name, lifespan=days
        )
    return token


class HassClient:
    """REST and WebSocket calls with a token. Use as `async with`."""

    def __init__(self, base_url: str, token: str) -> None:
        """Talk to `base_url` as the token's user."""
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._ws_lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        """Open the HTTP session (the WebSocket opens on first use)."""
        self._http = aiohttp.ClientSession(
            timeout=_TIMEOUT, headers={"Authorization": f"Bearer {self.token}"}
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        """Close the WebSocket and the HTTP session."""
        await self.close()

    async def close(self) -> None:
        """Close the WebSocket and the HTTP session."""
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    @property
    def http(self) -> aiohttp.ClientSession:
        """The authenticated HTTP session."""
        if self._http is None:
            raise RuntimeError("use HassClient in `async with`")
        return self._http

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> tuple[int, Any]:
        """`method path`; returns (status, JSON body or text).

        Raises:
            ApiError: the status is not in `ok`.

        """
        async with self.http.request(
            method, f"{self.base_url}{path}", json=json
        ) as response:
            text = await response.text()
            if response.status not in ok:
                raise ApiError(
                    f"{method} {path} answered {response.status}: {text[:500]}"
                )
            if response.content_type == "application/json" and text:
                return response.status, await response.json()
            return response.status, text

    async def get(self, path: str) -> Any:
        """GET a JSON API path."""
        return (await self.request("GET", path))[1]

    async def post(self, path: str, json: Any = None) -> Any:
        """POST JSON to an API path."""
        return (await self.request("POST", path, json=json))[1]

    async def call_service(
        self,
        domain: str,
        service: str,
        data: dict[str, Any],
        *,
        return_response: bool = False,
    ) -> Any:
        """Call a service; with `return_response`, return its response."""
        path = f"/api/services/{domain}/{service}"
        if return_response:
            path += "?return_response"
        body = await self.post(path, data)
        return body["service_response"] if return_response else body

    async def ws(self, command: str, **data: Any) -> Any:
        """Send one WebSocket command; returns its result.

        Raises:
            ApiError: Home Assistant answered with an error.

        """
        async with self._ws_lock:
            try:
                message = await self._ws_command(command, data)
            except (aiohttp.ClientError, ConnectionError, TypeError):
                # Home Assistant closed the connection (a heartbeat missed
                # while it was overloaded): a new one, once.
                if self._ws is not None:
                    await self._ws.close()
                self._ws = None
                message = await self._ws_command(command, data)
        if not message["success"]:
            error = message.get("error", {})
            raise ApiError(
                f"{command} failed: {error.get('code')}: {error.get('message')}"
            )
        return message["result"]

    async def _ws_command(self, command: str, data: dict[str, Any]) -> Any:
        ws = await self._websocket()
        message_id = next(self._ids)
        await ws.send_json({"id": message_id, "type": command, **data})
        while True:
            message = await ws.receive_json()
            if message.get("id") == message_id and message["type"] == "result":
                return message

    async def _websocket(self) -> aiohttp.ClientWebSocketResponse:
        if self._ws is not None and not self._ws.closed:
            return self._ws
        ws = await self.http.ws_connect(f"{self.base_url}/api/websocket")
        hello = await ws.receive_json()
        if hello.get("type") != "auth_required":
            raise SetupError(f"unexpected WebSocket greeting: {hello}")
        await ws.send_json({"type": "auth", "access_token": self.token})
        answer = await ws.receive_json()
        if answer.get("type") != "auth_ok":
            await ws.close()
            raise SetupError(f"WebSocket authentication failed: {answer}")
        self._ws = ws
        return ws

    async def token_works(self) -> bool:
        """Whether the token is accepted."""
        status, _ = await self.request("GET", "/api/", ok=(200, 401, 403))
        return status == 200

    async def confirm_http_config(self) -> bool:
        """Confirm the HTTP settings Home Assistant runs with; True if it asked.

        Home Assistant 2026.10 (not 2026.2) reads `http:` from configuration.yaml
        once, on the first start, into its storage as a *pending* config; unless
        an administrator confirms it within 5 minutes it reverts to the default
        (port 8123) and restarts (`homeassistant/components/http/config.py`).
        Answering on the configured port is the confirmation. Older versions
        have no such command and nothing to confirm.
        """
        try:
            config = await self.ws("http/config")
        except ApiError:
            return False
        if config.get("active_config_type") != "pending":
            return False
        await self.ws("http/config/promote")
        return True

    async def wait_running(self, seconds: float) -> None:
        """Wait until Home Assistant has finished starting (state RUNNING)."""
        deadline = time.monotonic() + seconds
        state = "unknown"
        while time.monotonic() < deadline:
            state = (await self.get("/api/config")).get("state", "unknown")
            if state == "RUNNING":
                return
            await asyncio.sleep(_POLL)
        raise SetupError(
            f"Home Assistant answers but is still {state!r} after {seconds:g} s"
        )

    async def flow(
        self,
        handler: str,
        steps: list[dict[str, Any]],
        *,
        show_advanced_options: bool = False,
    ) -> dict[str, Any]:
        """Run a config flow through its steps; returns the created entry.

        Each item of `steps` is the user input of the next form, in order (for
        a menu: `{"next_step_id": ...}`).

        Raises:
            SetupError: a step returned errors, the flow aborted, or it asked
                for more steps than given.

        """
        result = await self._run_flow(
            "/api/config/config_entries/flow",
            {"handler": handler, "show_advanced_options": show_advanced_options},
            steps,
            handler,
        )
        entry: dict[str, Any] = result["result"]
        return entry

    async def options_flow(self, entry_id: str, steps: list[dict[str, Any]]) -> None:
        """Run an entry's options flow through its steps (see `flow`)."""
        await self._run_flow(
            "/api/config/config_entries/options/flow",
            {"handler": entry_id},
            steps,
            f"options of {entry_id}",
        )

    async def _run_flow(
        self, path: str, start: dict[str, Any], steps: list[dict[str, Any]], name: str
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self.post(path, start)
        for user_input in steps:
            if result.get("type") not in ("form", "menu"):
                break
            step = result.get("step_id")
            result = await self.post(f"{path}/{result['flow_id']}", user_input)
            if result.get("type") == "form" and result.get("errors"):
                await self._abort_flow(path, result)
                raise SetupError(f"{name} flow, step {step!r}: {result['errors']}")
        if result.get("type") == "create_entry":
            return result
        if result.get("type") == "abort":
            raise SetupError(f"{name} flow aborted: {result.get('reason')}")
        await self._abort_flow(path, result)
        raise SetupError(
            f"{name} flow did not finish: stopped at {result.get('step_id')}"
        )

    async def _abort_flow(self, path: str, result: dict[str, Any]) -> None:
        with contextlib.suppress(ApiError):
            await self.request("DELETE", f"{path}/{result['flow_id']}", ok=(200, 404))
