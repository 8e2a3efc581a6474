"""The test bed's own tests: its cameras on loopback."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """Let tests open sockets; pytest-socket still allows only 127.0.0.1."""
