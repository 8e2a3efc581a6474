"""Failed-credential counting: a client that keeps guessing is locked out (429)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta, tzinfo

from hypothesis import given, strategies as st
import pytest

from custom_components.school_emergency_share.core.lockout import (
    FailureRecords,
    FailureTracker,
    client_key,
)

from .strategies import CLOCK_ZONES, utc

# New York repeats 01:00-02:00 at 06:00 UTC on this day: windows reach across.
FALL_BACK = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
ADDRESSES = ("192.0.2.1", "192.0.2.2", "198.51.100.7", "2001:db8::1")
windows = st.sampled_from([timedelta(minutes=1), timedelta(minutes=10)])
limits = st.integers(1, 20)


class Recorded:
    """What the tracker was told and did, written out by hand."""

    def __init__(self, limit: int, window: timedelta) -> None:
        """Nothing counted yet."""
        self.limit = limit
        self.window = window
        self.counted: dict[str, list[datetime]] = defaultdict(list)

    def in_window(self, address: str, now: datetime) -> list[datetime]:
        """Counted failures from `address` within the window ending at `now`."""
        return [t for t in self.counted[address] if now - self.window < t <= now]

    def locked(self, address: str, now: datetime) -> bool:
        """The rule: `limit` failures within the window lock the address."""
        return len(self.in_window(address, now)) >= self.limit


# Each step: a client address, seconds since the last step, what happens.
steps = st.lists(
    st.tuples(
        st.sampled_from(ADDRESSES),
        st.one_of(st.integers(0, 5), st.integers(0, 900)),
        st.sampled_from(["fail", "fail", "fail", "ask", "lower", "raise"]),
        st.sampled_from(CLOCK_ZONES),
    ),
    max_size=60,
)


@given(limit=limits, window=windows, script=steps)
def test_locked_exactly_when_limit_failures_fall_within_the_window(
    limit: int,
    window: timedelta,
    script: list[tuple[str, int, str, tzinfo]],
) -> None:
    """Locked exactly while `limit` counted failures fall within the window.

    Never more than `limit` are counted in any window; the address is free
    again when the oldest ages out; a changed limit applies at once.
    """
    tracker = FailureTracker(limit, window)
    seen = Recorded(limit, window)
    moment = FALL_BACK
    for address, seconds, action, zone in script:
        moment += timedelta(seconds=seconds)
        now = moment.astimezone(zone)  # the same instant, written in any zone
        was_locked = seen.locked(address, moment)
        assert tracker.is_locked(address, now) is was_locked
        if action == "fail":
            locks = tracker.record_failure(address, now)
            if not was_locked:
                seen.counted[address].append(moment)
            assert locks is (not was_locked and seen.locked(address, moment))
        elif action in {"lower", "raise"}:
            limit = max(1, limit - 3) if action == "lower" else min(20, limit + 3)
            tracker.set_limit(limit)
            seen.limit = limit
            # Counts already made are kept, the newest first.
            for failures in seen.counted.values():
                del failures[:-limit]
        for other in ADDRESSES:
            counted = seen.in_window(other, moment)
            assert len(counted) <= limit
            locked = len(counted) >= seen.limit
            assert tracker.is_locked(other, now) is locked
            until = tracker.locked_until(other, now)
            if locked:
                assert until is not None
                assert utc(until) == counted[0] + window
                assert utc(until) > moment
            else:
                assert until is None


@given(
    limit=limits,
    window=windows,
    gap=st.integers(0, 59),
    zone=st.sampled_from(CLOCK_ZONES),
)
def test_a_lockout_ends_exactly_when_the_oldest_failure_ages_out(
    limit: int, window: timedelta, gap: int, zone: tzinfo
) -> None:
    """Retry-After can be trusted: locked until that instant, free from it."""
    tracker = FailureTracker(limit, window)
    start = FALL_BACK
    for n in range(limit):
        tracker.record_failure(
            "192.0.2.1", (start + timedelta(seconds=gap * n)).astimezone(zone)
        )
    last = start + timedelta(seconds=gap * (limit - 1))
    if last - start >= window:
        return  # the first had aged out before the last: never locked
    until = tracker.locked_until("192.0.2.1", last.astimezone(zone))
    assert until is not None
    assert utc(until) == start + window
    just_before = (start + window - timedelta(microseconds=1)).astimezone(zone)
    assert tracker.is_locked("192.0.2.1", just_before)
    assert not tracker.is_locked("192.0.2.1", until.astimezone(zone))
    assert not tracker.is_locked("192.0.2.2", until)


@given(
    max_addresses=st.integers(1, 5),
    limit=limits,
    clients=st.lists(st.integers(0, 50), min_size=1, max_size=80),
)
def test_memory_is_bounded_by_max_addresses(
    max_addresses: int, limit: int, clients: list[int]
) -> None:
    """A scan from many addresses cannot grow the tracker without bound."""
    tracker = FailureTracker(limit, timedelta(minutes=10), max_addresses)
    now = FALL_BACK
    for client in clients:
        tracker.record_failure(f"10.0.0.{client}", now)
        now += timedelta(seconds=1)
        assert len(tracker._failures) <= max_addresses
        assert all(len(failures) <= limit for failures in tracker._failures.values())
    # The most recent offender is always still tracked.
    assert f"10.0.0.{clients[-1]}" in tracker._failures


@given(limit=st.integers(2, 20), cut=st.integers(1, 19), count=st.integers(1, 20))
def test_lowering_the_limit_takes_effect_at_once(
    limit: int, cut: int, count: int
) -> None:
    """Whoever already has as many failures as the new limit is locked out at once."""
    lowered = max(1, limit - cut)
    tracker = FailureTracker(limit, timedelta(minutes=10))
    now = FALL_BACK
    for _ in range(count):
        tracker.record_failure("192.0.2.1", now)
    kept = min(count, limit, lowered)
    tracker.set_limit(lowered)
    assert tracker.is_locked("192.0.2.1", now) is (kept >= lowered)
    locks = tracker.record_failure("192.0.2.1", now)
    assert locks is (kept + 1 == lowered)
    assert tracker.is_locked("192.0.2.1", now) is (min(kept + 1, lowered) >= lowered)
    assert tracker.is_locked("192.0.2.1", now + timedelta(minutes=10)) is False


def test_twenty_failures_in_ten_minutes_lock_a_client_out_for_the_rest() -> None:
    """The product default: the 20th failure locks; the 21st is not counted."""
    tracker = FailureTracker(20, timedelta(minutes=10))
    start = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    outcomes = [
        tracker.record_failure("192.0.2.1", start + timedelta(seconds=n))
        for n in range(21)
    ]
    assert outcomes == [False] * 19 + [True, False]
    assert tracker.locked_until("192.0.2.1", start + timedelta(minutes=5)) == (
        start + timedelta(minutes=10)
    )
    assert not tracker.is_locked("192.0.2.1", start + timedelta(minutes=10))
    assert not tracker.is_locked("192.0.2.9", start)


@pytest.mark.parametrize(
    ("address", "client"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::ffff", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:198.51.100.4", "198.51.100.4"),
        ("unknown", "unknown"),
    ],
)
def test_a_client_is_an_ipv4_address_or_an_ipv6_64(address: str, client: str) -> None:
    """One subscriber's IPv6 block is one client; IPv4-mapped is plain IPv4."""
    assert client_key(address) == client


