"""The CSV export is safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from custom_components.school_emergency_share.audit import Journal


def test_csv_cells_that_look_like_formulas_are_neutralised(tmp_path: Path) -> None:
    """A label such as `=HYPERLINK(...)` arrives as text, not as a formula."""
    journal = Journal(
        tmp_path / "log.jsonl", clock=lambda: datetime(2026, 1, 1, tzinfo=UTC)
    )
    journal.open()
    journal.append(
        "link_created",
        {"kind": "user", "id": "u1", "name": "=cmd|' /C calc'!A0"},
        {"label": "+1 Unit"},
    )
    result = journal.export(tmp_path / "out", since=None, until=None, stem="x")
    journal.close()
    with result.csv_path.open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["actor_name"] == "'=cmd|' /C calc'!A0"
    assert row["data"] == '{"label":"+1 Unit"}'
    assert row["actor_kind"] == "user"
