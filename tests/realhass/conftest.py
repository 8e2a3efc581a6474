"""A real Home Assistant process per module, driven only through its APIs.

Each module gets its own `python -m homeassistant` (`site.running_site`: a
temporary config dir, 127.0.0.1, a free port, the repository's integration on
`PYTHONPATH`) with a demo MJPEG camera added through core's `mjpeg` config flow
and one agreement over it; a module may set `AGREEMENT` (options for
`Deployment.add_agreement`). Tests restart, SIGTERM and SIGKILL it, kill its
ffmpeg readers and attack its viewer routes.

pytest-homeassistant-custom-component's plugin is loaded in this run. Its
per-test checks are for an in-process `hass` on the test's own loop (lingering
tasks and timers, the loop's executor shut down after every test) and would
break a client that lives for a whole module, so they are switched off here;
nothing here uses its `hass` fixture. Its socket allow-list (127.0.0.1 only)
stays: every connection here goes to 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import pytest_socket

from .site import Site, running_site


@pytest.fixture(autouse=True)
def verify_cleanup() -> None:
    """Nothing of the Home Assistant under test runs in this process."""


@pytest.fixture(autouse=True)
def enable_event_loop_debug() -> None:
    """Keep the loop as fast as a real viewer's (no debug mode)."""


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """Let the tests open sockets (still to 127.0.0.1 only)."""


@pytest.fixture(scope="module", autouse=True)
def module_sockets() -> None:
    """Sockets for the module's Home Assistant, set up before any test's own.

    Module fixtures are set up before function ones such as `socket_enabled`,
    after the plugin has blocked sockets for the test about to run.
    """
    pytest_socket.enable_socket()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Site]:
    """This module's Home Assistant, camera and agreement (`HTTP`, `CAMERA_SIZE`)."""
    options = getattr(request.module, "AGREEMENT", {})
    http = getattr(request.module, "HTTP", None)
    size = getattr(request.module, "CAMERA_SIZE", "320x180")
    workdir = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    async with running_site(workdir, http, size, **options) as running:
        yield running
