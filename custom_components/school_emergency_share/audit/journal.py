"""One agreement's audit log on disk: an append-only, hash-chained journal.

`Journal` does blocking file IO and belongs to one thread at a time (the
asyncio face is `writer.AsyncJournal`). Records are sealed by `chain`, made
durable with one write and one fsync per batch, and never half-written: a
failed write is cut back off the file.

Next to `<name>.jsonl` lives `<name>.jsonl.head`, the seq and hash of the last
record known to be durable. It is written after each fsync and may lag the log
after a crash, never lead it; it is what reveals a log whose tail was cut off.
A missing head file counts as "nothing known yet" (a new log has none), so
deleting the log's tail and the head file together goes unnoticed here: the
head kept outside the log's folder (`expected_heads`) is what catches that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
import json
import logging
import os
from pathlib import Path
from typing import Any, Final

from .chain import (
    GENESIS,
    PRUNED_EVENT,
    ChainCheck,
    format_ts,
    load_json,
    parse_ts,
    record_line,
    seal,
    to_json_value,
    verify_lines,
)
from .export import ExportResult, write_export
from .files import (
    DIRECTORY_MODE,
    FILE_MODE,
    TMP_SUFFIX,
    atomic_write,
    complete_length,
    decode,
    in_range,
    parse_record,
    read_bytes,
    require_aware,
    split_lines,
    write_all,
)

_LOGGER = logging.getLogger(__name__)

HEAD_SUFFIX: Final = ".head"
HEAD_UNREADABLE: Final = "head_unreadable"
# Who prunes, unless the caller says otherwise.
RETENTION_ACTOR: Final[Mapping[str, Any]] = {
    "kind": "system",
    "id": None,
    "name": "audit retention",
    "trigger": None,
}

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

    def open(self, witness: tuple[int, str] | None = None) -> ChainCheck:
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
            leftover.with_name(leftover.name + TMP_SUFFIX).unlink(missing_ok=True)
        check = self._load(witness)
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
            write_all(fd, payload)
            os.fsync(fd)
        except BaseException:
            self._cut_back(fd)
            raise
        self._size += len(payload)
        self._next_seq, self._prev = seq, prev
        self._write_head(seq - 1, prev)
        return records

    def verify(self, witness: tuple[int, str] | None = None) -> ChainCheck:
        """Re-read the whole log and check it against its head file and `witness`."""
        return self._check(split_lines(read_bytes(self.path)), witness)

    def read(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Records with `since <= ts < until`, in file order; either bound optional.

        Lines that are not records are skipped (`verify` reports them).
        """
        require_aware(since, until)
        records = (parse_record(line) for line in split_lines(read_bytes(self.path)))
        return [
            record
            for record in records
            if record is not None and in_range(record, since, until)
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
        require_aware(before)
        self._writable_fd()
        lines = split_lines(read_bytes(self.path))
        check = self._check(lines)
        keep_from = len(lines)
        if check.first_bad_line is not None:
            keep_from = check.first_bad_line - 1
        removed = 0
        through: tuple[int, str] | None = None
        for line in lines[:keep_from]:
            record = parse_record(line)
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
        data = read_bytes(self.path)
        if data[:cut] != b"".join(line + b"\n" for line in lines[:removed]):
            raise RuntimeError("the audit log changed while it was being pruned")
        atomic_write(self.path, data[cut:], durable=True)
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
        witness: tuple[int, str] | None = None,
    ) -> ExportResult:
        """Write `<stem>.jsonl` and `<stem>.csv` with the records in a range.

        A range that does not start at the first record is a slice: its first
        `prev` points at a record outside the export, which a verifier must
        take as given (or check against the whole log). `check` verifies the
        whole log, not only the slice.

        Args:
            directory: Where to write; created if missing.
            since: Earliest `ts` included (inclusive); None for no bound.
            until: Latest `ts` (exclusive); None for no bound.
            stem: File name without extension.
            witness: The head kept outside the log's folder, checked too.

        Returns:
            The paths, the number of records exported and the log's check.
        """
        require_aware(since, until)
        lines = split_lines(read_bytes(self.path))
        selected = [
            (line, record)
            for line in lines
            if (record := parse_record(line)) is not None
            and in_range(record, since, until)
        ]
        return write_export(directory, stem, selected, self._check(lines, witness))

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

    def _check(
        self, lines: list[bytes], witness: tuple[int, str] | None = None
    ) -> ChainCheck:
        head, readable = self._read_head()
        check = verify_lines(decode(lines), head, witness)
        if check.valid and not readable:
            # A head file is only ever replaced whole; garbage means tampering.
            check = replace(check, valid=False, problem=HEAD_UNREADABLE)
        return check

    def _load(self, witness: tuple[int, str] | None = None) -> ChainCheck:
        """Repair a torn tail, verify, and position after the last record."""
        data = read_bytes(self.path)
        complete = complete_length(data)
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
        check = self._check(split_lines(data), witness)
        head, _ = self._read_head()
        # Numbering goes on after the highest seq anyone saw, so a hole where
        # records were cut off stays visible once new records follow it.
        self._next_seq = (
            max(check.head_seq, head[0] if head else 0, witness[0] if witness else 0)
            + 1
        )
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
            atomic_write(self.head_path, payload, durable=False)
        except OSError:
            # The records are durable; a lagging head file is allowed.
            _LOGGER.warning("Could not update %s", self.head_path, exc_info=True)
