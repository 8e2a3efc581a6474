"""The hash chain: sealing records and verifying a log line by line.

Pure functions over plain data, no file access and no clock. A record is one
JSON object per line with the keys `seq`, `ts`, `event`, `actor`, `data`,
`prev` and `hash`, where

    hash = sha256(prev + canonical_json(record without "hash")).hexdigest()
    canonical_json(obj) = json.dumps(obj, sort_keys=True, separators=(",", ":"))

and `prev` is the previous record's `hash` (`GENESIS` for the first record ever
written). Anyone can check a log with those two lines of Python; this module is
the same check with precise reporting of where it fails.

Pruning (retention) removes a leading run of records. Before it does, it
appends an `audit_pruned` anchor naming the last removed record's seq and hash,
so the shortened log still proves where it starts.

The chain has no key. It shows any edit, deletion, insertion or reordering by
someone who does not recompute the hashes after it, and the head file (see
`journal`) shows a cut-off tail. Someone who rewrites the whole file and the
head file consistently is only caught by a copy kept elsewhere, such as an
earlier export: compare its last hash with the same seq in the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
import hashlib
import json
import math
import re
from typing import Any, Final

GENESIS: Final = "0" * 64
PRUNED_EVENT: Final = "audit_pruned"

FIELDS: Final = ("seq", "ts", "event", "actor", "data", "prev", "hash")

# Reasons `ChainCheck.problem` can carry.
NOT_JSON: Final = "not_json"  # a line that is not a strict JSON object
TRUNCATED_TAIL: Final = "truncated_tail"  # the same, on the last line
MISSING_FIELD: Final = "missing_field"
UNEXPECTED_FIELD: Final = "unexpected_field"
INVALID_FIELD: Final = "invalid_field"  # wrong type or shape
HASH_MISMATCH: Final = "hash_mismatch"  # the record was changed
PREV_MISMATCH: Final = "prev_mismatch"  # it does not follow the record before
SEQ_GAP: Final = "seq_gap"  # not the next seq: deleted, inserted or moved lines
UNANCHORED_START: Final = "unanchored_start"  # leading records gone, no anchor
TAIL_MISSING: Final = "tail_missing"  # the head file's record is not in the log
# The witness (the head kept outside the log's folder) saw a record the log no
# longer holds: cut short, or rolled back to an older copy.
BEHIND_WITNESS: Final = "behind_witness"
# The log holds the witness's seq with another hash: rewritten since.
WITNESS_MISMATCH: Final = "witness_mismatch"

_HEX64: Final = re.compile(r"[0-9a-f]{64}")


def canonical_json(obj: Any) -> str:
    """The one serialisation hashes are computed over.

    Sorted keys, no spaces, ASCII only. NaN and infinities are refused: they
    are not JSON and other verifiers would not read them back.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def load_json(text: str | bytes) -> Any:
    """Parse strict JSON: no NaN, no infinities, nothing nested absurdly deep.

    Raises:
        ValueError: `text` is not such JSON.
    """
    try:
        return json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float
        )
    except RecursionError as err:
        raise ValueError("JSON nested too deeply") from err


def compute_hash(record_without_hash: Mapping[str, Any]) -> str:
    """SHA-256 hex of `prev` followed by the canonical JSON of the record.

    A `hash` key, if present, is left out, so a whole record can be passed.
    """
    body = {key: value for key, value in record_without_hash.items() if key != "hash"}
    payload = str(body["prev"]) + canonical_json(body)
    return hashlib.sha256(payload.encode()).hexdigest()


