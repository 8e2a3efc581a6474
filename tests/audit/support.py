"""Helpers for the audit tests: a fake clock, an outside verifier, file edits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import hashlib
import json
from pathlib import Path
import threading
from typing import Any

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ZEROS = "0" * 64


class FakeClock:
    """Returns `now`, then moves it on by `step`: every record its own time."""

    def __init__(self, start: datetime = START, step: timedelta | None = None) -> None:
        """Start at `start`, one second per reading unless told otherwise."""
        self.now = start
        self.step = step if step is not None else timedelta(seconds=1)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        """The current fake time."""
        with self._lock:
            now = self.now
            self.now += self.step
            return now

    def advance(self, delta: timedelta) -> None:
        """Jump ahead."""
        with self._lock:
            self.now += delta


def outside_verify(lines: list[str], start_prev: str = ZEROS) -> list[int]:
    """Check a log the way an auditor with ten lines of Python would.

    Written from the published formula only, without the package's code.
    Returns the seqs in order; raises AssertionError at the first bad line.
    """
    prev = start_prev
    seqs: list[int] = []
    for number, line in enumerate(lines, start=1):
        record = json.loads(line)
        claimed = record.pop("hash")
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256((record["prev"] + canonical).encode()).hexdigest()
        assert digest == claimed, f"line {number}: hash does not match"
        assert record["prev"] == prev, f"line {number}: does not follow line before"
        assert not seqs or record["seq"] == seqs[-1] + 1, f"line {number}: seq"
        prev = claimed
        seqs.append(record["seq"])
    return seqs


def log_lines(path: Path) -> list[str]:
    """The log's lines without newlines."""
    return path.read_text().splitlines()


def write_lines(path: Path, lines: list[str]) -> None:
    """Replace the log's content, as someone with write access could."""
    path.write_text("".join(line + "\n" for line in lines))


def edit_field(line: str, key: str, value: Any) -> str:
    """The line with one field changed, re-serialised like the original."""
    record = json.loads(line)
    record[key] = value
    return json.dumps(record, separators=(",", ":"))
