"""A real Home Assistant with MJPEG cameras and one agreement, driven by its APIs.

Used by the benchmark and by `tests/realhass`. `scratch_hass()` gives a
`HassProcess` (the repository's integration on `PYTHONPATH`, `--skip-pip`) on a
config dir of its own, bound to 127.0.0.1 on a free port. `Deployment` sets up
what an administrator would, only through the APIs: onboarding, core `mjpeg`
cameras, the agreement (this integration's config flow), and then activates,
issues links, reads states and the audit log. A Home Assistant stopped
(SIGTERM) or killed (SIGKILL) starts again on the same config dir and port with
the same token.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
import json
from pathlib import Path
import sys
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp

from .errors import SetupError
from .hass import HassClient, HassProcess, long_lived_token, onboard
from .net import free_port

DOMAIN: Final = "school_emergency_share"
URL_PREFIX: Final = f"/api/{DOMAIN}/view"
USERNAME: Final = "admin"
PASSWORD: Final = "bench-admin-password"  # noqa: S105 - a throwaway local account
START_TIMEOUT: Final = 300.0
FIRE_ALARM_BLUEPRINT: Final = f"{DOMAIN}/fire_alarm_activate.yaml"
# Onboarding adds these; a school's Home Assistant for measurements needs none
# (and some cannot load here: their requirements are not installed).
ONBOARDING_INTEGRATIONS: Final = (
    "shopping_list",
    "google_translate",
    "met",
    "radio_browser",
)

CONFIGURATION: Final = """\
# Written by testbed.deployment: a real Home Assistant for measurements and tests.
homeassistant:
  name: Bench School
  time_zone: UTC
  country: US
  unit_system: metric
  currency: USD
  internal_url: http://127.0.0.1:{port}

http:
  server_host: 127.0.0.1
  server_port: {port}
{http_extra}
frontend:
config:
api:
automation: !include automations.yaml

