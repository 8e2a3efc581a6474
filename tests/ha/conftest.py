"""Fixtures for tests that run the integration inside Home Assistant."""

from tests.support.in_hass import (  # noqa: F401 - fixtures
    auto_enable_custom_integrations,
    cameras,
    client,
    config_dir,
)
