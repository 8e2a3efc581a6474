"""File primitives of the audit log: reading lines, durable and atomic writes.

Blocking, for the journal's worker thread. A record is durable once `fsync`
has returned; a file replaced with `atomic_write` is either the old one or
the new one, never a mix, even across a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
import errno
import os
from pathlib import Path
from typing import Any, Final

from .chain import FIELDS, load_json, parse_ts

FILE_MODE: Final = 0o600
DIRECTORY_MODE: Final = 0o700
TMP_SUFFIX: Final = ".tmp"


def read_bytes(path: Path) -> bytes:
    """The file's bytes; nothing for a file that does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def split_lines(data: bytes) -> list[bytes]:
    """The file's lines without their newlines; a torn last line is kept."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def decode(lines: Iterable[bytes]) -> list[str]:
    """Lines as text for the verifier.

    Invalid UTF-8 can only come from tampering; it must fail the check,
    not the reading.
    """
    return [line.decode("utf-8", errors="replace") for line in lines]


def parse_record(line: bytes) -> dict[str, Any] | None:
    """A line's record (every field there, `ts` readable), or None."""
    try:
        obj = load_json(line)
        if not isinstance(obj, dict) or any(key not in obj for key in FIELDS):
            return None
        parse_ts(obj["ts"])
    except (ValueError, KeyError, TypeError):
        return None
    return obj


def is_json_object(line: bytes) -> bool:
    """Whether the line is a JSON object (a record, sound or not)."""
    try:
        return isinstance(load_json(line), dict)
    except ValueError:
        return False


def complete_length(data: bytes) -> int:
    """How much of the file holds complete records.

    A crash in the middle of a write leaves a last line without its newline,
    or (blocks written out of order) a last line that is not JSON. Neither
    was ever acknowledged.
    """
    end = data.rfind(b"\n") + 1
    if end:
        start = data.rfind(b"\n", 0, end - 1) + 1
        if not is_json_object(data[start : end - 1]):
            end = start
    return end


def require_aware(*moments: datetime | None) -> None:
    """Refuse naive time bounds: records are in UTC."""
    for moment in moments:
        if moment is not None and moment.utcoffset() is None:
            raise ValueError("audit time bounds must be timezone-aware")


def in_range(
    record: Mapping[str, Any], since: datetime | None, until: datetime | None
) -> bool:
    """Whether `since <= ts < until` (either bound optional)."""
    moment = parse_ts(record["ts"])
    return (since is None or since <= moment) and (until is None or moment < until)


def write_all(fd: int, payload: bytes) -> None:
    """Write all of `payload`, however many calls the kernel needs."""
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.EIO, "the audit log accepted no bytes")
        view = view[written:]


def atomic_write(path: Path, payload: bytes, *, durable: bool) -> None:
    """Replace `path` with `payload` all at once (temp file, then rename).

    With `durable`, the data and the rename both reach the disk before this
    returns.
    """
    tmp = path.with_name(path.name + TMP_SUFFIX)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    try:
        write_all(fd, payload)
        if durable:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    tmp.replace(path)
    if durable:
        fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
