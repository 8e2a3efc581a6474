"""HTTP views for police viewers: the link in the path is the only credential.

Registered once for all agreements; every request is decided afresh from the
link, the session and the clock. Failures raise aiohttp's HTTP exceptions with
the security headers attached; nothing a client sends can produce a 5xx.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
from datetime import datetime
import json
import logging
from pathlib import Path
import socket
import time
from typing import Any, Final, Literal

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
)
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.util import dt as dt_util

from .audit_trail import AuditEvent
from .camera_streams import UNAVAILABLE
from .const import DOMAIN, URL_PREFIX
from .core.actor import Actor, ActorKind
from .core.links import Denial, ViewerLink, is_well_formed
from .data import DATA_DOMAIN, DomainData
from .manager import AgreementManager
from .media import CameraStatus, Frame, StreamClosed, mjpeg

_LOGGER = logging.getLogger(__name__)

STATIC_PREFIX: Final = f"/api/{DOMAIN}/static"
VIEWER_DIR: Final = Path(__file__).parent / "viewer"
STATIC_FILES: Final = {
    "viewer.js": "text/javascript; charset=utf-8",
    "viewer.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
    "icon-192.png": "image/png",
    "icon-512.png": "image/png",
}
SECURITY_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}
PAGE_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' blob: data:; connect-src 'self'; manifest-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
NOTICE_POLICY: Final = "default-src 'none'; style-src 'self'; frame-ancestors 'none'"
STATUS_FOR: Final = {
    Denial.MALFORMED: web.HTTPUnauthorized,
    Denial.UNKNOWN: web.HTTPUnauthorized,
    Denial.REVOKED: web.HTTPUnauthorized,
    Denial.EXPIRED: web.HTTPUnauthorized,
    Denial.NO_SESSION: web.HTTPForbidden,
    Denial.OUT_OF_SCOPE: web.HTTPForbidden,
    Denial.UNKNOWN_CAMERA: web.HTTPNotFound,
    Denial.LOCKED_OUT: web.HTTPTooManyRequests,
    Denial.VIEWER_CAP: web.HTTPTooManyRequests,
    Denial.CAMERA_UNAVAILABLE: web.HTTPServiceUnavailable,
}
# Guessing tokens is what lockout stops; a known link that was revoked or
# expired is not a guess, and counting it would lock out a whole dispatch
# centre behind one address because one officer's old tab keeps retrying.
COUNTED_FAILURES: Final = frozenset({Denial.MALFORMED, Denial.UNKNOWN})
# The same denial for the same link and address is recorded once per window.
DENIAL_RECORD_INTERVAL: Final = 600.0
SNAPSHOT_RECORD_INTERVAL: Final = 60.0
# An unknown route under a working link is a 404 whatever the session's state.
ROUTE_LEVEL_DENIALS: Final = frozenset(
    {
        Denial.NO_SESSION,
        Denial.OUT_OF_SCOPE,
        Denial.UNKNOWN_CAMERA,
        Denial.VIEWER_CAP,
        Denial.CAMERA_UNAVAILABLE,
    }
)
STREAM_WRITE_TIMEOUT: Final = 5.0
SNAPSHOT_FRESH: Final = 2.0
SNAPSHOT_WAIT: Final = 10.0
EVENTS_HEARTBEAT: Final = 5.0
DENIALS_REMEMBERED: Final = 10_000
# The kernel's send buffer for a stream. Autotuning would let a stalled viewer
# park megabytes in the kernel before the write timeout could notice; this is
# still several round trips of a phone on a cellular network at full rate.
# (Linux doubles what is set: about 512 KiB per stream at most.)
STREAM_SEND_BUFFER: Final = 256 * 1024

type Kind = Literal["html", "json"]


@dataclass(frozen=True, slots=True)
class Access:
    """A request the link allows: the agreement, the link, the client."""

    manager: AgreementManager
    link: ViewerLink
    address: str
    user_agent: str

    @property
    def actor(self) -> Actor:
        """Viewers are recorded by their link's label."""
        return Actor(ActorKind.VIEWER, self.link.id, self.link.label)


