"""Fixtures for the audit tests: a fake clock and a journal in a temporary folder."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from custom_components.school_emergency_share.audit import Journal

from .support import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """One second per reading, from 2026-03-02 08:00 UTC."""
    return FakeClock()


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    """Where an agreement's log lives, in a folder that does not exist yet."""
    return tmp_path / "school_emergency_share" / "entry-1.jsonl"


@pytest.fixture
def journal(log_path: Path, clock: FakeClock) -> Generator[Journal]:
    """An opened journal, closed afterwards."""
    opened = Journal(log_path, clock=clock)
    opened.open()
    yield opened
    opened.close()
