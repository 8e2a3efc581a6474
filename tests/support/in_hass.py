"""Fixtures for every test that runs the integration inside Home Assistant.

Imported into the conftest of each such folder (tests/ha, tests/blueprints,
tests/browser), so that pure tests never start Home Assistant.
"""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
import pytest

from tests.ha.common import StillCamera, async_setup_cameras


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
