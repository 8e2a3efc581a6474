"""The viewer page, its manifest, the camera list, its assets and the 404s."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Final

from aiohttp import web
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, URL_PREFIX
from ..core.events import AuditEvent
from ..core.links import Denial
from .catalog import describe
from .responses import (
    PAGE_POLICY,
    SECURITY_HEADERS,
    STATIC_PREFIX,
    json_response,
    refuse,
)
from .routing import ViewerView

if TYPE_CHECKING:
    from .gate import ViewerGate

VIEWER_DIR: Final = Path(__file__).parent.parent / "viewer"
# The page's script modules; index.html preloads them all (one round trip).
VIEWER_MODULES: Final = (
    "viewer",
    "tile",
    "player",
    "wire",
    "words",
    "grouping",
    "asking",
    "fullscreen",
)
STATIC_FILES: Final = {
    **{f"{module}.js": "text/javascript; charset=utf-8" for module in VIEWER_MODULES},
    "viewer.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
    "icon-192.png": "image/png",
    "icon-512.png": "image/png",
}
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


class ViewerPageView(ViewerView):
    """The viewer page (HTML, phone first)."""

    url = URL_PREFIX + "/{token}"
    name = f"api:{DOMAIN}:viewer"

    def __init__(self, gate: ViewerGate, page: str) -> None:
        """Serve `page`."""
        super().__init__(gate)
        self._page = page

    async def get(self, request: web.Request, token: str) -> web.Response:
        """The page; the token stays in the URL, the page fetches the rest.

        A standing link's page is served while nothing is shared, still as a
        403 (no session): it waits for one on the events stream, turns live
        the moment it starts, and offers to ask for one.
        """
        access = await self.gate.admit(
            request, token, kind="html", allow=frozenset({Denial.NO_SESSION})
        )
        waiting = access.manager.check_access(access.link.id, None, dt_util.utcnow())
        self.gate.record(
            access,
            AuditEvent.PAGE_OPENED,
            {"waiting": True} if waiting is not None else {},
        )
        return web.Response(
            status=403 if waiting is not None else 200,
            text=self._page,
            content_type="text/html",
            headers={**SECURITY_HEADERS, "Content-Security-Policy": PAGE_POLICY},
        )


class ManifestView(ViewerView):
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


class CamerasView(ViewerView):
    """The session and the cameras this link shows, grouped data for the page."""

    url = URL_PREFIX + "/{token}/cameras.json"
    name = f"api:{DOMAIN}:cameras"

    async def get(self, request: web.Request, token: str) -> web.Response:
        """Session summary and camera list."""
        access = await self.gate.admit(request, token)
        return json_response(describe(self.gate.hass, access, token))


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
            return json_response({"error": "not_found"}, status=404)
        return web.Response(
            body=self._files[name],
            content_type=STATIC_FILES[name].split(";")[0],
            charset="utf-8" if "charset" in STATIC_FILES[name] else None,
            headers=SECURITY_HEADERS,
        )


class FallbackView(ViewerView):
    """Any other path under the prefix: 401 for a bad link, else 404."""

    url = URL_PREFIX + "/{token}/{tail:.*}"
    extra_urls = [URL_PREFIX, URL_PREFIX + "/"]  # noqa: RUF012 - aiohttp-style class data
    name = f"api:{DOMAIN}:fallback"

    async def get(
        self, request: web.Request, token: str = "", tail: str = ""
    ) -> web.Response:
        """Refuse: 401 for a link that does not work, else 404."""
        await self.gate.admit(request, token, allow=ROUTE_LEVEL_DENIALS)
        raise refuse(404, "not_found")

    head = post = put = delete = patch = get


def read_assets() -> tuple[str, dict[str, bytes]]:
    """The page and its static files, read once at start-up (blocking)."""
    page = (VIEWER_DIR / "index.html").read_text(encoding="utf-8")
    files = {
        name: (VIEWER_DIR / name).read_bytes()
        for name in STATIC_FILES
        if (VIEWER_DIR / name).exists()
    }
    return page, files
