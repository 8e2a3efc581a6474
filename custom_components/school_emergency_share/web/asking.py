"""`POST {link}/request`: an officer with a standing link asks for sharing.

Only a standing link may ask, only while no session is active, one request
at a time (409 otherwise). The body is small JSON, `{"reason", "officer"}`;
anything else is a 400, never a 5xx. A link may ask a few times from one
address, not in a loop: the people who answer are busy in an emergency.
"""

from __future__ import annotations

from collections import deque
import json
import time
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from homeassistant.exceptions import ServiceValidationError

from ..const import DOMAIN, URL_PREFIX
from ..core.errors import RefusalCode
from ..core.links import Denial
from ..core.requests import OFFICER_MAX, REASON_MAX
from .responses import json_response, refuse
from .routing import ViewerView

if TYPE_CHECKING:
    from .gate import ViewerGate

BODY_MAX: Final = 2048
# Requests per link and address: at most this many in this many seconds.
ASKS_PER_WINDOW: Final = 3
ASK_WINDOW: Final = 600.0
ASKERS_REMEMBERED: Final = 10_000
STATUS_FOR_REFUSAL: Final = {
    RefusalCode.ALREADY_ACTIVE.value: 409,
    RefusalCode.REQUEST_PENDING.value: 409,
    RefusalCode.REQUEST_NEEDS_STANDING_LINK.value: 403,
    RefusalCode.AGREEMENT_NOT_IN_FORCE.value: 403,
    RefusalCode.REASON_REQUIRED.value: 400,
}


class RequestView(ViewerView):
    """An officer's request for sharing."""

    url = URL_PREFIX + "/{token}/request"
    name = f"api:{DOMAIN}:request"

    def __init__(self, gate: ViewerGate) -> None:
        """Decide through `gate`; remember who asked when, for the rate limit."""
        super().__init__(gate)
        self._asked: dict[tuple[str, str], deque[float]] = {}

    async def post(self, request: web.Request, token: str) -> web.Response:
        """202 with the request's id, or the refusal."""
        access = await self.gate.admit(
            request, token, allow=frozenset({Denial.NO_SESSION})
        )
        if not access.link.standing:
            raise refuse(403, RefusalCode.REQUEST_NEEDS_STANDING_LINK.value)
        if not self._may_ask((access.link.id, access.address)):
            raise refuse(429, "too_many_requests", **{"Retry-After": "60"})
        reason, officer = await _read(request)
        try:
            asked = await access.manager.async_ask(
                access.actor, access.link.id, officer=officer, reason=reason
            )
        except ServiceValidationError as err:
            key = str(err.translation_key)
            raise refuse(STATUS_FOR_REFUSAL.get(key, 403), key) from err
        return json_response({"request_id": asked.id, **asked.public()}, status=202)

    def _may_ask(self, asker: tuple[str, str]) -> bool:
        asked = self._asked
        now = time.monotonic()
        recent = asked.setdefault(asker, deque(maxlen=ASKS_PER_WINDOW))
        while recent and recent[0] <= now - ASK_WINDOW:
            recent.popleft()
        if len(recent) >= ASKS_PER_WINDOW:
            return False
        if len(asked) > ASKERS_REMEMBERED:
            asked.clear()
            asked[asker] = recent
        recent.append(now)
        return True


async def _read(request: web.Request) -> tuple[str, str]:
    """The reason and officer from a small JSON body; 400 for anything else."""
    if request.content_type != "application/json":
        raise refuse(400, "json_required")
    if request.content_length is not None and request.content_length > BODY_MAX:
        raise refuse(400, "body_too_large")
    body = await request.content.read(BODY_MAX + 1)
    if len(body) > BODY_MAX:
        raise refuse(400, "body_too_large")
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise refuse(400, "not_json") from err
    if not isinstance(data, dict):
        raise refuse(400, "not_an_object")
    reason, officer = data.get("reason"), data.get("officer", "")
    if not isinstance(reason, str) or not reason.strip():
        raise refuse(400, "reason_required")
    if not isinstance(officer, str):
        raise refuse(400, "officer_not_text")
    if len(reason) > REASON_MAX or len(officer) > OFFICER_MAX:
        raise refuse(400, "field_too_long")
    return reason, officer
