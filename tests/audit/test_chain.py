"""The hash chain: sealing, and finding the first place a log was tampered with."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
import hashlib
import json
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings, strategies as st
import pytest

from custom_components.school_emergency_share.audit.chain import (
    FIELDS,
    GENESIS,
    PRUNED_EVENT,
    ChainCheck,
    canonical_json,
    compute_hash,
    format_ts,
    record_line,
    seal,
    verify_lines,
)

from .support import START, edit_field, outside_verify

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
PROPERTY = settings(max_examples=100, deadline=None)


def build_log(
    count: int, *, first_seq: int = 1, prev: str = GENESIS
) -> list[dict[str, Any]]:
    """`count` sealed records, a viewer watching one camera after another."""
    records: list[dict[str, Any]] = []
    for index in range(count):
        record = seal(
            seq=first_seq + index,
            ts=format_ts(START + timedelta(minutes=index)),
            event="view_started",
            actor={"kind": "viewer", "id": f"link-{index}", "name": "Unit 7"},
            data={"camera": "camera.gym", "viewers": index},
            prev=prev,
        )
        records.append(record)
        prev = record["hash"]
    return records


def lines_of(records: list[dict[str, Any]]) -> list[str]:
    """The records as log lines."""
    return [record_line(record) for record in records]


def head_of(records: list[dict[str, Any]]) -> tuple[int, str]:
    """What the head file says after writing `records`."""
    return records[-1]["seq"], records[-1]["hash"]


def assert_names(
    check: ChainCheck, *, line: int | None, seq: int | None, problem: str
) -> None:
    """The check fails and points at `line` / `seq` for `problem`."""
    assert not check.valid
    assert (check.first_bad_line, check.first_bad_seq, check.problem) == (
        line,
        seq,
        problem,
    )


def test_a_sealed_record_hashes_prev_then_its_canonical_json() -> None:
    """The published formula, recomputed here by hand, gives the record's hash."""
    record = seal(
        seq=1,
        ts="2026-03-02T08:00:00+00:00",
        event="session_started",
        actor={"kind": "user", "id": "abc", "name": "Principal Ortiz"},
        data={"reason": "Fire alarm, east wing", "cameras": ["camera.hall"]},
        prev=GENESIS,
    )

    body = {key: value for key, value in record.items() if key != "hash"}
    expected = hashlib.sha256(
        (GENESIS + json.dumps(body, sort_keys=True, separators=(",", ":"))).encode()
    ).hexdigest()
    assert record["hash"] == expected == compute_hash(record)
    assert list(record) == list(FIELDS)


def test_canonical_json_is_sorted_compact_and_ascii() -> None:
    """Sorted keys, no spaces, non-ASCII escaped: one byte string per value."""
    assert canonical_json({"b": 1, "a": ["é", None]}) == '{"a":["\\u00e9",null],"b":1}'


def test_a_record_still_verifies_after_its_details_go_through_json() -> None:
    """Details are stored (and hashed) in the form JSON reads back.

    Tuples, integer keys, datetimes and sets are converted before hashing, so
    the hash is over what a verifier will see.
    """
    data: dict[Any, Any] = {
        "cameras": ("camera.b", "camera.a"),
        2: "two",
        10: "ten",
        "expires_at": START + timedelta(hours=1),
        "scope": {"camera.z", "camera.y"},
    }
    record = seal(
        seq=1,
        ts=format_ts(START),
        event="link_created",
        actor=None,
        data=data,
        prev=GENESIS,
    )

    assert record["data"]["expires_at"] == "2026-03-02T09:00:00+00:00"
    assert record["data"]["scope"] == ["camera.y", "camera.z"]
    assert verify_lines([record_line(record)]).valid
    assert outside_verify([record_line(record)]) == [1]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_details_json_cannot_hold_are_refused(bad: float) -> None:
    """NaN and infinities would make lines other verifiers cannot read."""
    with pytest.raises(ValueError):
        seal(
            seq=1,
            ts=format_ts(START),
            event="x",
            actor=None,
            data={"v": bad},
            prev=GENESIS,
        )


