"""The police viewer's HTTP side, under `/api/school_emergency_share/view/{token}`.

The link in the path is the only credential: no Home Assistant login. Views
are registered once for all agreements and decide every request afresh
through the `gate`. Refusals are answered as responses (`responses`), never
raised through Home Assistant's middlewares, and nothing a client sends can
produce a 5xx.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from .asking import RequestView
from .events import EventsView
from .gate import ViewerGate
from .pages import (
    CamerasView,
    FallbackView,
    ManifestView,
    StaticView,
    ViewerPageView,
    read_assets,
)
from .streams import MjpegView, Mp4View, SnapshotView


async def async_register_views(hass: HomeAssistant) -> None:
    """Register the viewer views once, for every agreement."""
    page, files = await hass.async_add_executor_job(read_assets)
    gate = ViewerGate(hass)
    for view in (
        ViewerPageView(gate, page),
        ManifestView(gate),
        CamerasView(gate),
        MjpegView(gate),
        Mp4View(gate),
        SnapshotView(gate),
        EventsView(gate),
        RequestView(gate),
        FallbackView(gate),
    ):
        hass.http.register_view(view)
    hass.http.register_view(StaticView(files))
