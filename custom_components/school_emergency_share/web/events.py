"""Session status pushed to the officer's page, as server-sent events.

A standing link may hold the stream while no session is active: the page
learns the moment sharing starts (and how its police request is answered)
instead of asking every few seconds. Once a session it saw has ended, the
stream says `ended` and closes, like every other stream of that session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, Final

from aiohttp import web
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, URL_PREFIX
from ..core.links import Denial
from .catalog import describe
from .responses import SECURITY_HEADERS
from .routing import ViewerView
from .streams import STREAM_WRITE_TIMEOUT

EVENTS_HEARTBEAT: Final = 5.0
WAITING: Final = frozenset({Denial.NO_SESSION})


class EventsView(ViewerView):
    """Server-sent status; a standing link's stream also waits for a session."""

    url = URL_PREFIX + "/{token}/events"
    name = f"api:{DOMAIN}:events"

    async def get(self, request: web.Request, token: str) -> web.StreamResponse:
        """Status on every change and a heartbeat; `ended` closes it."""
        access = await self.gate.admit(request, token, allow=WAITING)
        manager, link = access.manager, access.link
        self.gate.check_limits(access, None, request.path)
        changed = asyncio.Event()
        closed: list[str] = []

        def close(reason: str) -> None:
            closed.append(reason)
            changed.set()

        conn = manager.connections.open(
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
            saw_session = False
            while not closed:
                transport = request.transport
                if transport is None or transport.is_closing():
                    break
                denial = manager.check_access(link.id, None, dt_util.utcnow())
                saw_session = saw_session or denial is None
                if denial is not None and (saw_session or denial not in WAITING):
                    break
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
            manager.connections.forget(conn)
        return response


async def _send_event(
    response: web.StreamResponse, event: str, data: dict[str, Any]
) -> None:
    payload = f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
    async with asyncio.timeout(STREAM_WRITE_TIMEOUT):
        await response.write(payload)