def test_naive_timestamps_are_refused() -> None:
    """A time without a zone cannot be written as UTC."""
    with pytest.raises(ValueError):
        format_ts(datetime(2026, 3, 2, 8, 0))  # noqa: DTZ001 - the point of the test


def test_timestamps_are_written_in_utc() -> None:
    """Whatever zone the clock uses, `ts` is UTC."""
    eastern = START.astimezone(ZoneInfo("America/New_York"))
    assert format_ts(eastern) == "2026-03-02T08:00:00+00:00"


def test_an_intact_log_verifies_and_reports_its_head() -> None:
    """An untouched log is valid and names its last record."""
    records = build_log(5)

    check = verify_lines(lines_of(records), head_of(records))

    assert check == ChainCheck(
        valid=True, records=5, head_seq=5, head_hash=records[-1]["hash"]
    )
    assert check.as_dict()["valid"] is True


def test_an_empty_log_is_valid_and_starts_from_genesis() -> None:
    """No records: valid, head at seq 0 and the all-zero hash."""
    assert verify_lines([]) == ChainCheck(valid=True, records=0)
    assert verify_lines([], (0, GENESIS)).valid


def test_lines_may_keep_their_newlines() -> None:
    """Lines straight from a file verify the same as stripped ones."""
    assert verify_lines([line + "\n" for line in lines_of(build_log(3))]).valid


def test_an_edited_detail_names_that_record() -> None:
    """Changing a record's details breaks its own hash."""
    lines = lines_of(build_log(5))
    lines[2] = edit_field(lines[2], "data", {"camera": "camera.locker_room"})

    assert_names(verify_lines(lines), line=3, seq=3, problem="hash_mismatch")


def test_a_deleted_middle_record_names_the_record_after_the_hole() -> None:
    """The record after a hole is named, its seq showing the gap."""
    lines = lines_of(build_log(5))
    del lines[2]

    assert_names(verify_lines(lines), line=3, seq=4, problem="seq_gap")


def test_a_deleted_first_record_leaves_an_unanchored_start() -> None:
    """A log starting after seq 1 with no anchor is a cut-off log."""
    lines = lines_of(build_log(5))
    del lines[0]

    assert_names(verify_lines(lines), line=1, seq=2, problem="unanchored_start")


def test_a_deleted_last_record_is_caught_by_the_head() -> None:
    """Only the head file knows the last record; it names the missing seq."""
    records = build_log(5)
    lines = lines_of(records)[:-1]

    assert verify_lines(lines).valid  # nothing in the file itself shows it
    check = verify_lines(lines, head_of(records))
    assert_names(check, line=None, seq=5, problem="tail_missing")
    assert (check.head_seq, check.head_hash) == (4, records[3]["hash"])


def test_a_head_that_lags_behind_the_log_is_fine() -> None:
    """After a crash the head may be behind the log; that is no tampering."""
    records = build_log(5)

    assert verify_lines(lines_of(records), head_of(records[:3])).valid


def test_a_rewritten_tail_does_not_match_the_head() -> None:
    """A replaced last record with a recomputed hash still differs from the head."""
    records = build_log(5)
    # Same seq, a consistent hash, but not the record the head file saw.
    replacement = seal(
        seq=5,
        ts=records[4]["ts"],
        event="session_ended",
        actor=None,
        data={},
        prev=records[3]["hash"],
    )
    forged = [*records[:4], replacement]

    check = verify_lines(lines_of(forged), head_of(records))

    assert_names(check, line=5, seq=5, problem="tail_missing")


def test_swapped_records_are_caught_where_the_order_breaks() -> None:
    """Reordered lines are named at the first one out of place."""
    lines = lines_of(build_log(5))
    lines[1], lines[3] = lines[3], lines[1]

    assert_names(verify_lines(lines), line=2, seq=4, problem="seq_gap")


