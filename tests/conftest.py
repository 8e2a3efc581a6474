"""Fixtures and options shared by every test.

`--soak` runs the long tests marked `soak` (skipped otherwise). Tests marked
`realhass` start a real Home Assistant from the current environment and are
skipped when `SES_TEST_ENV=minimum` (scripts/test sets it).
"""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--soak`: also run the soak tests."""
    parser.addoption(
        "--soak",
        action="store_true",
        default=False,
        help="run the long soak tests (marked soak)",
    )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Skip soak tests without --soak, and real-HA tests outside `current`."""
    soak = config.getoption("--soak")
    minimum = os.environ.get("SES_TEST_ENV") == "minimum"
    for item in items:
        if item.get_closest_marker("soak") and not soak:
            item.add_marker(pytest.mark.skip(reason="soak test: run with --soak"))
        if item.get_closest_marker("realhass") and minimum:
            item.add_marker(
                pytest.mark.skip(reason="real Home Assistant: current environment only")
            )
