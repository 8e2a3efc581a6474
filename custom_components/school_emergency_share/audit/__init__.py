"""The tamper-evident audit log: one hash-chained JSON Lines file per agreement.

Plain Python with no Home Assistant import and the clock passed in. `chain`
seals and verifies records; `journal` writes them durably, prunes, exports,
and gives asyncio a non-blocking writer.
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
from .journal import CSV_COLUMNS, AsyncJournal, ExportResult, Journal

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