def test_an_inserted_forged_record_is_caught() -> None:
    """A well-formed forgery pushes the genuine record out of step."""
    records = build_log(5)
    forged = seal(
        seq=3,
        ts=records[2]["ts"],
        event="session_started",
        actor={"kind": "user", "id": "intruder", "name": "Someone"},
        data={"reason": "looked legitimate"},
        prev=records[1]["hash"],
    )
    lines = lines_of(records)
    lines.insert(2, record_line(forged))

    # The forgery links to seq 2 correctly; the genuine seq 3 after it no
    # longer fits.
    assert_names(verify_lines(lines), line=4, seq=3, problem="seq_gap")


def test_a_genuine_record_from_another_log_is_caught() -> None:
    """A record whose hash is right but whose prev is not is named."""
    records = build_log(5)
    stranger = build_log(3, prev="f" * 64)[2]
    stranger_lines = lines_of(records[:2])
    stranger_lines.append(record_line(stranger))

    assert_names(verify_lines(stranger_lines), line=3, seq=3, problem="prev_mismatch")


def test_a_first_record_with_a_made_up_prev_is_caught() -> None:
    """Seq 1 must follow the all-zero hash."""
    lone = build_log(1, prev="a" * 64)

    assert_names(verify_lines(lines_of(lone)), line=1, seq=1, problem="prev_mismatch")


@pytest.mark.parametrize(
    ("junk", "problem"),
    [
        ("", "not_json"),
        ("hello", "not_json"),
        ("[1, 2]", "not_json"),
        ('{"seq": NaN}', "not_json"),
        ('{"seq": 1e999}', "not_json"),
        ("[" * 5000 + "]" * 5000, "not_json"),
    ],
)
def test_junk_lines_are_caught_without_crashing(junk: str, problem: str) -> None:
    """Anything that is not a strict JSON object is named, never raised."""
    lines = lines_of(build_log(4))
    lines.insert(2, junk)

    assert_names(verify_lines(lines), line=3, seq=None, problem=problem)


def test_a_half_written_last_line_is_a_truncated_tail() -> None:
    """A torn last line is reported as such."""
    lines = lines_of(build_log(4))
    lines[-1] = lines[-1][:40]

    assert_names(verify_lines(lines), line=4, seq=None, problem="truncated_tail")


def test_a_missing_field_is_caught() -> None:
    """Every record has all seven fields."""
    lines = lines_of(build_log(4))
    record = json.loads(lines[1])
    del record["actor"]
    lines[1] = json.dumps(record)

    assert_names(verify_lines(lines), line=2, seq=2, problem="missing_field")


def test_an_added_field_is_caught() -> None:
    """A record has no fields beyond the seven."""
    lines = lines_of(build_log(4))
    lines[1] = edit_field(lines[1], "note", "added later")

    assert_names(verify_lines(lines), line=2, seq=2, problem="unexpected_field")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("seq", "2"),
        ("seq", True),
        ("seq", 0),
        ("ts", "yesterday"),
        ("ts", "2026-03-02T08:00:00"),
        ("event", ""),
        ("actor", "principal"),
        ("data", []),
        ("prev", "0" * 63),
        ("hash", "A" * 64),
    ],
)
def test_a_malformed_field_is_caught(key: str, value: Any) -> None:
    """Fields of the wrong type or shape are named."""
    lines = lines_of(build_log(4))
    lines[1] = edit_field(lines[1], key, value)

    check = verify_lines(lines)

    assert (check.valid, check.first_bad_line, check.problem) == (
        False,
        2,
        "invalid_field",
    )


