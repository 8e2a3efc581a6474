"""Killing the writer mid-burst: every acknowledged record survives, the chain holds."""

from __future__ import annotations

from pathlib import Path
import re
import signal
import subprocess
import sys

import pytest

from custom_components.school_emergency_share.audit import Journal

from .support import FakeClock, log_lines, outside_verify

AUDIT_PACKAGE = (
    Path(__file__).parents[2] / "custom_components" / "school_emergency_share" / "audit"
)
CHILD = Path(__file__).with_name("crash_child.py")
ACK = re.compile(r"ACK (\d+)")


def child(path: Path, mode: str, seed: int, count: int) -> subprocess.Popen[str]:
    """Start a writer process."""
    arguments = [str(AUDIT_PACKAGE), str(path), mode, str(seed), str(count)]
    return subprocess.Popen(
        [sys.executable, str(CHILD), *arguments],
        stdout=subprocess.PIPE,
        text=True,
    )


def acks(lines: list[str]) -> list[int]:
    """The seqs the child reported durable (a cut-off last line is ignored)."""
    return [int(match[1]) for line in lines if (match := ACK.fullmatch(line.strip()))]


def kill_after(process: subprocess.Popen[str], wanted: int) -> list[int]:
    """SIGKILL the child once it has acknowledged `wanted` writes."""
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if len(seen) >= wanted:
            process.send_signal(signal.SIGKILL)
            break
    rest, _ = process.communicate(timeout=10)
    assert process.returncode == -signal.SIGKILL, "the burst ended before the kill"
    return acks([*seen, *rest.splitlines()])


@pytest.mark.parametrize(
    ("mode", "seed", "wanted"),
    [
        ("sync", 1, 3),
        ("sync", 2, 40),
        ("async", 3, 100),
        ("async", 4, 2500),
    ],
)
def test_a_killed_writer_loses_no_acknowledged_record(
    tmp_path: Path, mode: str, seed: int, wanted: int
) -> None:
    """SIGKILL mid-burst; on reopening, the chain is valid and every ACK is in it."""
    path = tmp_path / "entry.jsonl"

    acked = kill_after(child(path, mode, seed, 50_000), wanted)

    journal = Journal(path, clock=FakeClock())
    check = journal.open()
    journal.close()
    seqs = outside_verify(log_lines(path))
    assert check.valid, check
    assert seqs == list(range(1, len(seqs) + 1))
    assert max(acked) <= seqs[-1]
    assert set(acked) <= set(seqs)


def test_a_writer_whose_application_exits_without_closing_still_finishes(
    tmp_path: Path,
) -> None:
    """Records queued when the program ends are written, and the process exits."""
    path = tmp_path / "entry.jsonl"

    process = child(path, "abandon", 5, 500)
    process.communicate(timeout=10)

    assert process.returncode == 0
    assert outside_verify(log_lines(path)) == list(range(1, 501))
