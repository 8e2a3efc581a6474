"""How the viewer's routes reach aiohttp: a handler that keeps the token quiet.

Home Assistant's own route wrapper (`HomeAssistantView.register` with
`request_handler_factory`) logs every request path at debug level, and debug
logs end up in bug reports; here the path holds the credential. The views
register their own handler instead, which also turns a `Denied` into the
response it carries. `tests/ha/test_routing.py` pins the Home Assistant
signature this relies on, so an upgrade that changes it fails loudly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView

from .responses import Denied, refuse

if TYPE_CHECKING:
    from .gate import ViewerGate

METHODS: Final = ("get", "head", "post", "put", "delete", "patch")

type Handler = Callable[..., Awaitable[web.StreamResponse]]


class ViewerView(HomeAssistantView):
    """Base of the link views: no Home Assistant login, no CORS, quiet routes."""

    requires_auth = False
    cors_allowed = False

    def __init__(self, gate: ViewerGate) -> None:
        """Decide requests through `gate`."""
        self.gate = gate

    def register(
        self, hass: HomeAssistant, app: web.Application, router: web.UrlDispatcher
    ) -> None:
        """Add the routes with a handler that never logs the request path."""
        assert self.url is not None  # noqa: S101 - every view sets one
        for method in METHODS:
            if (handler := getattr(self, method, None)) is None:
                continue
            for url in (self.url, *self.extra_urls):
                router.add_route(method.upper(), url, quiet_handler(hass, handler))


def quiet_handler(
    hass: HomeAssistant, handler: Handler
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Call `handler` with the path's parts; answer a `Denied` with its response."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            if hass.is_stopping:
                raise refuse(503, "stopping")
            return await handler(request, **request.match_info)
        except Denied as denied:
            return denied.response

    return handle