def pruned(records: list[dict[str, Any]], removed: int) -> list[dict[str, Any]]:
    """`records` plus a pruning anchor, without the first `removed` records."""
    last = records[-1]
    through = records[removed - 1]
    anchor = seal(
        seq=last["seq"] + 1,
        ts=format_ts(START + timedelta(days=1)),
        event=PRUNED_EVENT,
        actor={"kind": "system", "id": None, "name": "audit retention"},
        data={
            "through_seq": through["seq"],
            "through_hash": through["hash"],
            "removed": removed,
            "before": format_ts(START),
        },
        prev=last["hash"],
    )
    return [*records[removed:], anchor]


def test_a_pruned_log_starts_where_its_anchor_says() -> None:
    """After pruning, the anchor vouches for the first remaining record."""
    records = pruned(build_log(6), 4)

    check = verify_lines(lines_of(records), head_of(records))

    assert check.valid
    assert (check.records, check.head_seq) == (3, 7)


def test_a_log_pruned_down_to_its_anchor_verifies() -> None:
    """A log pruned of everything but its anchor vouches for itself."""
    records = pruned(build_log(6), 6)

    assert len(records) == 1
    assert verify_lines(lines_of(records), head_of(records)).valid


def test_one_more_leading_record_deleted_after_pruning_is_caught() -> None:
    """Deleting past what the anchor vouches for is caught."""
    records = pruned(build_log(6), 2)
    lines = lines_of(records)[1:]

    assert_names(verify_lines(lines), line=1, seq=4, problem="unanchored_start")


def test_an_anchor_for_another_record_does_not_vouch() -> None:
    """An anchor must name the exact record before the first one."""
    records = pruned(build_log(6), 2)
    anchor = records[-1]
    anchor_data = {**anchor["data"], "through_hash": "e" * 64}
    records[-1] = seal(
        seq=anchor["seq"],
        ts=anchor["ts"],
        event=PRUNED_EVENT,
        actor=anchor["actor"],
        data=anchor_data,
        prev=anchor["prev"],
    )

    assert_names(
        verify_lines(lines_of(records)), line=1, seq=3, problem="unanchored_start"
    )


def test_tampering_after_a_pruned_start_is_still_named() -> None:
    """A pruned log is checked as closely as a whole one."""
    lines = lines_of(pruned(build_log(6), 2))
    lines[1] = edit_field(lines[1], "event", "nothing_happened")

    assert_names(verify_lines(lines), line=2, seq=4, problem="hash_mismatch")


def test_a_head_from_before_a_prune_is_not_a_missing_tail() -> None:
    """A head older than the pruned start has nothing left to compare with."""
    records = build_log(6)

    assert verify_lines(lines_of(pruned(records, 4)), (2, records[1]["hash"])).valid


# Property tests: any single change to any line of a log is found at that line.


def is_anchor_of_start(records: list[dict[str, Any]], index: int) -> bool:
    """Whether `records[index]` is the anchor the log's first record relies on."""
    return bool(records[0]["seq"] > 1 and records[index]["event"] == PRUNED_EVENT)


@st.composite
def logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Logs of 2 to 10 records, sometimes pruned."""
    records = build_log(draw(st.integers(min_value=2, max_value=10)))
    if draw(st.booleans()):
        records = pruned(records, draw(st.integers(1, len(records) - 1)))
    return records


@PROPERTY
@given(records=logs(), data=st.data())
def test_editing_any_field_of_any_record_names_that_record(
    records: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Any new value in any field of any record is caught at that line."""
    index = data.draw(st.integers(0, len(records) - 1), label="line index")
    key = data.draw(st.sampled_from(FIELDS), label="field")
    value = data.draw(JSON_VALUES, label="new value")
    assume(canonical_json(value) != canonical_json(records[index][key]))
    lines = lines_of(records)
    lines[index] = edit_field(lines[index], key, value)

    check = verify_lines(lines, head_of(records))

    assert not check.valid
    if is_anchor_of_start(records, index) and key in {"event", "data"}:
        # What vouched for the pruned start no longer does.
        assert (check.first_bad_line, check.problem) == (1, "unanchored_start")
        return
    assert check.first_bad_line == index + 1
    if key != "seq":
        assert check.first_bad_seq == records[index]["seq"]


