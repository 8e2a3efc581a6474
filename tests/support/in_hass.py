"""Fixtures for every test that runs the integration inside Home Assistant.

Imported into the conftest of each such folder (tests/ha, tests/blueprints,
tests/browser), so that pure tests never start Home Assistant.
"""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.school_emergency_share.const import DOMAIN
from tests.ha.common import StillCamera, async_setup_cameras
from tests.ha.viewing import Client


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from this repository."""
    return


@pytest.fixture(autouse=True)
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Each test writes its audit logs and blueprints in its own folder."""
    hass.config.config_dir = str(tmp_path)
    return tmp_path


@pytest.fixture
async def cameras(hass: HomeAssistant) -> dict[str, StillCamera]:
    """The test school's cameras, in areas on floors."""
    return await async_setup_cameras(hass)


@pytest.fixture
async def client(
    hass: HomeAssistant,
    cameras: dict[str, StillCamera],
    hass_client_no_auth: ClientSessionGenerator,
) -> Client:
    """An HTTP client with no Home Assistant login, like a police phone.

    Everything that registers routes is set up first: older Home Assistant
    test servers freeze the router once a client exists.
    """
    assert await async_setup_component(hass, DOMAIN, {})
    client: Client = await hass_client_no_auth()
    return client
