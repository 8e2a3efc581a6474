"""Failed-credential counting per client, with lockout, and what of it to record.

Only guesses count: an unknown or malformed link. A valid link is never
refused because of other requests from the same address (police share carrier
NAT with the public). At most `limit` failures are counted per client in any
`window`; once a client has that many, its guesses are refused outright until
the oldest ages out. A client is an IPv4 address or an IPv6 /64, the block
one subscriber holds: rotating addresses within it does not reset the count.
Memory is bounded: at most `max_addresses` clients, oldest evicted first.

`FailureRecords` keeps what unauthenticated traffic costs on disk small and
fixed: the first failure of each client per window is recorded, at most
`cap` clients a window; every other failure is summed into one record when
the window closes.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import ipaddress
from typing import Final

MAX_ADDRESSES: Final = 10_000
IPV6_CLIENT_PREFIX: Final = 64
# Clients whose first failure of a window gets a record of its own.
RECORDED_CLIENTS_PER_WINDOW: Final = 50


def client_key(address: str) -> str:
    """The client an address belongs to: itself (IPv4), or its IPv6 /64."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        network = ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False)
        return str(network)
    return str(ip)


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


@dataclass(frozen=True, slots=True)
class Unrecorded:
    """Failures of a closed window that had no record of their own."""

    window_start: datetime
    window_end: datetime
    failures: int
    clients: int


class FailureRecords:
    """Decides which failures get a record; sums up the rest per window."""

    def __init__(
        self, window: timedelta, cap: int = RECORDED_CLIENTS_PER_WINDOW
    ) -> None:
        """Windows of `window`; at most `cap` clients recorded in each."""
        self._window = window
        self._cap = cap
        self._start: datetime | None = None
        self._recorded: set[str] = set()
        self._unrecorded_clients: set[str] = set()
        self._unrecorded = 0

    def note(self, client: str, now: datetime) -> tuple[bool, Unrecorded | None]:
        """Whether this failure gets a record, and the summary of a closed window."""
        now = now.astimezone(UTC)
        summary = self.close(now)
        if self._start is None:
            self._start = now
        if client not in self._recorded and len(self._recorded) < self._cap:
            self._recorded.add(client)
            return True, summary
        self._unrecorded += 1
        self._unrecorded_clients.add(client)
        return False, summary

    def close(self, now: datetime) -> Unrecorded | None:
        """End the window if it is over; its summary if anything went unrecorded."""
        start = self._start
        if start is None or now.astimezone(UTC) < start + self._window:
            return None
        summary = None
        if self._unrecorded:
            summary = Unrecorded(
                start,
                start + self._window,
                self._unrecorded,
                len(self._unrecorded_clients),
            )
        self._start = None
        self._recorded.clear()
        self._unrecorded_clients.clear()
        self._unrecorded = 0
        return summary
