"""The live streams a link opens: MJPEG, MP4 and snapshots.

Each stream is registered as a viewer connection so a decision can close it
mid-stream, re-checks the link before every write, and ends a viewer that
stops reading after `STREAM_WRITE_TIMEOUT`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
import socket
import time
from typing import Any, Final

from aiohttp import web
from homeassistant.util import dt as dt_util

from ..camera_streams import UNAVAILABLE
from ..const import DOMAIN, URL_PREFIX
from ..core.events import AuditEvent
from ..core.links import Denial
from ..manager import AgreementManager
from ..media import (
    CameraStatus,
    Frame,
    StreamClosed,
    StreamResult,
    Subscription,
    mjpeg,
    mp4,
)
from .gate import Access
from .responses import SECURITY_HEADERS, deny, refuse
from .routing import ViewerView

STREAM_WRITE_TIMEOUT: Final = 5.0
SNAPSHOT_FRESH: Final = 2.0
SNAPSHOT_WAIT: Final = 10.0
# The kernel's send buffer for a stream. Autotuning would let a stalled viewer
# park megabytes in the kernel before the write timeout could notice; this is
# still several round trips of a phone on a cellular network at full rate.
# (Linux doubles what is set: about 512 KiB per stream at most.)
STREAM_SEND_BUFFER: Final = 256 * 1024


@dataclass(frozen=True, slots=True)
class LiveFormat:
    """One way a camera is streamed live: its hub, its writer, its type."""

    name: str
    content_type: str
    subscribe: Callable[[AgreementManager, str], Subscription[Any]]
    serve: Callable[..., Awaitable[StreamResult]]
    available: Callable[[AgreementManager, str], bool] = lambda _m, _c: True
    """Whether the camera can be streamed this way at all (else 404)."""


def _subscribe_jpeg(manager: AgreementManager, camera: str) -> Subscription[Any]:
    return manager.streams.hub(camera).subscribe()


def _subscribe_mp4(manager: AgreementManager, camera: str) -> Subscription[Any]:
    return manager.streams.mp4_hub(camera).subscribe()


def _mp4_available(manager: AgreementManager, camera: str) -> bool:
    return manager.streams.mp4_available(camera)


MJPEG: Final = LiveFormat("mjpeg", mjpeg.CONTENT_TYPE, _subscribe_jpeg, mjpeg.stream)
MP4: Final = LiveFormat(
    "mp4", mp4.CONTENT_TYPE, _subscribe_mp4, mp4.stream, _mp4_available
)


class LiveStreamView(ViewerView):
    """A live camera stream, one upstream for every viewer: the gate, then frames.

    Every format is let in, recorded, registered (so a decision can close it
    mid-stream), re-checked before each write and recorded as ended the same
    way; only the hub and the writer differ (`LiveFormat`).
    """

    live_format: LiveFormat

    async def get(
        self, request: web.Request, token: str, camera_id: str
    ) -> web.StreamResponse:
        """Stream until the viewer leaves or the link stops allowing it."""
        live = self.live_format
        access = await self.gate.admit(request, token, camera_id)
        manager, link = access.manager, access.link
        self.gate.check_limits(access, camera_id, request.path)
        if manager.streams.status(camera_id) in (
            UNAVAILABLE,
            CameraStatus.OFFLINE.value,
        ):
            raise deny(Denial.CAMERA_UNAVAILABLE, retry_after=5)
        if not live.available(manager, camera_id):
            raise refuse(404, f"no_{live.name}_stream")
        await self.gate.admit_viewing(
            access, AuditEvent.VIEW_STARTED, {"camera": camera_id}
        )
        recheck(access, camera_id)
        subscription = live.subscribe(manager, camera_id)
        conn = manager.connections.open(
            link, camera_id, access.address, access.user_agent, subscription.close
        )
        response = web.StreamResponse(
            headers={
                **SECURITY_HEADERS,
                "Content-Type": live.content_type,
                "X-Accel-Buffering": "no",
            }
        )
        permitted = still_allowed(request, manager, link.id, camera_id)

        def allowed() -> bool:
            return permitted() and live.available(manager, camera_id)

        started = time.monotonic()
        reason, sent = "client_gone", 0
        try:
            bound_send_buffer(request)
            await response.prepare(request)
            result = await live.serve(
                response,
                subscription,
                allowed=allowed,
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
            manager.connections.forget(conn)
            self.gate.record(
                access,
                AuditEvent.VIEW_ENDED,
                {
                    "camera": camera_id,
                    "format": live.name,
                    "duration_s": round(time.monotonic() - started, 1),
                    "frames_sent": sent,
                    "reason": reason,
                },
                keep=True,
            )
        return response


class MjpegView(LiveStreamView):
    """A live camera as `multipart/x-mixed-replace`, one upstream for every viewer."""

    url = URL_PREFIX + "/{token}/mjpeg/{camera_id}"
    name = f"api:{DOMAIN}:mjpeg"
    live_format = MJPEG


class Mp4View(LiveStreamView):
    """A live camera as fragmented MP4: its H.264 passed through, never decoded."""

    url = URL_PREFIX + "/{token}/mp4/{camera_id}"
    name = f"api:{DOMAIN}:mp4"
    live_format = MP4


def recheck(access: Access, camera: str | None) -> None:
    """Refuse if access ended while the request waited (a record, a frame)."""
    denial = access.manager.check_access(access.link.id, camera, dt_util.utcnow())
    if denial is not None:
        raise deny(denial)


def bound_send_buffer(request: web.Request) -> None:
    """Cap the kernel's send queue of a stream (see `STREAM_SEND_BUFFER`)."""
    transport = request.transport
    sock = transport.get_extra_info("socket") if transport else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STREAM_SEND_BUFFER)


def still_allowed(
    request: web.Request, manager: AgreementManager, link_id: str, camera: str | None
) -> Callable[[], bool]:
    """Re-checked before every frame: revocation and deadlines bite mid-stream."""

    def allowed() -> bool:
        transport = request.transport
        if transport is None or transport.is_closing():
            return False
        return manager.check_access(link_id, camera, dt_util.utcnow()) is None

    return allowed


class SnapshotView(ViewerView):
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
        await self.gate.admit_snapshot(access, camera_id)
        hub = manager.streams.hub(camera_id)
        frame = hub.last_frame
        if frame is None or time.time() - frame.captured_at > SNAPSHOT_FRESH:
            frame = await _next_frame(hub.subscribe, hub.unsubscribe)
        # Access may have ended while the next frame was awaited.
        recheck(access, camera_id)
        if frame is None:
            raise deny(Denial.CAMERA_UNAVAILABLE, retry_after=5)
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
