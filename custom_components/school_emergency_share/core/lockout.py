"""Failed-credential counting per client address, with lockout.

At most `limit` failures are counted per address in any `window`; once an
address has that many, it is locked out until the oldest ages out. Memory is
bounded: at most `max_addresses` addresses are tracked, oldest evicted first.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import UTC, datetime, timedelta
from typing import Final

MAX_ADDRESSES: Final = 10_000


class FailureTracker:
    """Counts failures per address in a sliding window."""

    def __init__(
        self, limit: int, window: timedelta, max_addresses: int = MAX_ADDRESSES
    ) -> None:
        """Count at most `limit` failures per `window` per address."""
        self.limit = limit
        self.window = window
        self._max_addresses = max_addresses
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()

    def _recent(self, address: str, now: datetime) -> deque[datetime] | None:
        # Instants in UTC: in a zone, `now - window` is wall-clock arithmetic
        # and the repeated hour of a DST change compares wrongly.
        now = now.astimezone(UTC)
        failures = self._failures.get(address)
        if failures is None:
            return None
        horizon = now - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures

    def is_locked(self, address: str, now: datetime) -> bool:
        """Whether requests from `address` are refused outright."""
        failures = self._recent(address, now)
        return failures is not None and len(failures) >= self.limit

    def record_failure(self, address: str, now: datetime) -> bool:
        """Count one failure; True when this one locks the address out."""
        failures = self._recent(address, now)
        if failures is None:
            failures = self._failures[address] = deque(maxlen=self.limit)
            while len(self._failures) > self._max_addresses:
                self._failures.popitem(last=False)
        else:
            self._failures.move_to_end(address)
        if len(failures) >= self.limit:
            return False
        failures.append(now.astimezone(UTC))
        return len(failures) >= self.limit

    def locked_until(self, address: str, now: datetime) -> datetime | None:
        """When a locked-out address may try again."""
        failures = self._recent(address, now)
        if failures is None or len(failures) < self.limit:
            return None
        return failures[0] + self.window

    def set_limit(self, limit: int) -> None:
        """Apply a changed agreement; counts already made are kept."""
        self.limit = limit
        for address, failures in list(self._failures.items()):
            self._failures[address] = deque(failures, maxlen=limit)
