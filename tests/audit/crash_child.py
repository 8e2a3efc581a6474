"""A process for the crash tests to kill: it writes a burst and reports acks.

Run as `python crash_child.py <audit package dir> <log> <mode> <seed> <count>`.
It loads the audit package by path, without its parent package (and so
without Home Assistant), writes `count` records and prints `ACK <seq>` once
each acknowledged write is durable. Modes: `sync` (Journal, batches of random
size), `async` (AsyncJournal, hundreds of records in flight), `abandon`
(AsyncJournal, exits without closing, leaving records queued).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import importlib.util
from pathlib import Path
import random
import sys
from types import ModuleType
from typing import Any

IN_FLIGHT = 300


def load_audit(package: Path) -> ModuleType:
    """The audit package as a top-level module of its own."""
    spec = importlib.util.spec_from_file_location(
        "audit", package / "__init__.py", submodule_search_locations=[str(package)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(package)
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit"] = module
    spec.loader.exec_module(module)
    return module


def now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def ack(seq: int) -> None:
    """Tell the parent a record is durable."""
    sys.stdout.write(f"ACK {seq}\n")
    sys.stdout.flush()


def details(n: int, rng: random.Random) -> dict[str, Any]:
    """Records of varying size, so writes end anywhere in a page."""
    return {"n": n, "pad": "x" * rng.randint(0, 400)}


def run_sync(audit: Any, path: Path, count: int, rng: random.Random) -> None:
    """Batches of 1 to 200 records, one fsync each."""
    journal = audit.Journal(path, clock=now)
    journal.open()
    written = 0
    while written < count:
        size = rng.randint(1, 200)
        batch = [("burst", None, details(written + i, rng)) for i in range(size)]
        records = journal.append_many(batch)
        written += size
        ack(records[-1]["seq"])
    journal.close()


async def run_async(
    audit: Any, path: Path, count: int, rng: random.Random, *, close: bool
) -> None:
    """Keep hundreds of records in flight; ack each as its future resolves."""
    journal = audit.AsyncJournal(path, clock=now, name="crash")
    await journal.open()
    in_flight: set[asyncio.Future[dict[str, Any]]] = set()

    def acknowledge(future: asyncio.Future[dict[str, Any]]) -> None:
        in_flight.discard(future)
        if not future.cancelled() and future.exception() is None:
            ack(future.result()["seq"])

    for n in range(count):
        if close and len(in_flight) >= IN_FLIGHT:
            await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        future = journal.submit("burst", None, details(n, rng))
        future.add_done_callback(acknowledge)
        in_flight.add(future)
    if close:
        await journal.close()


def main() -> None:
    """Parse the arguments and write."""
    package, path, mode, seed, count = sys.argv[1:6]
    audit = load_audit(Path(package))
    rng = random.Random(int(seed))
    if mode == "sync":
        run_sync(audit, Path(path), int(count), rng)
    else:
        asyncio.run(
            run_async(audit, Path(path), int(count), rng, close=mode == "async")
        )


if __name__ == "__main__":
    main()
