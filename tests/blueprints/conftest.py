"""Fixtures for the blueprint tests: the integration, its cameras, a config folder."""

from tests.support.in_hass import (  # noqa: F401 - fixtures
    auto_enable_custom_integrations,
    cameras,
    config_dir,
)
