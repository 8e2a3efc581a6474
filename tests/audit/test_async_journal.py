"""The asyncio face of the journal: durable answers, a loop that never waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import timedelta
import errno
import json
import os
from pathlib import Path
import threading
import time
from typing import Any

import pytest

from custom_components.school_emergency_share.audit import (
    AsyncJournal,
    Journal,
    writer,
)

from .support import START, FakeClock, log_lines, outside_verify


@pytest.fixture
async def journal(log_path: Path, clock: FakeClock) -> AsyncGenerator[AsyncJournal]:
    """An opened asynchronous journal, closed afterwards."""
    opened = AsyncJournal(log_path, clock=clock, name="test")
    await opened.open()
    yield opened
    await opened.close()


def writer_threads() -> list[threading.Thread]:
    """Audit writer threads still alive."""
    return [t for t in threading.enumerate() if t.name.startswith("ses-audit-")]


async def wait_for(event: threading.Event) -> None:
    """Wait for a thread's signal without blocking the loop."""
    for _ in range(1000):
        if event.is_set():
            return
        await asyncio.sleep(0.005)
    pytest.fail("the writer thread never got there")


async def test_concurrent_appends_get_consecutive_seqs_in_submission_order(
    journal: AsyncJournal, log_path: Path
) -> None:
    """Many tasks at once: no seq lost or repeated, seq order is call order."""
    submitted: list[int] = []

    async def record_view(viewer: int) -> dict[str, Any]:
        submitted.append(viewer)
        return await journal.append("view_started", None, {"viewer": viewer})

    records = await asyncio.gather(*(record_view(n) for n in range(300)))

    in_seq_order = sorted(records, key=lambda record: int(record["seq"]))
    assert [record["seq"] for record in in_seq_order] == list(range(1, 301))
    assert [record["data"]["viewer"] for record in in_seq_order] == submitted
    assert outside_verify(log_lines(log_path)) == list(range(1, 301))


async def test_records_submitted_during_an_fsync_share_the_next_one(
    journal: AsyncJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit: what queues up while the disk is busy goes in one batch."""
    real_fsync = os.fsync
    fsyncs: list[int] = []
    first_fsync_started = threading.Event()

    def slow_fsync(fd: int) -> None:
        fsyncs.append(fd)
        first_fsync_started.set()
        time.sleep(0.2)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    first = journal.submit("session_started", None, {})
    await wait_for(first_fsync_started)
    rest = [journal.submit("view_started", None, {"n": n}) for n in range(99)]

    records = await asyncio.gather(first, *rest)

    assert [record["seq"] for record in records] == list(range(1, 101))
    assert len(fsyncs) == 2


async def test_the_event_loop_keeps_running_while_fsync_runs(
    journal: AsyncJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow disk delays the answer, never the rest of Home Assistant.

    The fsync does not finish until the loop has run other work three times
    while it was in progress: a blocked loop would never get there.
    """
    real_fsync = os.fsync
    fsync_running = threading.Event()
    loop_ran = threading.Event()

    def slow_fsync(fd: int) -> None:
        fsync_running.set()
        loop_ran.wait(timeout=30)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)

    async def ticker() -> None:
        await wait_for(fsync_running)
        for _ in range(3):
            await asyncio.sleep(0.01)
        loop_ran.set()

    ticking = asyncio.create_task(ticker())
    record = await journal.append("session_started", None, {"reason": "Drill"})
    await ticking

    assert record["seq"] == 1
    assert loop_ran.is_set()


async def test_close_writes_everything_already_submitted(
    log_path: Path, clock: FakeClock
) -> None:
    """Records submitted but not yet awaited are durable once close returns."""
    journal = AsyncJournal(log_path, clock=clock, name="test")
    await journal.open()
    pending = [journal.submit("view_ended", None, {"n": n}) for n in range(200)]

    await journal.close()

    assert all(future.done() for future in pending)
    assert [future.result()["seq"] for future in pending] == list(range(1, 201))
    assert outside_verify(log_lines(log_path)) == list(range(1, 201))
    assert writer_threads() == []


