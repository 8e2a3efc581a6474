"""What a viewer request is answered with: headers, refusals, notice pages.

Refusals are answered, not raised through aiohttp. Home Assistant's ban
middleware takes every `HTTPUnauthorized` that leaves a handler for a failed
login: it logs the requested URL (here, the credential), tells every user of a
"Login attempt failed" and may ban the address from all of Home Assistant, a
dispatch centre whose old tabs retry a revoked link. A `Denied` carries the
response instead, and the route handler (`routing`) returns it.
"""

from __future__ import annotations

import json
from typing import Any, Final, Literal

from aiohttp import web

from ..const import DOMAIN
from ..core.links import Denial

STATIC_PREFIX: Final = f"/api/{DOMAIN}/static"
SECURITY_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}
PAGE_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; "
    "manifest-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
NOTICE_POLICY: Final = "default-src 'none'; style-src 'self'; frame-ancestors 'none'"
STATUS_FOR: Final = {
    Denial.MALFORMED: 401,
    Denial.UNKNOWN: 401,
    Denial.REVOKED: 401,
    Denial.EXPIRED: 401,
    Denial.NO_SESSION: 403,
    Denial.OUT_OF_SCOPE: 403,
    Denial.UNKNOWN_CAMERA: 404,
    Denial.LOCKED_OUT: 429,
    Denial.VIEWER_CAP: 429,
    Denial.STREAM_CAP: 429,
    Denial.CAMERA_UNAVAILABLE: 503,
    Denial.AUDIT_UNAVAILABLE: 503,
}

type Kind = Literal["html", "json"]


class Denied(Exception):  # noqa: N818 - an answer, not a failure
    """A refused request; `response` is what the viewer gets."""

    def __init__(self, response: web.Response) -> None:
        """Carry the response to the route handler."""
        super().__init__(response.status)
        self.response = response


def json_response(body: Any, *, status: int = 200, **headers: str) -> web.Response:
    """JSON with the security headers."""
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type="application/json",
        headers={**SECURITY_HEADERS, **headers},
    )


def refuse(status: int, error: str, **headers: str) -> Denied:
    """A JSON refusal with `status`, ready to raise."""
    return Denied(json_response({"error": error}, status=status, **headers))


def deny(denial: Denial, kind: Kind = "json", retry_after: int | None = None) -> Denied:
    """The refusal for a denial, as JSON or as a notice page."""
    headers: dict[str, str] = {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    status = STATUS_FOR[denial]
    if kind == "html":
        return Denied(
            web.Response(
                status=status,
                text=_notice_page(denial),
                content_type="text/html",
                headers={
                    **SECURITY_HEADERS,
                    **headers,
                    "Content-Security-Policy": NOTICE_POLICY,
                },
            )
        )
    return refuse(status, denial.value, **headers)


def _notice_page(denial: Denial) -> str:
    waiting = denial is Denial.NO_SESSION
    message = {
        Denial.NO_SESSION: (
            "No emergency sharing is active right now. "
            "This page checks again every 15 seconds."
        ),
        Denial.LOCKED_OUT: "Too many failed attempts from this address. Try later.",
        Denial.VIEWER_CAP: "The agreement's limit of viewers is reached.",
        Denial.AUDIT_UNAVAILABLE: (
            "Access cannot be recorded right now, so it is not given. Try again."
        ),
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
