"""Exports of the audit log for the MOU's review: JSON Lines and CSV copies.

The JSONL copy holds the log's lines byte for byte, so anyone can recompute
every hash; the CSV is for reading, with `data` as canonical JSON and every
cell that a spreadsheet would take for a formula neutralised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import csv
from dataclasses import dataclass
import io
from pathlib import Path
from typing import Any, Final

from .chain import ChainCheck, canonical_json
from .files import DIRECTORY_MODE, atomic_write

CSV_COLUMNS: Final = (
    "seq",
    "ts",
    "event",
    "actor_kind",
    "actor_id",
    "actor_name",
    "data",
    "prev",
    "hash",
)


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What `Journal.export` wrote.

    `check` verifies the whole log at the time of the export, not only the
    exported range.
    """

    jsonl_path: Path
    csv_path: Path
    records: int
    check: ChainCheck


# A cell starting with one of these is a formula to a spreadsheet: a viewer's
# label or user agent must not run in the auditor's copy of Excel.
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else canonical_json(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_row(record: Mapping[str, Any]) -> list[str]:
    actor = record["actor"] if isinstance(record["actor"], dict) else {}
    return [
        str(record["seq"]),
        _csv_cell(record["ts"]),
        _csv_cell(record["event"]),
        _csv_cell(actor.get("kind")),
        _csv_cell(actor.get("id")),
        _csv_cell(actor.get("name")),
        _csv_cell(record["data"]),
        _csv_cell(record["prev"]),
        _csv_cell(record["hash"]),
    ]


def write_export(
    directory: Path,
    stem: str,
    selected: Sequence[tuple[bytes, Mapping[str, Any]]],
    check: ChainCheck,
) -> ExportResult:
    """Write `<stem>.jsonl` and `<stem>.csv` from `(line, record)` pairs.

    Raises:
        ValueError: `stem` is not a plain file name.
    """
    if not stem or stem in {".", ".."} or Path(stem).name != stem:
        raise ValueError(f"not a plain file name: {stem!r}")
    directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    jsonl_path = directory / f"{stem}.jsonl"
    csv_path = directory / f"{stem}.csv"
    atomic_write(
        jsonl_path, b"".join(line + b"\n" for line, _ in selected), durable=True
    )
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_row(record) for _, record in selected)
    atomic_write(csv_path, text.getvalue().encode(), durable=True)
    return ExportResult(jsonl_path, csv_path, len(selected), check)