async def test_after_close_the_journal_refuses_work(
    log_path: Path, clock: FakeClock
) -> None:
    """Closing is final and idempotent; later calls fail loudly."""
    journal = AsyncJournal(log_path, clock=clock, name="test")
    await journal.open()
    await journal.close()
    await journal.close()

    with pytest.raises(RuntimeError):
        await journal.append("view_started", None, {})
    with pytest.raises(RuntimeError):
        journal.submit("view_started", None, {})
    with pytest.raises(RuntimeError):
        await journal.verify()
    with pytest.raises(RuntimeError):
        await journal.open()


async def test_a_journal_never_opened_closes_quietly(
    log_path: Path, clock: FakeClock
) -> None:
    """Unloading before the journal opened is not an error."""
    journal = AsyncJournal(log_path, clock=clock)

    await journal.close()

    with pytest.raises(RuntimeError):
        journal.submit("view_started", None, {})


async def test_a_write_error_reaches_every_caller_and_the_journal_keeps_working(
    journal: AsyncJournal, log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full: each waiting caller gets the error; the writer survives."""
    real_write = os.write

    def disk_full_for_the_writer(fd: int, data: Any) -> int:
        if threading.current_thread().name.startswith("ses-audit-"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", disk_full_for_the_writer)
    failing = [journal.submit("view_started", None, {"n": n}) for n in range(5)]
    results = await asyncio.gather(*failing, return_exceptions=True)
    monkeypatch.undo()

    assert all(isinstance(result, OSError) for result in results)
    assert log_lines(log_path) == []
    record = await journal.append("view_started", None, {"after": "disk freed"})
    assert record["seq"] == 1
    assert (await journal.verify()).valid
    assert len(writer_threads()) == 1


async def test_details_json_cannot_hold_fail_at_the_call(
    journal: AsyncJournal, log_path: Path
) -> None:
    """A programming error surfaces in the caller, not in someone else's batch."""
    with pytest.raises(TypeError):
        await journal.append("view_started", None, {"frame": object()})

    assert (await journal.append("view_started", None, {}))["seq"] == 1
    assert len(log_lines(log_path)) == 1


async def test_callers_may_change_their_dicts_after_submitting(
    journal: AsyncJournal,
) -> None:
    """The record holds the details as they were when submitted."""
    data: dict[str, Any] = {"cameras": ["camera.gym"]}
    future = journal.submit("session_started", None, data)
    data["cameras"].append("camera.locker_room")

    record = await future

    assert record["data"] == {"cameras": ["camera.gym"]}


async def test_a_cancelled_wait_does_not_take_the_record_back(
    log_path: Path, clock: FakeClock
) -> None:
    """Once submitted, a record is written even if nobody waits for it."""
    journal = AsyncJournal(log_path, clock=clock, name="test")
    await journal.open()
    waiting = asyncio.create_task(journal.append("access_denied", None, {}))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    await journal.close()

    assert outside_verify(log_lines(log_path)) == [1]


async def test_other_operations_see_every_record_submitted_before_them(
    journal: AsyncJournal,
) -> None:
    """Verify, read and export queue behind earlier appends."""
    pending = [journal.submit("view_started", None, {"n": n}) for n in range(10)]

    check = await journal.verify()
    records = await journal.read()

    assert (check.valid, check.records, check.head_seq) == (True, 10, 10)
    assert [record["seq"] for record in records] == list(range(1, 11))
    assert all(future.done() for future in pending)


async def test_prune_and_export_through_the_writer(
    log_path: Path, tmp_path: Path
) -> None:
    """Retention and export work the same behind the asyncio face."""
    journal = AsyncJournal(log_path, clock=FakeClock(step=timedelta(days=1)))
    await journal.open()
    for day in range(10):
        await journal.append("view_started", None, {"day": day})

    removed = await journal.prune(START + timedelta(days=4))
    result = await journal.export(
        tmp_path / "exports", since=START + timedelta(days=6), stem="review"
    )
    read = await journal.read(START + timedelta(days=8))
    await journal.close()

    assert removed == 4
    assert (result.records, result.check.valid) == (5, True)
    assert [record["seq"] for record in read] == [9, 10, 11]
    assert result.jsonl_path.read_text().splitlines() == log_lines(log_path)[2:]


async def test_open_reports_what_it_found_and_repaired(
    log_path: Path, clock: FakeClock
) -> None:
    """A torn tail from a crash is cut off when the journal opens."""
    journal = AsyncJournal(log_path, clock=clock, name="test")
    await journal.open()
    await journal.append("session_started", None, {})
    await journal.close()
    with log_path.open("ab") as file:
        file.write(b'{"seq":2,"ts"')

    reopened = AsyncJournal(log_path, clock=clock, name="test")
    check = await reopened.open()
    record = await reopened.append("session_ended", None, {})
    await reopened.close()

    assert reopened.repaired_tail
    assert (check.valid, check.head_seq) == (True, 1)
    assert record["seq"] == 2
    assert outside_verify(log_lines(log_path)) == [1, 2]


async def test_closing_while_opening_leaves_nothing_running(
    log_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agreement unloaded during its setup: open fails, the thread ends.

    The worker's open waits until close has begun, whatever the machine's speed.
    """
    closing_began = threading.Event()
    real_open = Journal.open

    def open_after_close_began(self: Journal, witness: Any = None) -> Any:
        closing_began.wait(timeout=30)
        return real_open(self, witness)

    monkeypatch.setattr(Journal, "open", open_after_close_began)
    journal = AsyncJournal(log_path, clock=clock, name="test")
    opening = asyncio.create_task(journal.open())
    await asyncio.sleep(0)
    closing = asyncio.create_task(journal.close())
    await asyncio.sleep(0)
    closing_began.set()
    await closing

    with pytest.raises(RuntimeError):
        await opening
    assert writer_threads() == []
    with pytest.raises(RuntimeError):
        journal.submit("view_started", None, {})


async def test_a_journal_that_cannot_open_leaves_no_thread_behind(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A failed open raises, and nothing keeps running."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    journal = AsyncJournal(blocker / "entry.jsonl", clock=clock, name="test")

    with pytest.raises(OSError):
        await journal.open()

    assert writer_threads() == []
    with pytest.raises(RuntimeError):
        journal.submit("view_started", None, {})
    await journal.close()


async def test_the_writer_is_one_named_thread_that_finishes_its_work(
    journal: AsyncJournal,
) -> None:
    """Not a daemon: the interpreter waits for it rather than lose records."""
    threads = writer_threads()

    assert len(threads) == 1
    assert threads[0].name.startswith("ses-audit-test")
    assert not threads[0].daemon
    assert journal.path.name == "entry-1.jsonl"


async def test_kept_records_survive_a_full_disk_and_go_first_once_it_frees(
    log_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What closes access is written late, in order, with its own time."""
    late: list[dict[str, Any]] = []
    journal = AsyncJournal(log_path, clock=clock, name="test", on_late=late.extend)
    await journal.open()
    real_write = os.write

    def disk_full_for_the_writer(fd: int, data: Any) -> int:
        if threading.current_thread().name.startswith("ses-audit-"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", disk_full_for_the_writer)
    ended = journal.submit("session_ended", None, {"n": 1}, keep=True)
    opened = journal.submit("session_started", None, {"n": 2})
    results = await asyncio.gather(ended, opened, return_exceptions=True)
    held_while_full = journal.held
    monkeypatch.undo()
    after = await journal.append("view_ended", None, {"n": 3})
    await journal.close()

    assert all(isinstance(result, OSError) for result in results)
    assert held_while_full == 1
    assert [record["event"] for record in late] == ["session_ended"]
    assert late[0]["ts"] < after["ts"]
    lines = log_lines(log_path)
    assert outside_verify(lines) == [1, 2]
    assert [json.loads(line)["event"] for line in lines] == [
        "session_ended",
        "view_ended",
    ]


async def test_kept_records_are_tried_again_without_new_work(
    log_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing else need be written for a late record to reach the disk."""
    monkeypatch.setattr(writer, "RETRY_SECONDS", 0.05)
    written = asyncio.Event()
    journal = AsyncJournal(
        log_path, clock=clock, name="test", on_late=lambda _: written.set()
    )
    await journal.open()
    real_write = os.write
    failures = [OSError(errno.EIO, "I/O error")]

    def fails_once(fd: int, data: Any) -> int:
        if failures and threading.current_thread().name.startswith("ses-audit-"):
            raise failures.pop()
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", fails_once)
    with pytest.raises(OSError):
        await journal.append("link_revoked", None, {}, keep=True)
    async with asyncio.timeout(30):
        await written.wait()
    await journal.close()

    assert outside_verify(log_lines(log_path)) == [1]
