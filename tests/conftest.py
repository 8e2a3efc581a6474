"""Fixtures and options shared by every test.

`--soak` runs the long tests marked `soak` (skipped otherwise). Tests marked
`realhass` start a real Home Assistant from the current environment and are
skipped when `SES_TEST_ENV=minimum` (scripts/test sets it); tests/browser is
not collected where Playwright is not installed.

Deprecations: a DeprecationWarning attributed to our code is an error
(pyproject.toml `filterwarnings`); Home Assistant reports a custom integration's
use of deprecated APIs in its log instead, and `no_deprecated_use` fails the
test that caused such a report.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.util import find_spec
import logging
import os
import re
from typing import Final

import pytest

# The browser tests need Playwright, which only the current environment
# installs (they are skipped everywhere else: tests/browser/conftest.py).
PLAYWRIGHT: Final = find_spec("playwright") is not None
collect_ignore = [] if PLAYWRIGHT else ["browser"]

DOMAIN: Final = "school_emergency_share"
# helpers/frame.py: "Detected that custom integration 'x' <what>..." (2025.4 and
# 2026.10); helpers/deprecation.py: "<name> was used from x, this is a deprecated
# <kind>..." (2025.4), "The deprecated <kind> <name> was used from x. ..." (2026.10).
HA_DEPRECATION_REPORT: Final = re.compile(
    rf"^Detected that custom integration '{DOMAIN}' "
    rf"| from {DOMAIN}, this is a deprecated "
    rf"|^The deprecated .* from {DOMAIN}\."
)


class _Reports(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if HA_DEPRECATION_REPORT.search(message):
            self.messages.append(message)


@pytest.fixture(autouse=True)
def no_deprecated_use() -> Iterator[None]:
    """Fail a test during which Home Assistant reported a deprecated use of ours."""
    reports = _Reports()
    root = logging.getLogger()
    root.addHandler(reports)
    try:
        yield
    finally:
        root.removeHandler(reports)
    if reports.messages:
        pytest.fail("Home Assistant reported:\n" + "\n".join(reports.messages))


def pytest_report_header() -> list[str]:
    """Say when the browser tests are not even collected."""
    if PLAYWRIGHT:
        return []
    return ["tests/browser: not collected (Playwright: current environment only)"]


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