logger:
  default: warning
  logs:
    custom_components.school_emergency_share: {log_level}
{extra}"""


@dataclass(frozen=True, slots=True)
class Link:
    """A viewer link as the service returned it."""

    link_id: str
    path: str
    """`/api/school_emergency_share/view/<token>`."""
    expires_at: str
    standing: bool

    def mjpeg(self, camera: str) -> str:
        """The stream path of `camera` under this link."""
        return f"{self.path}/mjpeg/{camera}"


def scratch_hass(
    config_dir: Path,
    *,
    port: int | None = None,
    python: str = sys.executable,
    log_level: str = "info",
    http: dict[str, object] | None = None,
    extra_yaml: str = "",
) -> HassProcess:
    """A Home Assistant on a config dir of its own, on 127.0.0.1 (not started).

    Writes its configuration (kept if the dir is used again, so a restart
    finds the same port and state); `http` adds settings to its `http:`
    block and `extra_yaml` is appended to it (e.g. a YAML camera platform).
    """
    port = port or free_port()
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION.format(
            port=port,
            log_level=log_level,
            http_extra="".join(
                f"  {key}: {json.dumps(value)}\n" for key, value in (http or {}).items()
            ),
            extra=extra_yaml,
        )
    )
    automations = config_dir / "automations.yaml"
    if not automations.exists():
        automations.write_text("[]\n")
    return HassProcess(
        config_dir,
        port,
        python=python,
        output=config_dir / "hass-console.log",
        stop_grace=30.0,
    )


class Deployment:
    """One agreement over some cameras, in a running Home Assistant."""

    def __init__(self, hass: HassProcess, token: str) -> None:
        """Use `hass` with an administrator's long-lived `token`."""
        self.hass = hass
        self.token = token
        self.client = HassClient(hass.url, token)
        self.entry_id = ""
        self.admin_id = ""
        self.cameras: dict[str, str] = {}
        """Camera name → entity id."""
        self.entities: dict[str, str] = {}
        """The agreement's entities by key (`session_expires`, …)."""

    # ------------------------------------------------------------ life cycle

    @classmethod
    async def create(cls, hass: HassProcess) -> Deployment:
        """Onboard a freshly started Home Assistant; returns a deployment."""
        tokens = await onboard(
            hass.url, name="Bench admin", username=USERNAME, password=PASSWORD
        )
        token = await long_lived_token(hass.url, tokens.access_token, name="bench")
        deployment = cls(hass, token)
        await deployment.client.__aenter__()
        await deployment.client.wait_running(START_TIMEOUT)
        await deployment.client.confirm_http_config()
        user = await deployment.client.ws("auth/current_user")
        deployment.admin_id = user["id"]
        await deployment.remove_onboarding_leftovers()
        return deployment

    async def remove_onboarding_leftovers(self) -> None:
        """Delete the integrations onboarding set up (see ONBOARDING_INTEGRATIONS)."""
        for entry in await self.client.get("/api/config/config_entries/entry"):
            if entry["domain"] in ONBOARDING_INTEGRATIONS:
                await self.client.request(
                    "DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}"
                )

    async def close(self) -> None:
        """Close the API client (Home Assistant keeps running)."""
        await self.client.close()

    async def restart(self) -> float:
        """Stop (SIGTERM) and start again; returns seconds until it answered."""
        await self.client.close()
        await self.hass.stop()
        return await self.start_again()

    async def start_again(self) -> float:
        """Start a stopped Home Assistant and wait until it runs."""
        took = await self.hass.boot(START_TIMEOUT)
        self.client = HassClient(self.hass.url, self.token)
        await self.client.__aenter__()
        await self.client.wait_running(START_TIMEOUT)
        return took

    # ------------------------------------------------------------ set-up

    async def add_mjpeg_camera(self, name: str, stream_url: str, still_url: str) -> str:
        """Add a core `mjpeg` camera through its config flow; returns its entity."""
        entry = await self.client.flow(
            "mjpeg",
            [
                {
                    "name": name,
                    "mjpeg_url": stream_url,
                    "still_image_url": still_url,
                    "username": "",
                    "password": "",
                    "verify_ssl": False,
                }
            ],
        )
        for entity in await self.client.ws("config/entity_registry/list"):
            if entity["config_entry_id"] == entry["entry_id"]:
                self.cameras[name] = str(entity["entity_id"])
                return self.cameras[name]
        raise SetupError(f"camera {name!r} was added but has no entity")

    async def add_generic_camera(
        self, name: str, stream_url: str, *, rtsp_transport: str | None = None
    ) -> str:
        """Add a core `generic` camera with a stream source; returns its entity.

        Its config flow starts a test stream (the `stream` integration, PyAV:
        give `scratch_hass` `extra_yaml="stream:"`) and asks to confirm the
        preview, as a person would in the UI.
        """
        advanced: dict[str, Any] = {"framerate": 2, "verify_ssl": False}
        if rtsp_transport:
            advanced["rtsp_transport"] = rtsp_transport
        entry = await self.client.flow(
            "generic",
            [
                {"stream_source": stream_url, "advanced": advanced},
                {"confirmed_ok": True},
            ],
        )
        for entity in await self.client.ws("config/entity_registry/list"):
            if entity["config_entry_id"] == entry["entry_id"]:
                entity_id = str(entity["entity_id"])
                await self.client.ws(
                    "config/entity_registry/update",
                    entity_id=entity_id,
                    name=name,
                )
                self.cameras[name] = entity_id
                return entity_id
        raise SetupError(f"camera {name!r} was added but has no entity")

    async def hls_url(self, camera: str) -> str:
        """Home Assistant's HLS master playlist of `camera` (its `stream`)."""
        result = await self.client.ws("camera/stream", entity_id=camera)
        return str(result["url"])

    async def add_agreement(
        self,
        *,
        max_session_minutes: int = 120,
        max_viewers: int = 100,
        failure_limit: int = 20,
    ) -> str:
        """The agreement over every camera added; returns its entry id."""
        today = datetime.now(UTC).date()
        entry = await self.client.flow(
            DOMAIN,
            [
                {
                    "school": "Bench School",
                    "agency": "Bench Police",
                    "valid_from": (today - timedelta(days=30)).isoformat(),
                    "valid_until": (today + timedelta(days=335)).isoformat(),
                },
                {"cameras": sorted(self.cameras.values()), "private_cameras": []},
                {
                    "allowed_users": [self.admin_id],
                    "max_session_minutes": max_session_minutes,
                    "max_extension_minutes": 60,
                    "max_viewers": max_viewers,
                    "notify_targets": [],
                    "retention_days": 365,
                    "failure_limit": failure_limit,
                },
            ],
        )
        self.entry_id = str(entry["entry_id"])
        await self.refresh_entities()
        return self.entry_id

    async def refresh_entities(self) -> None:
        """Read the agreement's entities by key from the entity registry."""
        prefix = f"{self.entry_id}:"
        self.entities = {
            str(entity["unique_id"]).removeprefix(prefix): entity["entity_id"]
            for entity in await self.client.ws("config/entity_registry/list")
            if entity["config_entry_id"] == self.entry_id and entity.get("unique_id")
        }

    async def add_fire_alarm_automation(
        self, alarm: str, automation_id: str = "bench_fire_alarm"
    ) -> str:
        """The shipped fire-alarm blueprint as an automation on `alarm`."""
        # The integration copies its blueprints in the background at set-up.
        for _ in range(100):
            listing = await self.client.ws("blueprint/list", domain="automation")
            if FIRE_ALARM_BLUEPRINT in listing:
                break
            await asyncio.sleep(0.1)
        else:
            raise SetupError(
                f"blueprint {FIRE_ALARM_BLUEPRINT} is not installed in"
                f" {self.hass.config_dir}/blueprints (the integration copies it)"
            )
        await self.client.post(
            f"/api/config/automation/config/{automation_id}",
            {
                "alias": "Bench fire alarm starts sharing",
                "description": "Made by testbed.deployment.",
                "use_blueprint": {
                    "path": FIRE_ALARM_BLUEPRINT,
                    "input": {"agreement": self.entry_id, "alarms": [alarm]},
                },
            },
        )
        entity = f"automation.{automation_id}"
        for _ in range(100):
            state = await self.state(entity)
            if state is not None and state["state"] == "on":
                return entity
            for item in await self.client.get("/api/states"):
                attributes = item.get("attributes", {})
                if attributes.get("id") == automation_id and item["state"] == "on":
                    return str(item["entity_id"])
            await asyncio.sleep(0.1)
        raise SetupError(f"the automation {automation_id} did not turn on")

    # ------------------------------------------------------------ services

    async def service(
        self, service: str, *, response: bool = False, **data: Any
    ) -> Any:
        """Call one of the integration's services for this agreement."""
        return await self.client.call_service(
            DOMAIN,
            service,
            {"config_entry_id": self.entry_id, **data},
            return_response=response,
        )

    async def activate(self, reason: str = "Bench", **data: Any) -> dict[str, Any]:
        """Start a session; returns the service response."""
        result: dict[str, Any] = await self.service(
            "activate", response=True, reason=reason, **data
        )
        return result

    async def deactivate(self, reason: str = "Bench over") -> None:
        """End the session."""
        await self.service("deactivate", reason=reason)

    async def ensure_idle(self) -> None:
        """End a session if one is active."""
        state = await self.state(self.entities["emergency_sharing"])
        if state is not None and state["state"] == "on":
            await self.deactivate()

    async def link(self, label: str, **data: Any) -> Link:
        """Issue a viewer link."""
        result = await self.service(
            "create_viewer_link", response=True, label=label, **data
        )
        return Link(
            link_id=str(result["link_id"]),
            path=urlsplit(str(result["url"])).path,
            expires_at=str(result["expires_at"]),
            standing=bool(result["standing"]),
        )

    # ------------------------------------------------------------ reading

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """An entity's state object, None if it has none."""
        status, body = await self.client.request(
            "GET", f"/api/states/{entity_id}", ok=(200, 404)
        )
        return body if status == 200 and isinstance(body, dict) else None

    async def set_state(self, entity_id: str, state: str) -> None:
        """Set a state through the REST API (a sensor reporting)."""
        await self.client.post(f"/api/states/{entity_id}", {"state": state})

    async def viewer_get(
        self, path: str, *, address: str | None = None
    ) -> tuple[int, dict[str, str], str]:
        """GET a viewer path without Home Assistant credentials.

        Returns the status, the headers and the body's text. `address` is the
        loopback address the request comes from (127.0.0.2… are loopback too).
        """
        connector = aiohttp.TCPConnector(
            local_addr=(address, 0) if address else None, force_close=True
        )
        async with (
            aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=30)
            ) as http,
            http.get(f"{self.hass.url}{path}") as response,
        ):
            return response.status, dict(response.headers), await response.text()

    @property
    def audit_path(self) -> Path:
        """The agreement's audit log."""
        return self.hass.config_dir / DOMAIN / f"{self.entry_id}.jsonl"

    @property
    def storage_path(self) -> Path:
        """The agreement's saved session, links and switches."""
        return self.hass.config_dir / ".storage" / f"{DOMAIN}.{self.entry_id}"

    def audit_records(self) -> list[dict[str, Any]]:
        """Every complete line of the audit log, parsed."""
        records = []
        for line in self.audit_path.read_text().splitlines():
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
        return records

    async def wait_for_audit(
        self, predicate: Any, timeout: float = 10.0
    ) -> dict[str, Any]:
        """The first audit record for which `predicate(record)` holds."""
        async with asyncio.timeout(timeout):
            while True:
                for record in self.audit_records():
                    if predicate(record):
                        return record
                await asyncio.sleep(0.1)

    async def wait_saved(self, timeout: float = 30.0) -> None:
        """Wait until Home Assistant's own delayed writes hold this deployment.

        Home Assistant saves its registries and credentials a few seconds
        after they change. A SIGKILL before that loses them (the token stops
        working); a real Home Assistant that has run a while has saved them.
        """
        storage = self.hass.config_dir / ".storage"
        wanted = {
            "auth": ['"client_name": "bench"'],
            "core.config_entries": [self.entry_id],
            "core.entity_registry": [*self.cameras.values(), *self.entities.values()],
        }
        async with asyncio.timeout(timeout):
            for name, needles in wanted.items():
                while True:
                    with contextlib.suppress(OSError):
                        text = (storage / name).read_text()
                        if all(needle in text for needle in needles):
                            break
                    await asyncio.sleep(0.2)

    async def wait_readers(self, count: int, timeout: float = 15.0) -> list[int]:
        """Wait until Home Assistant runs exactly `count` ffmpeg readers."""
        async with asyncio.timeout(timeout):
            while len(pids := self.hass.ffmpeg_readers()) != count:
                await asyncio.sleep(0.1)
        return pids


def verify_chain(lines: list[str]) -> list[dict[str, Any]]:
    """Check a hash chain as the README tells an auditor to; returns the records.

    Independent of the integration's code: the hash is the SHA-256 hex of
    `prev` followed by the record's canonical JSON without `hash`.

    Raises:
        ValueError: a record does not verify or does not follow its predecessor.

    """
    records, prev = [], None
    for number, line in enumerate(lines, 1):
        record = json.loads(line)
        digest = record.pop("hash")
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"))
        if hashlib.sha256((record["prev"] + canonical).encode()).hexdigest() != digest:
            raise ValueError(f"line {number}: hash does not match")
        if prev is not None and record["prev"] != prev:
            raise ValueError(f"line {number}: prev is not the previous hash")
        prev = digest
        record["hash"] = digest
        records.append(record)
    return records
