"""Processes, descriptors and sockets, read from /proc.

Tests count a process's ffmpeg children (zombies included: a child not yet
reaped is a leak), the benchmark measures Home Assistant's tree, and readiness
is a listening socket in /proc/net/tcp (connecting would spend the one client
some cameras accept).

CPU of a tree at one moment is the root's user + system time plus what it
collected from children it reaped (`cutime`, `cstime`), plus the same four
numbers for every descendant alive (zombies included). A child that lives and
dies between two samples is therefore still counted: once reaped, its time is
in its parent's `cutime`/`cstime`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
import os
from pathlib import Path
import time
from typing import Final

CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")
PAGE_SIZE: Final = os.sysconf("SC_PAGE_SIZE")
PROC: Final = Path("/proc")
_LISTEN: Final = "0A"
"""The LISTEN state in /proc/net/tcp."""


@dataclass(frozen=True, slots=True)
class ProcStat:
    """The parts of /proc/<pid>/stat used here."""

    pid: int
    comm: str
    state: str
    ppid: int
    cpu_ticks: int
    """utime + stime + cutime + cstime."""
    own_ticks: int
    """utime + stime."""
    rss_bytes: int


def stat(pid: int) -> ProcStat | None:
    """A process's stat, or None if it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 of proc(5): state; utime is field 14.
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return ProcStat(
        pid=pid,
        comm=comm,
        state=fields[0],
        ppid=int(fields[1]),
        cpu_ticks=utime + stime + cutime + cstime,
        own_ticks=utime + stime,
        rss_bytes=int(fields[21]) * PAGE_SIZE,
    )


def state(pid: int) -> str | None:
    """The state letter of `pid` (Z for a zombie), None if it is gone."""
    item = stat(pid)
    return None if item is None else item.state


def all_stats() -> list[ProcStat]:
    """Every process visible in /proc."""
    found = (stat(int(entry.name)) for entry in PROC.iterdir() if entry.name.isdigit())
    return [item for item in found if item is not None]


def descendants(pid: int, stats: list[ProcStat] | None = None) -> list[ProcStat]:
    """Every process below `pid` (children, their children…)."""
    stats = all_stats() if stats is None else stats
    children: dict[int, list[ProcStat]] = {}
    for item in stats:
        children.setdefault(item.ppid, []).append(item)
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child.pid)
    return found


def children_named(pid: int, name: str) -> list[ProcStat]:
    """Descendants of `pid` whose command is `name` (zombies excluded)."""
    return [p for p in descendants(pid) if p.comm == name and p.state != "Z"]


def own_children(name: str) -> list[int]:
    """Pids of this process's children running `name`, zombies included."""
    me = os.getpid()
    return [p.pid for p in all_stats() if p.ppid == me and p.comm == name]


def open_fds(pid: int) -> int:
    """How many file descriptors `pid` holds."""
    return sum(1 for _ in (PROC / str(pid) / "fd").iterdir())


@dataclass(frozen=True, slots=True)
class TreeSample:
    """One look at a process tree."""

    at: float
    """`time.monotonic()`."""
    cpu_seconds: float
    """Cumulative CPU of the root and every descendant (see the module doc)."""
    root_cpu_seconds: float
    """The root's own user + system time (its threads, not its children)."""
    root_rss: int
    children_rss: int
    children: int

    @property
    def rss(self) -> int:
        """Root and children together."""
        return self.root_rss + self.children_rss


def sample_tree(pid: int) -> TreeSample:
    """CPU and memory of `pid` and its descendants now.

    Raises:
        ProcessLookupError: `pid` is gone.

    """
    stats = all_stats()
    below = descendants(pid, stats)
    root = next((s for s in stats if s.pid == pid), None)
    if root is None:
        raise ProcessLookupError(pid)
    ticks = root.cpu_ticks + sum(child.cpu_ticks for child in below)
    live = [child for child in below if child.state != "Z"]
    return TreeSample(
        at=time.monotonic(),
        cpu_seconds=ticks / CLOCK_TICKS,
        root_cpu_seconds=root.own_ticks / CLOCK_TICKS,
        root_rss=root.rss_bytes,
        children_rss=sum(child.rss_bytes for child in live),
        children=len(live),
    )


def own_cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (its reaped children not included)."""
    item = stat(pid)
    return 0.0 if item is None else item.own_ticks / CLOCK_TICKS


@dataclass(slots=True)
class TreeSampler:
    """Samples a process tree in the background, every `interval` seconds."""

    pid: int
    interval: float = 0.5
    samples: list[TreeSample] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin sampling (one sample at once)."""
        self.samples.append(sample_tree(self.pid))
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            with contextlib.suppress(ProcessLookupError):
                self.samples.append(sample_tree(self.pid))

    async def stop(self) -> list[TreeSample]:
        """Stop sampling (one last sample); returns every sample."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(ProcessLookupError):
            self.samples.append(sample_tree(self.pid))
        return self.samples


def listening(port: int) -> bool:
    """Whether a TCP socket listens on `port` (any address, IPv4 or IPv6)."""
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (PROC / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                if (
                    fields[3] == _LISTEN
                    and int(fields[1].rsplit(":", 1)[1], 16) == port
                ):
                    return True
    return False


def established(port: int) -> int:
    """TCP connections established to a local listening `port` (IPv4 and IPv6)."""
    count = 0
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (PROC / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    count += 1
    return count


def tcp_queues(local_port: int, remote_port: int) -> tuple[int, int, str] | None:
    """(send queue, receive queue, state) of the IPv4 loopback TCP socket.

    The socket is the one bound to `local_port` and connected to
    `remote_port`; None if there is none.
    """
    for line in (PROC / "net" / "tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if (
            int(local.split(":")[1], 16) == local_port
            and int(remote.split(":")[1], 16) == remote_port
        ):
            tx, rx = (int(v, 16) for v in fields[4].split(":"))
            return tx, rx, fields[3]
    return None
