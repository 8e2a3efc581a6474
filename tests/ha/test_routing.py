"""The Home Assistant internals the viewer's routes rely on, pinned.

The viewer views replace `HomeAssistantView.register` so that Home Assistant's
own request wrapper, which logs every path (here, the credential) at debug
level, never sees a viewer request. If an upgrade changes how views are
registered, these fail before a token can reach a log.
"""

from __future__ import annotations

import inspect

from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.setup import async_setup_component

from custom_components.school_emergency_share.web.routing import ViewerView


def test_register_keeps_the_signature_the_viewer_views_override() -> None:
    """`register(hass, app, router)`, as `ViewerView.register` defines it."""
    ours = inspect.signature(ViewerView.register)
    theirs = inspect.signature(HomeAssistantView.register)

    assert list(theirs.parameters) == ["self", "hass", "app", "router"]
    assert list(ours.parameters) == list(theirs.parameters)


async def test_home_assistant_registers_a_view_by_calling_its_register(
    hass: HomeAssistant,
) -> None:
    """`hass.http.register_view` hands the view its router: ours is used."""
    assert await async_setup_component(hass, "http", {})
    source = inspect.getsource(type(hass.http).register_view)

    assert "view.register(" in source


def test_the_viewer_views_never_use_home_assistants_request_wrapper() -> None:
    """`request_handler_factory` (which logs the path) is not called by ours."""
    source = inspect.getsource(ViewerView.register)

    assert "request_handler_factory" not in source
    assert "request_handler_factory" in inspect.getsource(HomeAssistantView.register)