@PROPERTY
@given(records=logs(), data=st.data())
def test_removing_any_field_of_any_record_names_that_record(
    records: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Any field removed from any record is caught at that line."""
    index = data.draw(st.integers(0, len(records) - 1), label="line index")
    key = data.draw(st.sampled_from(FIELDS), label="field")
    record = json.loads(record_line(records[index]))
    del record[key]
    lines = lines_of(records)
    lines[index] = json.dumps(record)

    check = verify_lines(lines, head_of(records))

    assert not check.valid
    if is_anchor_of_start(records, index) and key in {"event", "data"}:
        assert (check.first_bad_line, check.problem) == (1, "unanchored_start")
        return
    assert (check.first_bad_line, check.problem) == (index + 1, "missing_field")


@PROPERTY
@given(records=logs(), data=st.data())
def test_deleting_any_record_is_caught_at_the_hole(
    records: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Deleting any one record is caught where it was."""
    index = data.draw(st.integers(0, len(records) - 1), label="deleted index")
    lines = lines_of(records)
    del lines[index]

    check = verify_lines(lines, head_of(records))

    assert not check.valid
    if is_anchor_of_start(records, index):
        assert (check.first_bad_line, check.problem) == (1, "unanchored_start")
    elif index == len(records) - 1:
        assert (check.problem, check.first_bad_seq) == (
            "tail_missing",
            records[index]["seq"],
        )
    elif index == 0:
        assert (check.problem, check.first_bad_line) == ("unanchored_start", 1)
        assert check.first_bad_seq == records[1]["seq"]
    else:
        assert (check.first_bad_line, check.first_bad_seq) == (
            index + 1,
            records[index + 1]["seq"],
        )


@PROPERTY
@given(records=logs(), data=st.data())
def test_swapping_any_two_records_is_caught_at_the_first(
    records: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Swapping any two records is caught at the earlier position."""
    first = data.draw(st.integers(0, len(records) - 2), label="first")
    second = data.draw(st.integers(first + 1, len(records) - 1), label="second")
    lines = lines_of(records)
    lines[first], lines[second] = lines[second], lines[first]

    check = verify_lines(lines, head_of(records))

    assert not check.valid
    assert (check.first_bad_line, check.first_bad_seq) == (
        first + 1,
        records[second]["seq"],
    )


@PROPERTY
@given(records=logs(), data=st.data())
def test_inserting_a_copy_of_any_record_anywhere_is_caught(
    records: list[dict[str, Any]], data: st.DataObject
) -> None:
    """A replayed record is caught wherever it is inserted."""
    copied = data.draw(st.integers(0, len(records) - 1), label="copied")
    position = data.draw(st.integers(0, len(records)), label="position")
    lines = lines_of(records)
    lines.insert(position, lines[copied])

    check = verify_lines(lines, head_of(records))

    assert not check.valid
    # A copy placed just before its original fits where it stands; the
    # original, pushed one line down, does not.
    expected_line = position + 2 if copied == position else position + 1
    assert check.first_bad_line == expected_line


@PROPERTY
@given(records=logs(), data=st.data())
def test_inserting_junk_anywhere_is_caught_at_the_junk(
    records: list[dict[str, Any]], data: st.DataObject
) -> None:
    """A junk line is named wherever it is inserted."""
    position = data.draw(st.integers(0, len(records)), label="position")
    junk = data.draw(st.text(max_size=30), label="junk")
    assume("\n" not in junk and "\r" not in junk)
    with contextlib.suppress(ValueError):
        assume(not isinstance(json.loads(junk), dict))
    lines = lines_of(records)
    lines.insert(position, junk)

    check = verify_lines(lines, head_of(records))

    assert (check.valid, check.first_bad_line) == (False, position + 1)
    last = position == len(records)
    assert check.problem == ("truncated_tail" if last else "not_json")