def deny(
    denial: Denial, kind: Kind = "json", retry_after: int | None = None
) -> web.HTTPException:
    """The HTTP error for a denial, with the security headers."""
    headers = dict(SECURITY_HEADERS)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if kind == "html":
        headers["Content-Security-Policy"] = NOTICE_POLICY
        return STATUS_FOR[denial](
            text=_denial_page(denial), content_type="text/html", headers=headers
        )
    return STATUS_FOR[denial](
        text=json.dumps({"error": denial.value}),
        content_type="application/json",
        headers=headers,
    )


def _denial_page(denial: Denial) -> str:
    waiting = denial is Denial.NO_SESSION
    message = {
        Denial.NO_SESSION: (
            "No emergency sharing is active right now. "
            "This page checks again every 15 seconds."
        ),
        Denial.LOCKED_OUT: "Too many failed attempts from this address. Try later.",
        Denial.VIEWER_CAP: "The agreement's limit of viewers is reached.",
    }.get(denial, "This link does not work (unknown, expired or revoked).")
    refresh = '<meta http-equiv="refresh" content="15">' if waiting else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"{refresh}<title>School cameras</title>"
        '<link rel=stylesheet href="' + STATIC_PREFIX + '/viewer.css"></head>'
        f"<body class=notice><main><h1>School cameras</h1><p role=status>{message}</p>"
        "</main></body></html>"
    )


class ViewerGate:
    """Decides every viewer request: lockout, link, session, scope, records."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Use the integration's shared data."""
        self.hass = hass
        self._recorded: dict[tuple[str, str, str], float] = {}

    @property
    def data(self) -> DomainData:
        """The integration's shared data."""
        return self.hass.data[DATA_DOMAIN]

    async def admit(
        self,
        request: web.Request,
        token: str,
        camera: str | None = None,
        *,
        kind: Kind = "json",
        allow: frozenset[Denial] = frozenset(),
    ) -> Access:
        """Return the access a request has, or raise the HTTP error that refuses it."""
        now = dt_util.utcnow()
        address = request.remote or "unknown"
        failures = self.data.failures
        if failures.is_locked(address, now):
            until = failures.locked_until(address, now)
            wait = int((until - now).total_seconds()) + 1 if until else 600
            raise deny(Denial.LOCKED_OUT, kind, retry_after=wait)
        found = self.data.find_link(token) if is_well_formed(token) else None
        if found is None:
            why = Denial.UNKNOWN if is_well_formed(token) else Denial.MALFORMED
            await self._fail(address, now, why, request)
            raise deny(why, kind)
        manager, link = found
        access = Access(
            manager, link, address, request.headers.get("User-Agent", "")[:200]
        )
        denial = manager.check_access(link.id, camera, now)
        if denial is not None and denial not in allow:
            self.record_denial(access, denial, camera, request.path)
            raise deny(denial, kind)
        return access

    async def _fail(
        self, address: str, now: datetime, why: Denial, request: web.Request
    ) -> None:
        """Count a failed credential; lock the address out at the limit."""
        locked = self.data.failures.record_failure(address, now)
        managers = list(self.data.managers.values())
        # The guess could have been aimed at any agreement: each log hears of it.
        for manager in managers:
            await manager.audit.async_record(
                AuditEvent.ACCESS_DENIED,
                None,
                {
                    "why": why.value,
                    "address": address,
                    "path": _redacted_path(request.path),
                    "user_agent": request.headers.get("User-Agent", "")[:200],
                },
            )
            if locked:
                await manager.audit.async_record(
                    AuditEvent.LOCKOUT,
                    None,
                    {
                        "address": address,
                        "failures": self.data.failures.limit,
                        "window_minutes": int(
                            self.data.failures.window.total_seconds() // 60
                        ),
                    },
                )
        if locked:
            _LOGGER.warning("Locked out %s after repeated bad viewer links", address)

    def record_denial(
        self, access: Access, denial: Denial, camera: str | None, path: str
    ) -> None:
        """Record a denial of a known link, once per window per link and address."""
        key = (access.link.id, access.address, denial.value)
        if not self._first_in_window(key, DENIAL_RECORD_INTERVAL):
            return
        self.record(
            access,
            AuditEvent.ACCESS_DENIED,
            {
                "why": denial.value,
                "camera": camera,
                "path": _redacted_path(path),
            },
        )

    def check_viewer_cap(self, access: Access, camera: str | None, path: str) -> None:
        """Refuse (429) one viewer more than the agreement allows."""
        if not access.manager.viewer_allowed(access.link.id, access.address):
            self.record_denial(access, Denial.VIEWER_CAP, camera, path)
            raise deny(Denial.VIEWER_CAP, retry_after=30)

    def record_snapshot(self, access: Access, camera: str) -> None:
        """Record snapshots once a minute per viewer and camera, not per request."""
        key = (access.link.id, access.address, f"snapshot:{camera}")
        if self._first_in_window(key, SNAPSHOT_RECORD_INTERVAL):
            self.record(access, AuditEvent.SNAPSHOT_VIEWED, {"camera": camera})

    def _first_in_window(self, key: tuple[str, str, str], interval: float) -> bool:
        now = time.monotonic()
        if now - self._recorded.get(key, -interval) < interval:
            return False
        if len(self._recorded) >= DENIALS_REMEMBERED:
            self._recorded.clear()
        self._recorded[key] = now
        return True

    def record(self, access: Access, event: AuditEvent, data: dict[str, Any]) -> None:
        """Record in the background: a disconnecting viewer cannot cancel it."""
        payload = {
            "link_id": access.link.id,
            "label": access.link.label,
            "address": access.address,
            "user_agent": access.user_agent,
            **data,
        }
        self.hass.async_create_background_task(
            access.manager.audit.async_record(event, access.actor, payload),
            f"{DOMAIN} audit {event.value}",
        )