@given(
    clients=st.lists(st.integers(0, 400), max_size=600),
    cap=st.integers(1, 60),
    gaps=st.lists(st.integers(0, 120), min_size=1, max_size=600),
)
def test_failure_records_are_few_and_every_failure_is_accounted_for(
    clients: list[int], cap: int, gaps: list[int]
) -> None:
    """At most `cap` clients get a record a window; the rest are summed, none lost."""
    window = timedelta(minutes=10)
    records = FailureRecords(window, cap)
    now = FALL_BACK
    # The model: a window opens with a failure and lasts `window`.
    opened: datetime | None = None
    recorded_this_window: set[str] = set()
    recorded, summed = 0, 0
    for n, number in enumerate(clients):
        now += timedelta(seconds=gaps[n % len(gaps)])
        if opened is not None and now >= opened + window:
            opened, recorded_this_window = None, set()
        opened = opened or now
        client = f"198.51.100.{number}"
        own, summary = records.note(client, now)
        if summary is not None:
            summed += summary.failures
            assert 1 <= summary.clients <= summary.failures
        if own:
            assert client not in recorded_this_window
            recorded_this_window.add(client)
            recorded += 1
        else:  # only a client seen this window, or one past the cap, goes unrecorded
            assert client in recorded_this_window or len(recorded_this_window) == cap
        assert len(recorded_this_window) <= cap
    final = records.close(now + window)
    summed += final.failures if final else 0
    assert recorded + summed == len(clients)