def format_ts(moment: datetime) -> str:
    """A record's `ts`: ISO 8601 in UTC. Naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return moment.astimezone(UTC).isoformat()


def parse_ts(value: str) -> datetime:
    """Read a record's `ts` back; raises ValueError when it is not aware ISO 8601."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return moment


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_ts(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _sorted_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(sorted(pairs))
    if len(obj) != len(pairs):
        raise ValueError("two keys become the same string in JSON")
    return obj


def to_json_value(value: Any) -> Any:
    """A deep copy of `value` exactly as it will read back from the log.

    Tuples become lists, keys become strings (objects sorted by key),
    datetimes become ISO strings and sets sorted lists; anything else JSON
    cannot hold raises TypeError or ValueError. Hashing the read-back form
    means a record's hash checks out after any JSON round trip.
    """
    text = json.dumps(value, allow_nan=False, default=_json_default)
    return json.loads(text, object_pairs_hook=_sorted_object)


def seal(
    *,
    seq: int,
    ts: str,
    event: str,
    actor: Mapping[str, Any] | None,
    data: Mapping[str, Any],
    prev: str,
) -> dict[str, Any]:
    """Build a record, `hash` included, ready to be written as one line.

    Args:
        seq: The record's sequence number (the previous one plus 1).
        ts: When it happened, as `format_ts` writes it.
        event: What happened.
        actor: Who did it, or None.
        data: The details.
        prev: The previous record's hash, `GENESIS` for the first record.

    Returns:
        The record with its keys in the order of `FIELDS`.
    """
    record: dict[str, Any] = {
        "seq": seq,
        "ts": ts,
        "event": event,
        "actor": to_json_value(dict(actor)) if actor is not None else None,
        "data": to_json_value(dict(data)),
        "prev": prev,
    }
    record["hash"] = compute_hash(record)
    return record


def record_line(record: Mapping[str, Any]) -> str:
    """The line a sealed record is written as (without the newline).

    Fields in `FIELDS` order for people reading the file; nested objects keep
    the sorted order `seal` gave them. Only ASCII, one line.
    """
    return json.dumps(
        {key: record[key] for key in FIELDS}, separators=(",", ":"), allow_nan=False
    )


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """What verifying a log found.

    `first_bad_seq` is the seq as it appears on the first bad line (for a
    deleted record: the seq of the record after the hole; for `tail_missing`:
    the seq the head file expected); it is None when that line has no readable
    seq. `first_bad_line` is 1-based (None for a record no longer in the file).
    `records` counts the lines examined. `head_seq` / `head_hash` are those of the
    last readable record in the file, whatever its validity (0 and `GENESIS`
    for an empty log): the place new records chain onto.
    """

    valid: bool
    records: int
    first_bad_seq: int | None = None
    first_bad_line: int | None = None
    problem: str | None = None
    head_seq: int = 0
    head_hash: str = GENESIS

    def as_dict(self) -> dict[str, Any]:
        """Plain data for diagnostics, services and logs."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Fault:
    line: int | None
    seq: int | None
    problem: str


@dataclass(slots=True)
class _Scan:
    """Running state of one pass over the lines."""

    lines: int = 0
    fault: _Fault | None = None
    last_seq: int = 0
    last_hash: str = GENESIS
    # The chain's expectations, followed while no fault has been seen.
    expect_seq: int | None = None
    expect_prev: str = GENESIS
    first: tuple[int, str] | None = None
    # (through_seq, through_hash) of every intact pruning anchor.
    anchors: set[tuple[int, str]] = field(default_factory=set)
    # seq -> (hash, line) as they appear, for the head check.
    hashes: dict[int, tuple[str, int]] = field(default_factory=dict)

    def fail(self, line: int, seq: int | None, problem: str) -> None:
        if self.fault is None:
            self.fault = _Fault(line, seq, problem)


def _seq_of(obj: Mapping[str, Any]) -> int | None:
    seq = obj.get("seq")
    return seq if type(seq) is int else None


def _field_problem(obj: Mapping[str, Any]) -> str | None:
    """Why a parsed object is not a well-formed record, or None."""
    if any(key not in obj for key in FIELDS):
        return MISSING_FIELD
    if len(obj) != len(FIELDS):
        return UNEXPECTED_FIELD
    seq, ts = obj["seq"], obj["ts"]
    well_formed = (
        type(seq) is int
        and seq >= 1
        and isinstance(ts, str)
        and isinstance(obj["event"], str)
        and obj["event"] != ""
        and (obj["actor"] is None or isinstance(obj["actor"], dict))
        and isinstance(obj["data"], dict)
        and isinstance(obj["prev"], str)
        and _HEX64.fullmatch(obj["prev"]) is not None
        and isinstance(obj["hash"], str)
        and _HEX64.fullmatch(obj["hash"]) is not None
    )
    if not well_formed:
        return INVALID_FIELD
    try:
        parse_ts(ts)
    except ValueError:
        return INVALID_FIELD
    return None


def _anchor_of(obj: Mapping[str, Any]) -> tuple[int, str] | None:
    """The (through_seq, through_hash) an `audit_pruned` record vouches for.

    Read as it appears: a damaged anchor is reported at its own line, and the
    start it vouches for is not blamed for it.
    """
    data = obj.get("data")
    if obj.get("event") != PRUNED_EVENT or not isinstance(data, dict):
        return None
    through_seq = data.get("through_seq")
    through_hash = data.get("through_hash")
    if type(through_seq) is int and isinstance(through_hash, str):
        return through_seq, through_hash
    return None


def _scan_line(scan: _Scan, number: int, text: str, *, last: bool) -> None:
    """Check one line and fold it into the scan."""
    try:
        obj = load_json(text)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        scan.fail(number, None, TRUNCATED_TAIL if last else NOT_JSON)
        return
    # Anchors count wherever they are in the file.
    anchor = _anchor_of(obj)
    if anchor is not None:
        scan.anchors.add(anchor)
    problem = _field_problem(obj)
    if problem is not None:
        scan.fail(number, _seq_of(obj), problem)
        return
    seq: int = obj["seq"]
    record_hash: str = obj["hash"]
    scan.last_seq, scan.last_hash = seq, record_hash
    scan.hashes.setdefault(seq, (record_hash, number))
    if compute_hash(obj) != record_hash:
        scan.fail(number, seq, HASH_MISMATCH)
        return
    if scan.fault is None:
        _follow_chain(scan, number, obj)


def _follow_chain(scan: _Scan, number: int, record: Mapping[str, Any]) -> None:
    """Check an intact record's place in the chain."""
    seq: int = record["seq"]
    if scan.expect_seq is None:
        # The first record: seq 1 starts from GENESIS; a later seq must be
        # vouched for by an anchor, checked once the whole file is read.
        scan.first = (seq, record["prev"])
        if seq == 1 and record["prev"] != GENESIS:
            scan.fail(number, seq, PREV_MISMATCH)
    elif seq != scan.expect_seq:
        scan.fail(number, seq, SEQ_GAP)
    elif record["prev"] != scan.expect_prev:
        scan.fail(number, seq, PREV_MISMATCH)
    scan.expect_seq, scan.expect_prev = seq + 1, record["hash"]


def _head_fault(
    scan: _Scan, expected_head: tuple[int, str], *, missing: str, changed: str
) -> _Fault | None:
    """Whether the record a head last saw is still in the log, unchanged."""
    head_seq, head_hash = expected_head
    if head_seq <= 0:
        return None
    if scan.first is not None and head_seq < scan.first[0]:
        # Pruned since the head was written: nothing left to compare with.
        return None
    found = scan.hashes.get(head_seq)
    if found is None:
        return _Fault(None, head_seq, missing)
    if found[0] != head_hash:
        return _Fault(found[1], head_seq, changed)
    return None


def verify_lines(
    lines: Iterable[str],
    expected_head: tuple[int, str] | None = None,
    witness: tuple[int, str] | None = None,
) -> ChainCheck:
    """Check a log's lines and name the first bad one.

    Detects an edited field (the record's hash no longer matches), a deleted,
    inserted or moved line (seq or prev out of step), junk, a torn last line,
    a start that no pruning anchor vouches for, and, given the head file's
    `(seq, hash)`, a deleted tail. The head may lag behind the log; that is
    fine. Lines may keep or drop their trailing newline.

    Args:
        lines: The log's lines in file order.
        expected_head: `(seq, hash)` of the last record known to be written,
            from the head file beside the log.
        witness: The same, kept outside the log's folder (it may lag too); a
            log that no longer holds it was cut short or rolled back.

    Returns:
        The verdict; when invalid, the first bad line and why.
    """
    scan = _Scan()
    pending: str | None = None
    for text in lines:
        if pending is not None:
            scan.lines += 1
            _scan_line(scan, scan.lines, pending, last=False)
        pending = text.rstrip("\r\n")
    if pending is not None:
        scan.lines += 1
        _scan_line(scan, scan.lines, pending, last=True)

    fault = scan.fault
    if (
        scan.first is not None
        and scan.first[0] > 1
        and (scan.first[0] - 1, scan.first[1]) not in scan.anchors
    ):
        # The first record comes before any other fault.
        fault = _Fault(1, scan.first[0], UNANCHORED_START)
    if fault is None and expected_head is not None:
        fault = _head_fault(
            scan, expected_head, missing=TAIL_MISSING, changed=TAIL_MISSING
        )
    if fault is None and witness is not None:
        fault = _head_fault(
            scan, witness, missing=BEHIND_WITNESS, changed=WITNESS_MISMATCH
        )
    return ChainCheck(
        valid=fault is None,
        records=scan.lines,
        first_bad_seq=fault.seq if fault else None,
        first_bad_line=fault.line if fault else None,
        problem=fault.problem if fault else None,
        head_seq=scan.last_seq,
        head_hash=scan.last_hash,
    )