def _redacted_path(path: str) -> str:
    """A request path with the token cut out: tokens are never logged."""
    if not path.startswith(URL_PREFIX + "/"):
        return path
    rest = path[len(URL_PREFIX) + 1 :]
    _token, sep, tail = rest.partition("/")
    return f"{URL_PREFIX}/<token>{sep}{tail}"


class _ViewerView(HomeAssistantView):
    """Base of the link views: no Home Assistant login, no CORS."""

    requires_auth = False
    cors_allowed = False

    def __init__(self, gate: ViewerGate) -> None:
        """Decide requests through `gate`."""
        self.gate = gate

    def register(
        self, hass: HomeAssistant, app: web.Application, router: web.UrlDispatcher
    ) -> None:
        """Add the routes with a handler that never logs the request path.

        Home Assistant's own wrapper logs every path at debug level; here the
        path holds the credential, and debug logs end up in bug reports.
        """
        assert self.url is not None  # noqa: S101 - every view sets one
        for method in ("get", "head", "post", "put", "delete", "patch"):
            if (handler := getattr(self, method, None)) is None:
                continue
            for url in (self.url, *self.extra_urls):
                router.add_route(method.upper(), url, _quiet_handler(hass, handler))


def _quiet_handler(
    hass: HomeAssistant, handler: Callable[..., Awaitable[web.StreamResponse]]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        if hass.is_stopping:
            raise web.HTTPServiceUnavailable(headers=SECURITY_HEADERS)
        return await handler(request, **request.match_info)

    return handle


class ViewerPageView(_ViewerView):
    """The viewer page (HTML, phone first)."""

    url = URL_PREFIX + "/{token}"
    name = f"api:{DOMAIN}:viewer"

    def __init__(self, gate: ViewerGate, page: str) -> None:
        """Serve `page`."""
        super().__init__(gate)
        self._page = page

    async def get(self, request: web.Request, token: str) -> web.Response:
        """The page; the token stays in the URL, the page fetches the rest."""
        access = await self.gate.admit(request, token, kind="html")
        self.gate.record(access, AuditEvent.PAGE_OPENED, {})
        return web.Response(
            text=self._page,
            content_type="text/html",
            headers={**SECURITY_HEADERS, "Content-Security-Policy": PAGE_POLICY},
        )


class ManifestView(_ViewerView):
    """A web app manifest, so a standing link can sit on a phone's home screen."""

    url = URL_PREFIX + "/{token}/manifest.webmanifest"
    name = f"api:{DOMAIN}:manifest"

    async def get(self, request: web.Request, token: str) -> web.Response:
        """The manifest works between sessions too: it shows nothing."""
        access = await self.gate.admit(
            request, token, allow=frozenset({Denial.NO_SESSION})
        )
        agreement = access.manager.agreement
        start = f"{URL_PREFIX}/{token}"
        manifest = {
            "name": f"{agreement.school} cameras",
            "short_name": "School cameras",
            "description": f"Emergency camera sharing with {agreement.agency}",
            "start_url": start,
            "scope": start,
            "display": "standalone",
            "background_color": "#000000",
            "theme_color": "#000000",
            "icons": [
                {
                    "src": f"{STATIC_PREFIX}/icon-192.png",
                    "sizes": "192x192",
                    "type": "image/png",
                },
                {
                    "src": f"{STATIC_PREFIX}/icon-512.png",
                    "sizes": "512x512",
                    "type": "image/png",
                },
            ],
        }
        return web.Response(
            text=json.dumps(manifest),
            content_type="application/manifest+json",
            headers=SECURITY_HEADERS,
        )


class CamerasView(_ViewerView):
    """The session and the cameras this link shows, grouped data for the page."""

    url = URL_PREFIX + "/{token}/cameras.json"
    name = f"api:{DOMAIN}:cameras"

    async def get(self, request: web.Request, token: str) -> web.Response:
        """Session summary and camera list."""
        access = await self.gate.admit(request, token)
        body = describe(self.gate.hass, access, token)
        return web.Response(
            text=json.dumps(body),
            content_type="application/json",
            headers=SECURITY_HEADERS,
        )


def describe(hass: HomeAssistant, access: Access, token: str) -> dict[str, Any]:
    """What a viewer may know: the session, the link and its cameras."""
    manager, link = access.manager, access.link
    agreement, session = manager.agreement, manager.session
    assert session is not None  # noqa: S101 - admitted requests have a session
    base = f"{URL_PREFIX}/{token}"
    entities, areas, floors = er.async_get(hass), ar.async_get(hass), fr.async_get(hass)
    cameras = []
    for camera in sorted(link.scope(manager.shared_cameras())):
        area = floor = None
        level: int | None = None
        if (entry := entities.async_get(camera)) is not None:
            area_id = entry.area_id
            if area_id is None and entry.device_id:
                device = dr.async_get(hass).async_get(entry.device_id)
                area_id = device.area_id if device else None
            if area_id and (area_entry := areas.async_get_area(area_id)):
                area = area_entry.name
                if area_entry.floor_id and (
                    floor_entry := floors.async_get_floor(area_entry.floor_id)
                ):
                    floor, level = floor_entry.name, floor_entry.level
        state = hass.states.get(camera)
        cameras.append(
            {
                "id": camera,
                "name": state.name if state else camera,
                "area": area,
                "floor": floor,
                "floor_level": level,
                "mjpeg": f"{base}/mjpeg/{camera}",
                "snapshot": f"{base}/snapshot/{camera}",
                "status": manager.streams.status(camera),
            }
        )
    return {
        "session": {
            "id": session.id,
            "state": session.state.value,
            "school": agreement.school,
            "agency": agreement.agency,
            "reason": session.reason,
            "incident_id": session.incident_id,
            "started_at": session.started_at.isoformat(),
            "expires_at": session.expires_at.isoformat(),
            "now": dt_util.utcnow().isoformat(),
            "link": {
                "label": link.label,
                "standing": link.standing,
                "expires_at": manager.link_expiry(link).isoformat(),
            },
        },
        "cameras": cameras,
    }


class MjpegView(_ViewerView):
    """A live camera as `multipart/x-mixed-replace`, one upstream for every viewer."""

    url = URL_PREFIX + "/{token}/mjpeg/{camera_id}"
    name = f"api:{DOMAIN}:mjpeg"

    async def get(
        self, request: web.Request, token: str, camera_id: str
    ) -> web.StreamResponse:
        """Stream until the viewer leaves or the link stops allowing it."""
        access = await self.gate.admit(request, token, camera_id)
        manager, link = access.manager, access.link
        self.gate.check_viewer_cap(access, camera_id, request.path)
        if manager.streams.status(camera_id) in (
            UNAVAILABLE,
            CameraStatus.OFFLINE.value,
        ):
            raise deny(Denial.CAMERA_UNAVAILABLE, retry_after=5)
        hub = manager.streams.hub(camera_id)
        subscription = hub.subscribe()
        conn = manager.open_connection(
            link, camera_id, access.address, access.user_agent, subscription.close
        )
        self.gate.record(access, AuditEvent.VIEW_STARTED, {"camera": camera_id})
        response = web.StreamResponse(
            headers={
                **SECURITY_HEADERS,
                "Content-Type": mjpeg.CONTENT_TYPE,
                "X-Accel-Buffering": "no",
            }
        )
        started = time.monotonic()
        reason, sent = "client_gone", 0
        try:
            _bound_send_buffer(request)
            await response.prepare(request)
            result = await mjpeg.stream(
                response,
                subscription,
                allowed=_still_allowed(request, manager, link.id, camera_id),
                write_timeout=STREAM_WRITE_TIMEOUT,
            )
            reason, sent = result.reason, result.frames_sent
            if reason == "write_timeout" and request.transport is not None:
                # A viewer that stopped reading keeps a full kernel queue for as
                # long as it holds the socket open; closing politely would wait
                # for it to drain. Let it go now.
                request.transport.abort()
        finally:
            subscription.close(reason)
            hub.unsubscribe(subscription)
            manager.close_connection(conn)
            self.gate.record(
                access,
                AuditEvent.VIEW_ENDED,
                {
                    "camera": camera_id,
                    "duration_s": round(time.monotonic() - started, 1),
                    "frames_sent": sent,
                    "reason": reason,
                },
            )
        return response


def _bound_send_buffer(request: web.Request) -> None:
    transport = request.transport
    sock = transport.get_extra_info("socket") if transport else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STREAM_SEND_BUFFER)


