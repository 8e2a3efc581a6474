"""The journal on disk: what an auditor finds in the file after each operation."""

from __future__ import annotations

import ast
import csv
from datetime import timedelta
import errno
import json
import os
from pathlib import Path
import stat
import subprocess
import sys
from typing import Any

import pytest

from custom_components.school_emergency_share.audit import (
    CSV_COLUMNS,
    FIELDS,
    PRUNED_EVENT,
    Journal,
    canonical_json,
)

from .support import (
    START,
    FakeClock,
    edit_field,
    log_lines,
    outside_verify,
    write_lines,
)

AUDIT_PACKAGE = (
    Path(__file__).parents[2] / "custom_components" / "school_emergency_share" / "audit"
)
PRINCIPAL = {"kind": "user", "id": "u-17", "name": "Principal Ortiz", "trigger": None}
FIRE_PANEL = {
    "kind": "automation",
    "id": "automation.fire_alarm",
    "name": "Fire alarm shares cameras",
    "trigger": "binary_sensor.fire_panel",
}


def write_day(journal: Journal, count: int = 6) -> list[dict[str, Any]]:
    """A morning of events: a session, links, viewers, a denial."""
    events: list[tuple[str, dict[str, Any] | None, dict[str, Any]]] = [
        ("session_started", FIRE_PANEL, {"reason": "Fire alarm \u2013 east wing"}),
        ("link_created", PRINCIPAL, {"label": "Dispatch desk", "minutes": 30}),
        ("view_started", None, {"camera": "camera.gym", "viewer": "Unit 7"}),
        ("access_denied", None, {"why": "expired", "client": "203.0.113.9"}),
        ("view_ended", None, {"camera": "camera.gym", "seconds": 12.5}),
        ("session_ended", PRINCIPAL, {"reason": "All clear", "cameras": []}),
    ]
    return [journal.append(*events[index % len(events)]) for index in range(count)]


def mode_of(path: Path) -> int:
    """Permission bits."""
    return stat.S_IMODE(path.stat().st_mode)


def reopen(path: Path, clock: FakeClock) -> Journal:
    """A new journal on the same file, as after a restart."""
    journal = Journal(path, clock=clock)
    journal.open()
    return journal


def test_records_written_by_the_journal_verify_with_an_outside_verifier(
    journal: Journal, log_path: Path
) -> None:
    """An auditor's own few lines of Python accept what the journal wrote."""
    write_day(journal)
    journal.append_many(
        [
            ("lockout", None, {"client": "198.51.100.4", "failures": 20}),
            ("link_revoked", PRINCIPAL, {"link_id": None, "all": True}),
        ]
    )

    lines = log_lines(log_path)
    assert outside_verify(lines) == list(range(1, 9))
    assert all(line.isascii() for line in lines)
    assert json.loads(lines[0])["data"]["reason"] == "Fire alarm \u2013 east wing"


def test_a_record_is_returned_as_it_was_written(
    journal: Journal, log_path: Path, clock: FakeClock
) -> None:
    """Callers get exactly the record on disk, in field order."""
    record = journal.append("session_started", PRINCIPAL, {"reason": "Drill"})

    assert json.loads(log_lines(log_path)[0]) == record
    assert list(record) == list(FIELDS)
    assert record["ts"] == "2026-03-02T08:00:00+00:00"
    assert (record["seq"], record["prev"]) == (1, "0" * 64)


