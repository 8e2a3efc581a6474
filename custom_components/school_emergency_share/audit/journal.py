"""One agreement's audit log on disk, and the non-blocking face asyncio uses.

`Journal` does blocking file IO and belongs to one thread at a time.
`AsyncJournal` gives it a dedicated writer thread so an event loop never waits
on the disk: records submitted while a batch is being fsynced go into the next
batch, and each caller is answered only once its record is durable.

Next to `<name>.jsonl` lives `<name>.jsonl.head`, the seq and hash of the last
record known to be durable. It is written after each fsync and may lag the log
after a crash, never lead it; it is what reveals a log whose tail was cut off.
A missing head file counts as "nothing known yet" (a new log has none), so
deleting the log's tail and the head file together goes unnoticed here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
import contextlib
import csv
from dataclasses import dataclass, field, replace
from datetime import datetime
import errno
import io
import json
import logging
import os
from pathlib import Path
import queue
import threading
from typing import Any, Final

from .chain import (
    FIELDS,
    GENESIS,
    PRUNED_EVENT,
    ChainCheck,
    canonical_json,
    format_ts,
    load_json,
    parse_ts,
    record_line,
    seal,
    to_json_value,
    verify_lines,
)

_LOGGER = logging.getLogger(__name__)

HEAD_SUFFIX: Final = ".head"
HEAD_UNREADABLE: Final = "head_unreadable"
FILE_MODE: Final = 0o600
DIRECTORY_MODE: Final = 0o700
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
# Who prunes, unless the caller says otherwise.
RETENTION_ACTOR: Final[Mapping[str, Any]] = {
    "kind": "system",
    "id": None,
    "name": "audit retention",
    "trigger": None,
}
# At most this many records share one write and one fsync.
MAX_BATCH: Final = 512
# How often an idle writer thread looks whether the application has gone.
_IDLE_POLL_SECONDS: Final = 0.5
_TMP_SUFFIX: Final = ".tmp"

type Entry = tuple[str, Mapping[str, Any] | None, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Draft:
    """A record not yet written: everything but `seq`, `prev` and `hash`.

    Taking the time and a JSON copy of the details up front means a caller can
    keep changing its own dicts, and a detail JSON cannot hold fails at once,
    in the caller, not later in a batch with other records.
    """

    ts: str
    event: str
    actor: dict[str, Any] | None
    data: dict[str, Any]

    @classmethod
    def at(
        cls,
        moment: datetime,
        event: str,
        actor: Mapping[str, Any] | None,
        data: Mapping[str, Any],
    ) -> Draft:
        """Validate and copy one event that happened at `moment`.

        Raises:
            TypeError: `event`, `actor` or `data` has the wrong type, or the
                details hold something JSON cannot.
            ValueError: an empty event, a naive `moment`, NaN in the details.
        """
        if not isinstance(event, str):
            raise TypeError("the audit event must be a string")
        if not event:
            raise ValueError("the audit event must not be empty")
        if actor is not None and not isinstance(actor, Mapping):
            raise TypeError("the audit actor must be a mapping or None")
        if not isinstance(data, Mapping):
            raise TypeError("the audit data must be a mapping")
        return cls(
            ts=format_ts(moment),
            event=event,
            actor=to_json_value(dict(actor)) if actor is not None else None,
            data=to_json_value(dict(data)),
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


def _split_lines(data: bytes) -> list[bytes]:
    """The file's lines without their newlines; a torn last line is kept."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def _decode(lines: Iterable[bytes]) -> list[str]:
    # Invalid UTF-8 can only come from tampering; it must fail the check,
    # not the reading.
    return [line.decode("utf-8", errors="replace") for line in lines]


def _parse(line: bytes) -> dict[str, Any] | None:
    """A line's record (every field there, `ts` readable), or None."""
    try:
        obj = load_json(line)
        if not isinstance(obj, dict) or any(key not in obj for key in FIELDS):
            return None
        parse_ts(obj["ts"])
    except (ValueError, KeyError, TypeError):
        return None
    return obj


def _is_json_object(line: bytes) -> bool:
    try:
        return isinstance(load_json(line), dict)
    except ValueError:
        return False


def _complete_length(data: bytes) -> int:
    """How much of the file holds complete records.

    A crash in the middle of a write leaves a last line without its newline,
    or (blocks written out of order) a last line that is not JSON. Neither
    was ever acknowledged.
    """
    end = data.rfind(b"\n") + 1
    if end:
        start = data.rfind(b"\n", 0, end - 1) + 1
        if not _is_json_object(data[start : end - 1]):
            end = start
    return end