def _still_allowed(
    request: web.Request, manager: AgreementManager, link_id: str, camera: str | None
) -> Callable[[], bool]:
    """Re-checked before every frame: revocation and deadlines bite mid-stream."""

    def allowed() -> bool:
        transport = request.transport
        if transport is None or transport.is_closing():
            return False
        return manager.check_access(link_id, camera, dt_util.utcnow()) is None

    return allowed


class SnapshotView(_ViewerView):
    """One current JPEG, taken from the shared reader (no extra camera connection)."""

    url = URL_PREFIX + "/{token}/snapshot/{camera_id}"
    name = f"api:{DOMAIN}:snapshot"

    async def get(
        self, request: web.Request, token: str, camera_id: str
    ) -> web.Response:
        """The newest frame, if it is fresh, else the next one."""
        access = await self.gate.admit(request, token, camera_id)
        manager = access.manager
        if manager.streams.status(camera_id) == UNAVAILABLE:
            raise deny(Denial.CAMERA_UNAVAILABLE, retry_after=5)
        hub = manager.streams.hub(camera_id)
        frame = hub.last_frame
        if frame is None or time.time() - frame.captured_at > SNAPSHOT_FRESH:
            frame = await _next_frame(hub.subscribe, hub.unsubscribe)
        if frame is None:
            raise deny(Denial.CAMERA_UNAVAILABLE, retry_after=5)
        self.gate.record_snapshot(access, camera_id)
        return web.Response(
            body=frame.jpeg,
            content_type="image/jpeg",
            headers={
                **SECURITY_HEADERS,
                "X-Capture-Time": str(int(frame.captured_at * 1000)),
            },
        )