def test_a_batch_shares_one_fsync(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit: fifty records, one fsync."""
    calls: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        calls.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    records = journal.append_many([("view_started", None, {"n": n}) for n in range(50)])

    assert [record["seq"] for record in records] == list(range(1, 51))
    assert len(calls) == 1


def test_the_log_and_its_head_are_private_files(
    journal: Journal, log_path: Path
) -> None:
    """Log and head are readable by the owner only."""
    journal.append("session_started", PRINCIPAL, {})

    assert mode_of(log_path) == 0o600
    assert mode_of(journal.head_path) == 0o600
    assert mode_of(log_path.parent) == 0o700


def test_the_head_file_names_the_last_durable_record(journal: Journal) -> None:
    """The head file holds the last record's seq and hash."""
    last = write_day(journal)[-1]

    assert json.loads(journal.head_path.read_text()) == {
        "seq": last["seq"],
        "hash": last["hash"],
    }


def test_details_json_cannot_hold_are_refused_before_anything_is_written(
    journal: Journal, log_path: Path
) -> None:
    """A bad record fails its batch before a byte is written."""
    with pytest.raises(TypeError):
        journal.append_many([("ok", None, {}), ("bad", None, {"x": object()})])
    with pytest.raises(ValueError):
        journal.append("", None, {})

    assert log_lines(log_path) == []
    assert journal.append("ok", None, {})["seq"] == 1


@pytest.mark.parametrize("index", range(6))
@pytest.mark.parametrize("key", FIELDS)
def test_editing_any_field_of_any_line_is_detected_with_that_record_named(
    journal: Journal, log_path: Path, index: int, key: str
) -> None:
    """Every field of every line, edited in the file, is named on verify."""
    write_day(journal)
    lines = log_lines(log_path)
    replacement: Any = {
        "seq": index + 11,
        "ts": "2026-03-01T08:00:00+00:00",
        "event": "nothing_happened",
        "actor": {"kind": "user", "id": "someone-else"},
        "data": {"reason": "edited"},
        "prev": "1" * 64,
        "hash": "2" * 64,
    }[key]
    lines[index] = edit_field(lines[index], key, replacement)
    write_lines(log_path, lines)

    check = journal.verify()

    assert not check.valid
    assert check.first_bad_line == index + 1
    expected_seq = replacement if key == "seq" else index + 1
    assert check.first_bad_seq == expected_seq


@pytest.mark.parametrize(
    ("deleted", "line", "seq", "problem"),
    [
        (2, 3, 4, "seq_gap"),
        (0, 1, 2, "unanchored_start"),
        (5, None, 6, "tail_missing"),
    ],
    ids=["middle", "first", "last"],
)
def test_a_deleted_line_is_detected_with_the_right_record_named(
    journal: Journal,
    log_path: Path,
    deleted: int,
    line: int | None,
    seq: int,
    problem: str,
) -> None:
    """Deleting the first, a middle or the last line is named."""
    write_day(journal)
    lines = log_lines(log_path)
    del lines[deleted]
    write_lines(log_path, lines)

    check = journal.verify()

    assert (check.valid, check.first_bad_line, check.first_bad_seq, check.problem) == (
        False,
        line,
        seq,
        problem,
    )


def test_swapped_lines_are_detected(journal: Journal, log_path: Path) -> None:
    """Two lines swapped in the file are caught at the first."""
    write_day(journal)
    lines = log_lines(log_path)
    lines[3], lines[4] = lines[4], lines[3]
    write_lines(log_path, lines)

    check = journal.verify()

    assert (check.valid, check.first_bad_line, check.first_bad_seq) == (False, 4, 5)


def test_an_inserted_forged_line_is_detected(journal: Journal, log_path: Path) -> None:
    """A line added to the file is caught at that line."""
    write_day(journal)
    lines = log_lines(log_path)
    forged = json.loads(lines[1])
    forged["data"] = {"reason": "never happened"}
    lines.insert(2, json.dumps(forged, separators=(",", ":")))
    write_lines(log_path, lines)

    check = journal.verify()

    assert (check.valid, check.first_bad_line, check.problem) == (
        False,
        3,
        "hash_mismatch",
    )


def test_a_deleted_tail_stays_detectable_after_a_restart_and_new_records(
    log_path: Path, clock: FakeClock
) -> None:
    """New records after a cut-off tail do not paper over the cut."""
    journal = reopen(log_path, clock)
    write_day(journal)
    journal.close()
    write_lines(log_path, log_lines(log_path)[:4])

    journal = reopen(log_path, clock)
    found = journal.verify()
    journal.append("session_started", PRINCIPAL, {"reason": "Next day"})
    after = journal.verify()
    journal.close()

    assert (found.valid, found.problem, found.first_bad_seq) == (
        False,
        "tail_missing",
        6,
    )
    # Numbering goes on after what the head file saw, so the hole shows.
    assert (after.valid, after.problem, after.first_bad_seq, after.first_bad_line) == (
        False,
        "seq_gap",
        7,
        5,
    )
    with pytest.raises(AssertionError):
        outside_verify(log_lines(log_path))


def test_a_head_file_lagging_behind_the_log_is_not_an_error(
    journal: Journal,
) -> None:
    """An older head (a crash before its update) verifies."""
    write_day(journal, 3)
    old_head = journal.head_path.read_bytes()
    write_day(journal, 3)
    journal.head_path.write_bytes(old_head)  # as after a crash before the update

    assert journal.verify().valid


def test_an_unreadable_head_file_is_reported(journal: Journal) -> None:
    """A head file that is not ours is reported."""
    write_day(journal)
    journal.head_path.write_text("not json")

    check = journal.verify()

    assert (check.valid, check.problem) == (False, "head_unreadable")


@pytest.mark.parametrize(
    "tail",
    [
        b'{"seq":7,"ts":"2026-03-02T08:',
        b"\x00\x00\x00\x00\x00\x00",
        b"\x00\x00\x00\x00\x00\x00\n",
        b'{"seq":7}',
    ],
    ids=["half-a-line", "zeros", "zeros-with-newline", "json-without-newline"],
)
def test_a_torn_tail_is_cut_back_to_the_last_complete_record(
    log_path: Path, clock: FakeClock, tail: bytes
) -> None:
    """A crash mid-write: the unacknowledged bytes go, the rest chains on."""
    journal = reopen(log_path, clock)
    written = write_day(journal)
    journal.close()
    complete = log_path.read_bytes()
    with log_path.open("ab") as file:
        file.write(tail)

    journal = reopen(log_path, clock)
    check = journal.verify()
    record = journal.append("session_started", PRINCIPAL, {"reason": "After crash"})
    journal.close()

    assert journal.repaired_tail
    assert journal.discarded_bytes == len(tail)
    assert (check.valid, check.head_seq, check.head_hash) == (
        True,
        6,
        written[-1]["hash"],
    )
    assert log_path.read_bytes().startswith(complete)
    assert (record["seq"], record["prev"]) == (7, written[-1]["hash"])
    assert outside_verify(log_lines(log_path)) == list(range(1, 8))


def test_a_complete_log_is_left_as_it_is(log_path: Path, clock: FakeClock) -> None:
    """Opening a sound log changes nothing in it."""
    journal = reopen(log_path, clock)
    write_day(journal)
    journal.close()
    before = log_path.read_bytes()

    journal = reopen(log_path, clock)
    journal.close()

    assert not journal.repaired_tail
    assert log_path.read_bytes() == before


def test_opening_reports_a_broken_chain_and_keeps_it_broken(
    log_path: Path, clock: FakeClock
) -> None:
    """New records chain on after tampering without repairing it."""
    journal = reopen(log_path, clock)
    write_day(journal)
    journal.close()
    lines = log_lines(log_path)
    lines[1] = edit_field(lines[1], "data", {"reason": "edited"})
    write_lines(log_path, lines)

    journal = reopen(log_path, clock)
    record = journal.append("session_started", PRINCIPAL, {})
    check = journal.verify()
    journal.close()

    assert (record["seq"], record["prev"]) == (7, json.loads(lines[-1])["hash"])
    assert (check.valid, check.first_bad_seq, check.problem) == (
        False,
        2,
        "hash_mismatch",
    )


def test_a_failed_write_leaves_no_half_record_and_the_journal_goes_on(
    journal: Journal, log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full mid-write: the half record is cut off, nothing acknowledged."""
    write_day(journal, 3)
    before, head_before = log_path.read_bytes(), journal.head_path.read_bytes()
    real_write = os.write

    def disk_fills_up(fd: int, data: Any) -> int:
        real_write(fd, bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", disk_fills_up)
    with pytest.raises(OSError, match="No space left"):
        journal.append("view_started", None, {"camera": "camera.gym"})
    monkeypatch.undo()

    assert log_path.read_bytes() == before
    assert journal.head_path.read_bytes() == head_before
    assert journal.append("view_started", None, {})["seq"] == 4
    assert outside_verify(log_lines(log_path)) == [1, 2, 3, 4]


def test_a_failed_fsync_is_not_acknowledged(
    journal: Journal, log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record whose fsync failed is neither kept nor in the head."""
    write_day(journal, 3)
    before, head_before = log_path.read_bytes(), journal.head_path.read_bytes()

    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="I/O error"):
        journal.append("view_started", None, {})
    monkeypatch.undo()

    assert log_path.read_bytes() == before
    assert journal.head_path.read_bytes() == head_before
    assert journal.append("view_started", None, {})["seq"] == 4


def test_a_half_record_that_could_not_be_cut_off_is_repaired_before_the_next(
    journal: Journal, log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If even the cut fails, the next append repairs the tail first."""
    write_day(journal, 3)
    real_write = os.write

    def disk_fills_up(fd: int, data: Any) -> int:
        real_write(fd, bytes(data)[:20])
        raise OSError(errno.ENOSPC, "No space left on device")

    def failing_truncate(fd: int, length: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "write", disk_fills_up)
    monkeypatch.setattr(os, "ftruncate", failing_truncate)
    with pytest.raises(OSError, match="No space left"):
        journal.append("view_started", None, {})
    monkeypatch.undo()

    record = journal.append("view_ended", None, {})

    assert journal.repaired_tail
    assert record["seq"] == 4
    assert outside_verify(log_lines(log_path)) == [1, 2, 3, 4]


def test_appending_needs_an_open_journal(log_path: Path, clock: FakeClock) -> None:
    """Appending before `open` is refused; reading is not."""
    journal = Journal(log_path, clock=clock)

    with pytest.raises(RuntimeError):
        journal.append("x", None, {})
    assert journal.verify().valid  # reading needs no opening, nor a file


def test_read_returns_records_from_since_up_to_until(log_path: Path) -> None:
    """`since` is inclusive, `until` exclusive, bounds must be aware."""
    journal = reopen(log_path, FakeClock(step=timedelta(hours=1)))
    write_day(journal)
    journal.close()

    records = journal.read(START + timedelta(hours=2), START + timedelta(hours=4))

    assert [record["seq"] for record in records] == [3, 4]
    assert [record["seq"] for record in journal.read()] == [1, 2, 3, 4, 5, 6]
    assert [r["seq"] for r in journal.read(until=START + timedelta(hours=1))] == [1]
    with pytest.raises(ValueError):
        journal.read(START.replace(tzinfo=None))


# Pruning


def daily_log(path: Path, days: int) -> tuple[Journal, FakeClock]:
    """An open journal with one record a day for `days` days."""
    clock = FakeClock(step=timedelta(days=1))
    journal = reopen(path, clock)
    for day in range(days):
        journal.append("view_started", None, {"day": day})
    return journal, clock


def test_pruning_removes_records_older_than_the_cutoff_and_the_rest_verifies(
    log_path: Path,
) -> None:
    """Old records go; an anchor says which; an auditor can still verify."""
    journal, _ = daily_log(log_path, 10)
    removed_hash = json.loads(log_lines(log_path)[4])["hash"]

    removed = journal.prune(START + timedelta(days=5))

    lines = log_lines(log_path)
    anchor = json.loads(lines[-1])
    assert removed == 5
    assert [json.loads(line)["seq"] for line in lines] == [6, 7, 8, 9, 10, 11]
    assert anchor["event"] == PRUNED_EVENT
    assert anchor["actor"]["kind"] == "system"
    assert anchor["data"] == {
        "through_seq": 5,
        "through_hash": removed_hash,
        "removed": 5,
        "before": "2026-03-07T08:00:00+00:00",
    }
    assert journal.verify().valid
    assert outside_verify(lines, start_prev=removed_hash) == [6, 7, 8, 9, 10, 11]
    assert mode_of(log_path) == 0o600
    assert journal.append("view_started", None, {})["seq"] == 12
    assert journal.verify().valid
    journal.close()


def test_two_successive_prunes_leave_a_verifiable_log(log_path: Path) -> None:
    """A second prune, taking the first anchor too, stays verifiable."""
    journal, clock = daily_log(log_path, 10)
    journal.prune(START + timedelta(days=3))
    for day in range(5):
        journal.append("view_started", None, {"later": day})

    # The second cutoff also takes away the first anchor.
    removed = journal.prune(clock.now - timedelta(days=2))

    check = journal.verify()
    journal.close()
    assert removed == 11
    assert [json.loads(line)["seq"] for line in log_lines(log_path)] == [15, 16, 17]
    assert check.valid
    assert reopen(log_path, clock).verify().valid


def test_deleting_one_more_leading_record_after_a_prune_is_detected(
    log_path: Path,
) -> None:
    """An attacker cannot pass off a deletion as pruning."""
    journal, _ = daily_log(log_path, 10)
    journal.prune(START + timedelta(days=5))
    journal.close()
    lines = log_lines(log_path)
    write_lines(log_path, lines[1:])

    check = journal.verify()

    assert (check.valid, check.problem, check.first_bad_seq, check.first_bad_line) == (
        False,
        "unanchored_start",
        7,
        1,
    )


def test_pruning_with_nothing_old_enough_changes_nothing(log_path: Path) -> None:
    """No old records: no anchor, no rewrite."""
    journal, _ = daily_log(log_path, 3)
    before = log_path.read_bytes()

    assert journal.prune(START) == 0
    assert log_path.read_bytes() == before
    journal.close()


def test_pruning_everything_keeps_the_anchor(log_path: Path) -> None:
    """Even a cutoff in the future leaves the anchor."""
    journal, clock = daily_log(log_path, 4)

    removed = journal.prune(clock.now + timedelta(days=365))

    lines = log_lines(log_path)
    assert removed == 4
    assert [json.loads(line)["event"] for line in lines] == [PRUNED_EVENT]
    assert journal.verify().valid
    journal.close()


def test_pruning_stops_at_a_tampered_record_so_the_evidence_stays(
    log_path: Path,
) -> None:
    """Retention never deletes evidence of tampering."""
    journal, clock = daily_log(log_path, 6)
    lines = log_lines(log_path)
    lines[2] = edit_field(lines[2], "data", {"day": "edited"})
    write_lines(log_path, lines)

    removed = journal.prune(clock.now + timedelta(days=365))

    check = journal.verify()
    journal.close()
    assert removed == 2
    assert (check.valid, check.first_bad_seq, check.problem) == (
        False,
        3,
        "hash_mismatch",
    )


def test_a_crash_between_the_anchor_and_the_rewrite_leaves_a_verifiable_log(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A prune cut short before the rename loses nothing and can be redone."""
    journal, clock = daily_log(log_path, 6)

    def crash(src: Any, dst: Any) -> None:
        raise OSError(errno.EIO, "simulated crash before the rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        journal.prune(START + timedelta(days=3))
    monkeypatch.undo()
    journal.close()
    # What a restart finds: everything, plus an anchor for a prune not done.
    lines = log_lines(log_path)
    assert outside_verify(lines) == [1, 2, 3, 4, 5, 6, 7]

    journal = reopen(log_path, clock)
    assert journal.verify().valid
    assert journal.prune(START + timedelta(days=3)) == 3
    assert journal.verify().valid
    journal.close()


def test_a_temporary_file_left_by_a_crash_is_removed_on_open(
    log_path: Path, clock: FakeClock
) -> None:
    """Half a rewrite from a crash does not linger."""
    journal = reopen(log_path, clock)
    write_day(journal)
    journal.close()
    leftover = log_path.with_name(log_path.name + ".tmp")
    leftover.write_text("half a rewrite")

    reopen(log_path, clock).close()

    assert not leftover.exists()


# Export


def export_range(
    log_path: Path, tmp_path: Path
) -> tuple[Journal, list[str], list[dict[str, str]], list[str]]:
    """Six hourly records; export hours 2 and 3. Returns the log and exports."""
    journal = reopen(log_path, FakeClock(step=timedelta(hours=1)))
    write_day(journal)
    result = journal.export(
        tmp_path / "exports",
        since=START + timedelta(hours=2),
        until=START + timedelta(hours=4),
        stem="review-2026-q1",
    )
    journal.close()
    with result.csv_path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    return (
        journal,
        log_lines(log_path),
        rows,
        result.jsonl_path.read_text().splitlines(),
    )


def test_the_csv_export_has_the_published_columns_and_the_rows_in_range(
    log_path: Path, tmp_path: Path
) -> None:
    """The CSV reads with DictReader: the nine columns, the range's rows."""
    _, lines, rows, _ = export_range(log_path, tmp_path)

    with (tmp_path / "exports" / "review-2026-q1.csv").open(newline="") as file:
        assert tuple(next(csv.reader(file))) == CSV_COLUMNS
    assert [row["seq"] for row in rows] == ["3", "4"]
    record = json.loads(lines[2])
    assert rows[0] == {
        "seq": "3",
        "ts": "2026-03-02T10:00:00+00:00",
        "event": "view_started",
        "actor_kind": "",
        "actor_id": "",
        "actor_name": "",
        "data": canonical_json(record["data"]),
        "prev": record["prev"],
        "hash": record["hash"],
    }
    assert json.loads(rows[1]["data"]) == {"why": "expired", "client": "203.0.113.9"}


def test_the_csv_names_who_acted(log_path: Path, tmp_path: Path) -> None:
    """Actor kind, id and name have their own columns."""
    journal = reopen(log_path, FakeClock())
    write_day(journal, 2)
    result = journal.export(tmp_path, stem="all")
    journal.close()

    with result.csv_path.open(newline="") as file:
        rows = list(csv.DictReader(file))

    assert [(r["actor_kind"], r["actor_id"], r["actor_name"]) for r in rows] == [
        ("automation", "automation.fire_alarm", "Fire alarm shares cameras"),
        ("user", "u-17", "Principal Ortiz"),
    ]


def test_the_jsonl_export_is_the_log_lines_byte_for_byte(
    log_path: Path, tmp_path: Path
) -> None:
    """Exported lines are the log's, so their hashes still check."""
    _, lines, _, exported = export_range(log_path, tmp_path)

    assert exported == lines[2:4]
    # A slice: its first record follows one outside the export.
    first_prev = json.loads(exported[0])["prev"]
    assert outside_verify(exported, start_prev=first_prev) == [3, 4]


def test_export_files_are_private(log_path: Path, tmp_path: Path) -> None:
    """Exports are readable by the owner only."""
    journal = reopen(log_path, FakeClock())
    write_day(journal)
    result = journal.export(tmp_path / "exports", stem="x")
    journal.close()

    assert (result.records, result.check.valid) == (6, True)
    assert mode_of(result.jsonl_path) == mode_of(result.csv_path) == 0o600


def test_an_export_reports_the_whole_log_invalid_when_it_was_tampered_with(
    log_path: Path, tmp_path: Path
) -> None:
    """Tampering outside the exported range still shows in the export's check."""
    journal = reopen(log_path, FakeClock(step=timedelta(hours=1)))
    write_day(journal)
    lines = log_lines(log_path)
    lines[0] = edit_field(lines[0], "actor", None)  # outside the exported range
    write_lines(log_path, lines)

    result = journal.export(
        tmp_path, since=START + timedelta(hours=3), stem="after-tampering"
    )
    journal.close()

    assert result.records == 3
    assert (result.check.valid, result.check.first_bad_seq) == (False, 1)


@pytest.mark.parametrize("stem", ["", "..", "../escape", "a/b"])
def test_an_export_name_must_be_a_plain_file_name(
    journal: Journal, tmp_path: Path, stem: str
) -> None:
    """An export cannot be written outside its folder."""
    with pytest.raises(ValueError):
        journal.export(tmp_path, stem=stem)


# No Home Assistant


def test_the_audit_package_imports_nothing_from_home_assistant() -> None:
    """The audit package is plain Python."""
    for source in AUDIT_PACKAGE.glob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
            else:
                continue
            assert not any(name.startswith("homeassistant") for name in names)


def test_the_audit_package_runs_on_its_own(tmp_path: Path) -> None:
    """Loaded without its parent package it works, and never imports Home Assistant."""
    script = f"""
import importlib.util, sys
from datetime import UTC, datetime
from pathlib import Path
spec = importlib.util.spec_from_file_location(
    "audit", {str(AUDIT_PACKAGE / "__init__.py")!r},
    submodule_search_locations=[{str(AUDIT_PACKAGE)!r}],
)
audit = importlib.util.module_from_spec(spec)
sys.modules["audit"] = audit
spec.loader.exec_module(audit)
path = Path({str(tmp_path / "log.jsonl")!r})
journal = audit.Journal(path, clock=lambda: datetime.now(UTC))
journal.open()
journal.append("session_started", None, {{}})
print(journal.verify().valid, any(m.startswith("homeassistant") for m in sys.modules))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert result.stdout.split() == ["True", "False"]