def _require_aware(*moments: datetime | None) -> None:
    for moment in moments:
        if moment is not None and moment.utcoffset() is None:
            raise ValueError("audit time bounds must be timezone-aware")


def _in_range(
    record: Mapping[str, Any], since: datetime | None, until: datetime | None
) -> bool:
    moment = parse_ts(record["ts"])
    return (since is None or since <= moment) and (until is None or moment < until)


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.EIO, "the audit log accepted no bytes")
        view = view[written:]


def _atomic_write(path: Path, payload: bytes, *, durable: bool) -> None:
    """Replace `path` with `payload` all at once (temp file, then rename).

    With `durable`, the data and the rename both reach the disk before this
    returns.
    """
    tmp = path.with_name(path.name + _TMP_SUFFIX)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    try:
        _write_all(fd, payload)
        if durable:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    tmp.replace(path)
    if durable:
        _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


class Journal:
    """An append-only, hash-chained JSON Lines log, blocking.

    Use it from one thread. A record counts as written once `os.fsync` has
    returned; a failed write is cut back off the file, so a failure never
    leaves half a record behind for the next one to follow.
    """

    def __init__(self, path: Path, *, clock: Callable[[], datetime]) -> None:
        """Prepare a journal at `path`; nothing is touched until `open`.

        Args:
            path: The log file, `<config>/school_emergency_share/<entry>.jsonl`.
            clock: Returns the current time as an aware UTC datetime.
        """
        self.path = path
        self.head_path = path.with_name(path.name + HEAD_SUFFIX)
        self._clock = clock
        self._fd: int | None = None
        self._size = 0
        self._next_seq = 1
        self._prev = GENESIS
        self._needs_recovery = False
        self.repaired_tail = False
        self.discarded_bytes = 0

    @property
    def is_open(self) -> bool:
        """Whether `open` has run and `close` has not."""
        return self._fd is not None

    @property
    def next_seq(self) -> int:
        """The seq the next record will get."""
        return self._next_seq

    def open(self) -> ChainCheck:
        """Open for appending: repair a torn tail, verify, find where to go on.

        A torn last line (a crash mid-write) is cut off and reported in
        `repaired_tail` / `discarded_bytes` and the log. New records chain onto
        the last complete record even when the chain is broken: a broken chain
        stays detectably broken. If the head file has seen more records than
        the log still holds, numbering goes on after the head file's seq, so
        the hole stays visible once the head file moves on.

        Returns:
            The verification of the log as found (after the tail repair).
        """
        if self._fd is not None:
            raise RuntimeError("the audit journal is already open")
        self.path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        for leftover in (self.path, self.head_path):
            leftover.with_name(leftover.name + _TMP_SUFFIX).unlink(missing_ok=True)
        check = self._load()
        self._open_for_append()
        return check

    def close(self) -> None:
        """Release the file. Idempotent."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def append(
        self, event: str, actor: Mapping[str, Any] | None, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Write one record durably.

        Returns:
            The sealed record, as written.
        """
        return self.append_many([(event, actor, data)])[0]

    def append_many(self, items: Iterable[Entry]) -> list[dict[str, Any]]:
        """Write records with one write and one fsync; all or none of them.

        Returns:
            The sealed records in order.
        """
        moment = self._clock()
        return self.commit(
            [Draft.at(moment, event, actor, data) for event, actor, data in items]
        )

    def commit(self, drafts: Sequence[Draft]) -> list[dict[str, Any]]:
        """Seal and write drafts (group commit); all or none of them.

        Returns:
            The sealed records in order.
        """
        fd = self._writable_fd()
        if not drafts:
            return []
        records: list[dict[str, Any]] = []
        seq, prev = self._next_seq, self._prev
        for draft in drafts:
            record = seal(
                seq=seq,
                ts=draft.ts,
                event=draft.event,
                actor=draft.actor,
                data=draft.data,
                prev=prev,
            )
            records.append(record)
            seq, prev = seq + 1, record["hash"]
        payload = "".join(record_line(record) + "\n" for record in records).encode()
        try:
            _write_all(fd, payload)
            os.fsync(fd)
        except BaseException:
            self._cut_back(fd)
            raise
        self._size += len(payload)
        self._next_seq, self._prev = seq, prev
        self._write_head(seq - 1, prev)
        return records

    def verify(self) -> ChainCheck:
        """Re-read the whole log and check it, head file included."""
        return self._check(_split_lines(self._read_bytes()))

    def read(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Records with `since <= ts < until`, in file order; either bound optional.

        Lines that are not records are skipped (`verify` reports them).
        """
        _require_aware(since, until)
        records = (_parse(line) for line in _split_lines(self._read_bytes()))
        return [
            record
            for record in records
            if record is not None and _in_range(record, since, until)
        ]

    def prune(
        self,
        before: datetime,
        *,
        actor: Mapping[str, Any] | None = RETENTION_ACTOR,
    ) -> int:
        """Remove the leading records older than `before`; the rest verifies.

        First an `audit_pruned` anchor naming the last record to go is appended
        and fsynced, then the file is rewritten without the removed records
        (temp file, fsync, rename, fsync of the directory). A crash at any
        point leaves a verifiable log: before the rename it still holds
        everything, after it the anchor vouches for the new first record.

        Only a leading run goes, so the rest stays one chain: pruning stops at
        the first record at or after `before`, at the first bad line (records
        that show tampering are evidence and stay) and before the new anchor.

        Returns:
            How many records were removed.
        """
        _require_aware(before)
        self._writable_fd()
        lines = _split_lines(self._read_bytes())
        check = self._check(lines)
        keep_from = len(lines)
        if check.first_bad_line is not None:
            keep_from = check.first_bad_line - 1
        removed = 0
        through: tuple[int, str] | None = None
        for line in lines[:keep_from]:
            record = _parse(line)
            if record is None or parse_ts(record["ts"]) >= before:
                break
            removed += 1
            through = (record["seq"], record["hash"])
        if through is None:
            return 0
        self.commit(
            [
                Draft.at(
                    self._clock(),
                    PRUNED_EVENT,
                    actor,
                    {
                        "through_seq": through[0],
                        "through_hash": through[1],
                        "removed": removed,
                        "before": format_ts(before),
                    },
                )
            ]
        )
        cut = sum(len(line) + 1 for line in lines[:removed])
        data = self._read_bytes()
        if data[:cut] != b"".join(line + b"\n" for line in lines[:removed]):
            raise RuntimeError("the audit log changed while it was being pruned")
        _atomic_write(self.path, data[cut:], durable=True)
        # The old descriptor points at the replaced file.
        self.close()
        self._open_for_append()
        return removed

    def export(
        self,
        directory: Path,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        stem: str,
    ) -> ExportResult:
        """Write `<stem>.jsonl` and `<stem>.csv` with the records in a range.

        The JSONL holds the log's lines byte for byte, so anyone can recompute
        every hash and link. A range that does not start at the first record is
        a slice: its first `prev` points at a record outside the export, which
        a verifier must take as given (or check against the whole log). The CSV
        is for reading, with `data` as canonical JSON. `check` verifies the
        whole log, not only the slice.

        Args:
            directory: Where to write; created if missing.
            since: Earliest `ts` included (inclusive); None for no bound.
            until: Latest `ts` (exclusive); None for no bound.
            stem: File name without extension.

        Returns:
            The paths, the number of records exported and the log's check.
        """
        _require_aware(since, until)
        if not stem or stem in {".", ".."} or Path(stem).name != stem:
            raise ValueError(f"not a plain file name: {stem!r}")
        lines = _split_lines(self._read_bytes())
        check = self._check(lines)
        selected: list[tuple[bytes, dict[str, Any]]] = []
        for line in lines:
            record = _parse(line)
            if record is not None and _in_range(record, since, until):
                selected.append((line, record))
        directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        jsonl_path = directory / f"{stem}.jsonl"
        csv_path = directory / f"{stem}.csv"
        _atomic_write(
            jsonl_path, b"".join(line + b"\n" for line, _ in selected), durable=True
        )
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_csv_row(record) for _, record in selected)
        _atomic_write(csv_path, text.getvalue().encode(), durable=True)
        return ExportResult(jsonl_path, csv_path, len(selected), check)

    def _read_bytes(self) -> bytes:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return b""

    def _read_head(self) -> tuple[tuple[int, str] | None, bool]:
        """The head file's `(seq, hash)` (None when absent) and its readability."""
        try:
            head = load_json(self.head_path.read_bytes())
        except FileNotFoundError:
            return None, True
        except (OSError, ValueError):
            return None, False
        if (
            isinstance(head, dict)
            and type(head.get("seq")) is int
            and isinstance(head.get("hash"), str)
        ):
            return (head["seq"], head["hash"]), True
        return None, False

    def _check(self, lines: list[bytes]) -> ChainCheck:
        head, readable = self._read_head()
        check = verify_lines(_decode(lines), head)
        if check.valid and not readable:
            # A head file is only ever replaced whole; garbage means tampering.
            check = replace(check, valid=False, problem=HEAD_UNREADABLE)
        return check

    def _load(self) -> ChainCheck:
        """Repair a torn tail, verify, and position after the last record."""
        data = self._read_bytes()
        complete = _complete_length(data)
        if complete < len(data):
            with self.path.open("r+b") as file:
                file.truncate(complete)
                os.fsync(file.fileno())
            self.repaired_tail = True
            self.discarded_bytes += len(data) - complete
            _LOGGER.warning(
                "Audit log %s ended in %d bytes of a record that was never "
                "acknowledged (a crash mid-write); removed them",
                self.path,
                len(data) - complete,
            )
            data = data[:complete]
        check = self._check(_split_lines(data))
        head, _ = self._read_head()
        self._next_seq = max(check.head_seq, head[0] if head else 0) + 1
        self._prev = check.head_hash
        if not check.valid:
            _LOGGER.warning(
                "Audit log %s fails verification at line %s (seq %s): %s",
                self.path,
                check.first_bad_line,
                check.first_bad_seq,
                check.problem,
            )
        return check

    def _open_for_append(self) -> int:
        flags = os.O_APPEND | os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC
        fd = os.open(self.path, flags, FILE_MODE)
        self._size = os.fstat(fd).st_size
        self._fd = fd
        self._needs_recovery = False
        return fd

    def _writable_fd(self) -> int:
        if self._fd is None:
            raise RuntimeError("the audit journal is not open")
        if self._needs_recovery:
            # A failed write could not be cut back: find the last complete
            # record again before writing after it.
            self.close()
            self._load()
            return self._open_for_append()
        return self._fd

    def _cut_back(self, fd: int) -> None:
        """Remove whatever part of a failed batch reached the file."""
        try:
            os.ftruncate(fd, self._size)
        except OSError:
            _LOGGER.exception("Could not cut a failed write off %s", self.path)
            self._needs_recovery = True

    def _write_head(self, seq: int, record_hash: str) -> None:
        payload = json.dumps({"seq": seq, "hash": record_hash}).encode()
        try:
            _atomic_write(self.head_path, payload, durable=False)
        except OSError:
            # The records are durable; a lagging head file is allowed.
            _LOGGER.warning("Could not update %s", self.head_path, exc_info=True)


@dataclass(slots=True)
class _Job:
    """Work for the writer thread and the caller waiting for it."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    draft: Draft | None = None
    call: Callable[[], Any] | None = None
    stop: bool = field(default=False)

    def settle(self, result: Any = None, error: BaseException | None = None) -> None:
        """Hand the outcome to the waiting caller on its own loop."""

        def deliver() -> None:
            if self.future.done():  # the caller stopped waiting
                return
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(result)

        # A closed loop raises RuntimeError: nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(deliver)


class AsyncJournal:
    """The audit journal for an asyncio application; the loop never touches disk.

    One writer thread owns the `Journal`. Appends are queued in submission
    order (which is seq order) and written in batches of whatever accumulated
    while the previous batch was being fsynced. Every other operation runs in
    the same thread, so it sees every record submitted before it.

    The thread is not a daemon: records already submitted are written even if
    the application exits without `close`, after which the idle thread notices
    the main thread has ended and stops by itself.
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], datetime],
        name: str | None = None,
    ) -> None:
        """Prepare the journal; `open` starts the writer thread.

        Args:
            path: The log file.
            clock: Returns the current time as an aware UTC datetime; read when
                a record is submitted.
            name: Names the writer thread `ses-audit-<name>`; the file's stem
                by default.
        """
        self._journal = Journal(path, clock=clock)
        self._clock = clock
        self._name = name or path.stem
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._accepting = False
        self._closed = False
        self._stopping: asyncio.Future[Any] | None = None

    @property
    def path(self) -> Path:
        """The log file."""
        return self._journal.path

    @property
    def repaired_tail(self) -> bool:
        """Whether `open` cut off a torn last record."""
        return self._journal.repaired_tail

    async def open(self) -> ChainCheck:
        """Start the writer thread and open the log (see `Journal.open`).

        Returns:
            The verification of the log as found.
        """
        if self._closed or self._thread is not None:
            raise RuntimeError("the audit journal was already opened or closed")
        thread = threading.Thread(
            target=self._run, name=f"ses-audit-{self._name}", daemon=False
        )
        self._thread = thread
        thread.start()
        try:
            check: ChainCheck = await self._call(self._journal.open)
        except BaseException:
            await self._shut_down(thread)
            if not self._closed:  # a later open may try again
                self._thread, self._stopping = None, None
            raise
        if self._closed:
            raise RuntimeError("the audit journal was closed while it opened")
        self._accepting = True
        return check

    def submit(
        self, event: str, actor: Mapping[str, Any] | None, data: Mapping[str, Any]
    ) -> asyncio.Future[dict[str, Any]]:
        """Queue a record; the future resolves once it is durable.

        The event's time and a copy of `actor` and `data` are taken now.
        Cancelling the future does not take the record back.

        Raises:
            RuntimeError: the journal is not open, or closed.
        """
        if not self._accepting:
            raise RuntimeError("the audit journal is not open")
        draft = Draft.at(self._clock(), event, actor, data)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._queue.put(_Job(loop, future, draft=draft))
        return future

    async def append(
        self, event: str, actor: Mapping[str, Any] | None, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Write one record; returns the sealed record once it is durable."""
        return await self.submit(event, actor, data)

    async def verify(self) -> ChainCheck:
        """See `Journal.verify`."""
        check: ChainCheck = await self._call(self._journal.verify, running=True)
        return check

    async def read(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[dict[str, Any]]:
        """See `Journal.read`."""
        records: list[dict[str, Any]] = await self._call(
            lambda: self._journal.read(since, until), running=True
        )
        return records

    async def prune(self, before: datetime) -> int:
        """See `Journal.prune`."""
        removed: int = await self._call(
            lambda: self._journal.prune(before), running=True
        )
        return removed

    async def export(
        self,
        directory: Path,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        stem: str,
    ) -> ExportResult:
        """See `Journal.export`."""
        result: ExportResult = await self._call(
            lambda: self._journal.export(
                directory, since=since, until=until, stem=stem
            ),
            running=True,
        )
        return result

    async def close(self) -> None:
        """Write everything already submitted, then stop the thread. Idempotent."""
        self._closed = True
        self._accepting = False
        if self._thread is None:
            return
        await self._shut_down(self._thread)

    async def _call(self, call: Callable[[], Any], *, running: bool = False) -> Any:
        if running and not self._accepting:
            raise RuntimeError("the audit journal is not open")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put(_Job(loop, future, call=call))
        return await future

    async def _shut_down(self, thread: threading.Thread) -> None:
        if self._stopping is None:
            loop = asyncio.get_running_loop()
            self._stopping = loop.create_future()
            self._queue.put(_Job(loop, self._stopping, stop=True))
        await asyncio.shield(self._stopping)
        # The thread settled the stop job as its last act; this join is short.
        thread.join()

    def _run(self) -> None:
        """The writer thread: batches of appends, other calls in between."""
        held: _Job | None = None
        while True:
            job = held if held is not None else self._next_job()
            held = None
            if job is None:
                # The application ended without `close`; everything queued
                # has been written.
                self._release()
                return
            if job.stop:
                self._release()
                job.settle()
                return
            if job.call is not None:
                self._run_call(job, job.call)
                continue
            batch = [job]
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt.draft is None:
                    held = nxt
                    break
                batch.append(nxt)
            self._write_batch(batch)

    def _next_job(self) -> _Job | None:
        while True:
            try:
                return self._queue.get(timeout=_IDLE_POLL_SECONDS)
            except queue.Empty:
                if not threading.main_thread().is_alive():
                    return None

    def _release(self) -> None:
        try:
            self._journal.close()
        except OSError:
            _LOGGER.exception("Could not close %s", self._journal.path)

    def _run_call(self, job: _Job, call: Callable[[], Any]) -> None:
        try:
            result = call()
        except Exception as err:  # noqa: BLE001 - handed to the caller
            job.settle(error=err)
        else:
            job.settle(result)

    def _write_batch(self, batch: list[_Job]) -> None:
        drafts = [job.draft for job in batch if job.draft is not None]
        try:
            records = self._journal.commit(drafts)
        except Exception as err:  # noqa: BLE001 - handed to every caller in the batch
            for job in batch:
                job.settle(error=err)
            return
        for job, record in zip(batch, records, strict=True):
            job.settle(record)


__all__ = [
    "CSV_COLUMNS",
    "AsyncJournal",
    "Draft",
    "Entry",
    "ExportResult",
    "Journal",
]