async def _next_frame(
    subscribe: Callable[[], Any], unsubscribe: Callable[[Any], None]
) -> Frame | None:
    subscription = subscribe()
    try:
        return await subscription.next_frame(timeout=SNAPSHOT_WAIT)  # type: ignore[no-any-return]
    except StreamClosed:
        return None
    finally:
        unsubscribe(subscription)


class EventsView(_ViewerView):
    """Server-sent session status; closes when the session ends."""

    url = URL_PREFIX + "/{token}/events"
    name = f"api:{DOMAIN}:events"

    async def get(self, request: web.Request, token: str) -> web.StreamResponse:
        """Send status on every change and a heartbeat; `ended` closes it."""
        access = await self.gate.admit(request, token)
        manager, link = access.manager, access.link
        self.gate.check_viewer_cap(access, None, request.path)
        changed = asyncio.Event()
        closed: list[str] = []

        def close(reason: str) -> None:
            closed.append(reason)
            changed.set()

        conn = manager.open_connection(
            link, None, access.address, access.user_agent, close
        )
        unlisten = manager.async_add_listener(changed.set)
        response = web.StreamResponse(
            headers={
                **SECURITY_HEADERS,
                "Content-Type": "text/event-stream",
                "X-Accel-Buffering": "no",
            }
        )
        try:
            await response.prepare(request)
            allowed = _still_allowed(request, manager, link.id, None)
            while not closed and allowed():
                changed.clear()
                await _send_event(
                    response, "status", describe(self.gate.hass, access, token)
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), EVENTS_HEARTBEAT)
            why = closed[0] if closed else "session_ended"
            session = manager.session
            ended = {
                "reason": why,
                # Lets the page say "the school ended sharing" or "time ran out".
                "session_end_reason": (
                    session.end_reason.value if session and session.end_reason else None
                ),
            }
            with contextlib.suppress(ConnectionError, RuntimeError):
                await _send_event(response, "ended", ended)
        except ConnectionError:
            pass
        finally:
            unlisten()
            manager.close_connection(conn)
        return response


