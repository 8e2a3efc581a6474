"""Place the shipped blueprints in the user's `blueprints/` folder.

A file already there is never overwritten: it may hold the user's edits.
"""

from __future__ import annotations

import logging
from pathlib import Path
import shutil
from typing import Final

from homeassistant.core import HomeAssistant

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

SHIPPED: Final = Path(__file__).parent / "blueprints"


def _install(config_dir: Path) -> list[str]:
    target = config_dir / "blueprints" / "automation" / DOMAIN
    installed = []
    for source in sorted(SHIPPED.glob("*.yaml")):
        destination = target / source.name
        if destination.exists():
            continue
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        installed.append(source.name)
    return installed


async def async_install_blueprints(hass: HomeAssistant) -> list[str]:
    """Copy blueprints that are not there yet; returns what was copied."""
    installed = await hass.async_add_executor_job(
        _install, Path(hass.config.config_dir)
    )
    if installed:
        _LOGGER.info("Installed blueprints: %s", ", ".join(installed))
    return installed
