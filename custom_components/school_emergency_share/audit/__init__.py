"""The tamper-evident audit log: one hash-chained JSON Lines file per agreement.

Plain Python with no Home Assistant import and the clock passed in. `chain`
seals and verifies records; `files` holds the durable file primitives;
`journal` writes records, prunes and exports (`export`) on one thread;
`writer` gives asyncio a non-blocking face with group commit.
"""

from __future__ import annotations

from .chain import (
    FIELDS,
    GENESIS,
    PRUNED_EVENT,
    ChainCheck,
    canonical_json,
    compute_hash,
    seal,
    verify_lines,
)
from .export import CSV_COLUMNS, ExportResult
from .journal import Journal
from .writer import AsyncJournal

__all__ = [
    "CSV_COLUMNS",
    "FIELDS",
    "GENESIS",
    "PRUNED_EVENT",
    "AsyncJournal",
    "ChainCheck",
    "ExportResult",
    "Journal",
    "canonical_json",
    "compute_hash",
    "seal",
    "verify_lines",
]