async def _send_event(
    response: web.StreamResponse, event: str, data: dict[str, Any]
) -> None:
    payload = f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
    async with asyncio.timeout(STREAM_WRITE_TIMEOUT):
        await response.write(payload)


class StaticView(HomeAssistantView):
    """The page's script, style and icons (no token, nothing secret)."""

    url = STATIC_PREFIX + "/{name}"
    name = f"api:{DOMAIN}:static"
    requires_auth = False
    cors_allowed = False

    def __init__(self, files: dict[str, bytes]) -> None:
        """Serve the files read at start-up."""
        self._files = files

    async def get(self, request: web.Request, name: str) -> web.Response:
        """One asset."""
        if name not in self._files:
            raise web.HTTPNotFound(headers=SECURITY_HEADERS)
        return web.Response(
            body=self._files[name],
            content_type=STATIC_FILES[name].split(";")[0],
            charset="utf-8" if "charset" in STATIC_FILES[name] else None,
            headers=SECURITY_HEADERS,
        )


class FallbackView(_ViewerView):
    """Any other path under the prefix: 401 for a bad link, else 404."""

    url = URL_PREFIX + "/{token}/{tail:.*}"
    extra_urls = [URL_PREFIX, URL_PREFIX + "/"]  # noqa: RUF012 - aiohttp-style class data
    name = f"api:{DOMAIN}:fallback"

    async def get(
        self, request: web.Request, token: str = "", tail: str = ""
    ) -> web.Response:
        """Refuse: 401 for a link that does not work, else 404."""
        await self.gate.admit(request, token, allow=ROUTE_LEVEL_DENIALS)
        raise web.HTTPNotFound(
            text=json.dumps({"error": "not_found"}),
            content_type="application/json",
            headers=SECURITY_HEADERS,
        )

    head = post = put = delete = patch = get


def _read_assets() -> tuple[str, dict[str, bytes]]:
    page = (VIEWER_DIR / "index.html").read_text(encoding="utf-8")
    files = {
        name: (VIEWER_DIR / name).read_bytes()
        for name in STATIC_FILES
        if (VIEWER_DIR / name).exists()
    }
    return page, files


async def async_register_views(hass: HomeAssistant) -> None:
    """Register the viewer views once, for every agreement."""
    page, files = await hass.async_add_executor_job(_read_assets)
    gate = ViewerGate(hass)
    for view in (
        ViewerPageView(gate, page),
        ManifestView(gate),
        CamerasView(gate),
        MjpegView(gate),
        SnapshotView(gate),
        EventsView(gate),
        FallbackView(gate),
    ):
        hass.http.register_view(view)
    hass.http.register_view(StaticView(files))
