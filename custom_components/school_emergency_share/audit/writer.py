"""The audit journal for an asyncio application: the loop never touches the disk.

A writer task takes what callers submit, in order, and hands it to one worker
thread that owns the `Journal`: consecutive appends go as one batch (what is
submitted while a batch is being fsynced goes into the next: group commit),
anything else (verify, read, prune, export) alone, after every record
submitted before it. A caller is answered once its record is durable, so a
crash, even SIGKILL, never loses a record that was reported written.

A record submitted with `keep=True` (what closes access: an end, a
revocation) is not dropped when the disk fails: its caller hears of the
failure at once, and the record stays queued, with the time it was submitted,
to go first into the next batch once the log can be written again; `on_late`
hears of it then. Every other failed record is refused to its caller.

If the event loop ends without `close` (the program exits), the writer hands
whatever is still queued to the worker thread, which the interpreter waits
for at exit: nothing submitted is lost.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
import logging
from pathlib import Path
from typing import Any, Final

from .chain import ChainCheck
from .export import ExportResult
from .journal import Draft, Journal

_LOGGER = logging.getLogger(__name__)

# At most this many records share one write and one fsync.
MAX_BATCH: Final = 512
# How often records kept through a write failure are tried again, if nothing
# else is written before.
RETRY_SECONDS: Final = 15.0

type Record = dict[str, Any]


@dataclass(slots=True, eq=False)
class _Append:
    draft: Draft
    future: asyncio.Future[Record]
    keep: bool = False
    late: bool = field(default=False)


@dataclass(slots=True, eq=False)
class _Call:
    call: Callable[[], Any]
    future: asyncio.Future[Any]


def _settle(
    future: asyncio.Future[Any], result: Any, error: BaseException | None
) -> None:
    if future.done():  # the caller stopped waiting, or was answered before
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class AsyncJournal:
    """One agreement's journal behind a writer task and one worker thread."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], datetime],
        name: str | None = None,
        on_late: Callable[[list[Record]], None] | None = None,
    ) -> None:
        """Prepare the journal; `open` starts the worker.

        Args:
            path: The log file.
            clock: Returns the current time as an aware UTC datetime; read when
                a record is submitted.
            name: Names the worker thread `ses-audit-<name>`; the file's stem
                by default.
            on_late: Told the records kept through a write failure once they
                are written.
        """
        self._journal = Journal(path, clock=clock)
        self._clock = clock
        self._name = name or path.stem
        self._on_late = on_late
        self._queue: deque[_Append | _Call] = deque()
        self._held: list[_Append] = []
        self._wake = asyncio.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._opening: asyncio.Future[ChainCheck] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._accepting = False
        self._closed = False

    @property
    def path(self) -> Path:
        """The log file."""
        return self._journal.path

    @property
    def repaired_tail(self) -> bool:
        """Whether `open` cut off a torn last record."""
        return self._journal.repaired_tail

    @property
    def held(self) -> int:
        """Records kept through a write failure, waiting for a writable log."""
        return len(self._held)

    async def open(self, witness: tuple[int, str] | None = None) -> ChainCheck:
        """Start the worker and open the log (see `Journal.open`).

        Returns:
            The verification of the log as found.
        """
        if self._closed or self._executor is not None:
            raise RuntimeError("the audit journal was already opened or closed")
        loop = asyncio.get_running_loop()
        executor = self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"ses-audit-{self._name}"
        )
        self._opening = loop.run_in_executor(executor, self._journal.open, witness)
        try:
            check = await asyncio.shield(self._opening)
        except BaseException:
            if not self._closed:  # close() releases the worker itself
                await self._release()
            raise
        if self._closed:
            raise RuntimeError("the audit journal was closed while it opened")
        self._writer = loop.create_task(
            self._write_loop(), name=f"ses-audit-{self._name} writer"
        )
        # A done callback runs even for a task cancelled before it started.
        self._writer.add_done_callback(self._writer_done)
        self._accepting = True
        return check

    def submit(
        self,
        event: str,
        actor: Mapping[str, Any] | None,
        data: Mapping[str, Any],
        *,
        keep: bool = False,
    ) -> asyncio.Future[Record]:
        """Queue a record; the future resolves once it is durable.

        The event's time and a copy of `actor` and `data` are taken now.
        Cancelling the future does not take the record back.

        Raises:
            RuntimeError: the journal is not open, or closed.
        """
        if not self._accepting:
            raise RuntimeError("the audit journal is not open")
        draft = Draft.at(self._clock(), event, actor, data)
        future: asyncio.Future[Record] = asyncio.get_running_loop().create_future()
        self._queue.append(_Append(draft, future, keep))
        self._wake.set()
        return future

    async def append(
        self,
        event: str,
        actor: Mapping[str, Any] | None,
        data: Mapping[str, Any],
        *,
        keep: bool = False,
    ) -> Record:
        """Write one record; returns the sealed record once it is durable."""
        return await self.submit(event, actor, data, keep=keep)

    async def verify(self, witness: tuple[int, str] | None = None) -> ChainCheck:
        """See `Journal.verify`."""
        check: ChainCheck = await self._call(lambda: self._journal.verify(witness))
        return check

    async def read(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[Record]:
        """See `Journal.read`."""
        records: list[Record] = await self._call(
            lambda: self._journal.read(since, until)
        )
        return records

    async def prune(self, before: datetime) -> int:
        """See `Journal.prune`."""
        removed: int = await self._call(lambda: self._journal.prune(before))
        return removed

    async def export(
        self,
        directory: Path,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        stem: str,
        witness: tuple[int, str] | None = None,
    ) -> ExportResult:
        """See `Journal.export`."""
        result: ExportResult = await self._call(
            lambda: self._journal.export(
                directory,
                since=since,
                until=until,
                stem=stem,
                witness=witness,
            )
        )
        return result

    async def close(self) -> None:
        """Write everything already submitted, then stop the worker. Idempotent."""
        self._closed = True
        self._accepting = False
        if self._opening is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._opening)
        if self._writer is not None:
            self._wake.set()
            await asyncio.shield(self._writer)
        await self._release()

    async def _call(self, call: Callable[[], Any]) -> Any:
        if not self._accepting:
            raise RuntimeError("the audit journal is not open")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Call(call, future))
        self._wake.set()
        return await future

    async def _release(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if self._opening is not None and self._opening.done():
            executor.submit(self._journal.close)
        # The worker is idle: joining it is short, but not the loop's to wait.
        await asyncio.to_thread(executor.shutdown)

    async def _write_loop(self) -> None:
        while True:
            if not self._queue:
                if self._closed:
                    if self._held:  # one last try before giving up
                        await self._commit([])
                    self._drop_held()
                    return
                await self._wait_for_work()
                if not self._queue and not self._held:
                    continue
            job = self._queue.popleft() if self._queue else None
            if isinstance(job, _Call):
                await self._run_call(job)
                continue
            batch = [job] if job is not None else []
            while (
                self._queue
                and isinstance(self._queue[0], _Append)
                and len(batch) < MAX_BATCH
            ):
                nxt = self._queue.popleft()
                assert isinstance(nxt, _Append)  # noqa: S101 - checked above
                batch.append(nxt)
            await self._commit(batch)

    def _writer_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is not None:
            self._hand_off()

    async def _wait_for_work(self) -> None:
        self._wake.clear()
        if not self._held:
            await self._wake.wait()
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(RETRY_SECONDS):
                await self._wake.wait()

    async def _run_call(self, job: _Call) -> None:
        try:
            result = await self._in_worker(job.call)
        except Exception as err:  # noqa: BLE001 - handed to the caller
            _settle(job.future, None, err)
        else:
            _settle(job.future, result, None)

    async def _commit(self, batch: list[_Append]) -> None:
        batch = [*self._held, *batch]
        self._held = []
        if not batch:
            return
        drafts = [job.draft for job in batch]
        try:
            records: list[Record] = await self._in_worker(
                lambda: self._journal.commit(drafts)
            )
        except Exception as err:  # noqa: BLE001 - handed to every caller in it
            for job in batch:
                _settle(job.future, None, err)
                if job.keep:
                    job.late = True
                    self._held.append(job)
            return
        late = [record for job, record in zip(batch, records, strict=True) if job.late]
        for job, record in zip(batch, records, strict=True):
            _settle(job.future, record, None)
        if late and self._on_late is not None:
            self._on_late(late)

    async def _in_worker(self, call: Callable[[], Any]) -> Any:
        assert self._executor is not None  # noqa: S101 - the writer runs while open
        # Shielded: a writer cancelled while it waits must not cancel work the
        # worker has not started (records it took off the queue).
        return await asyncio.shield(asyncio.wrap_future(self._executor.submit(call)))

    def _drop_held(self) -> None:
        if self._held:
            _LOGGER.error(
                "%d audit records could not be written to %s before it closed",
                len(self._held),
                self.path,
            )
            self._held = []

    def _hand_off(self) -> None:
        """The loop is ending without `close`: let the worker write what is left."""
        drafts = [job.draft for job in self._held]
        drafts += [job.draft for job in self._queue if isinstance(job, _Append)]
        self._held, self._queue = [], deque()
        if self._executor is not None:
            if drafts:
                self._executor.submit(self._journal.commit, drafts)
            self._executor.submit(self._journal.close)
            self._executor.shutdown(wait=False)
