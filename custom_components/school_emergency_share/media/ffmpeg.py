"""Running ffmpeg for a camera: one child process, started once, never left behind.

Every source that needs ffmpeg (the JPEG transcoder, the H.264 remuxer and the
decoder fed by it) runs it through `FfmpegProcess`: start it, read its
standard output, keep the end of its error output to explain a failure (with
the camera's credentials removed), and stop it for sure — SIGTERM, then
SIGKILL, always reaped, even when the caller is cancelled.

`input_args` is how a camera's stream is opened with the least delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from collections.abc import Mapping

_LOGGER = logging.getLogger(__name__)

READ_SIZE: Final = 64 * 1024
STDERR_TAIL_BYTES: Final = 2048
"""How much of ffmpeg's error output is kept to explain a failure."""
TERMINATE_GRACE: Final = 0.5
"""Seconds ffmpeg gets to exit on SIGTERM before SIGKILL.

SIGTERM lets ffmpeg end an RTSP session properly (TEARDOWN), so a camera
with few connection slots frees ours at once. An ffmpeg blocked on a silent
camera ignores one SIGTERM, hence the short wait before SIGKILL.
"""
KILL_WAIT: Final = 5.0
GLOBAL_ARGS: Final = ("-hide_banner", "-nostdin", "-nostats", "-loglevel", "error")

# ffmpeg starts reading at once and does not buffer input: live, not smooth.
LOW_LATENCY_INPUT: Final[Mapping[str, str]] = {
    "fflags": "nobuffer",
    "flags": "low_delay",
    "analyzeduration": "500000",  # microseconds of probing before the first frame
}
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")


class SourceError(Exception):
    """A camera source failed; the message is safe to log (no credentials)."""


def input_args(url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The input options for reading `url` live; `extra` adds or overrides."""
    args: dict[str, str] = dict(LOW_LATENCY_INPUT)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("rtsp", "rtsps"):
        args["rtsp_transport"] = "tcp"  # UDP loses packets across NAT/Wi-Fi
    elif scheme in ("http", "https") and not parts.path.endswith(".m3u8"):
        # MJPEG over HTTP has no timestamps; without these the rate cap takes
        # 25 fps for granted and drops most frames of a slower camera.
        args["use_wallclock_as_timestamps"] = "1"
    args.update(extra or {})
    return args


def redact(text: str, url: str) -> str:
    """`text` with `url`'s credentials and query, and any URL's userinfo, removed."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None or parts.query:
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        safe = urlunsplit((parts.scheme, host, parts.path, "", ""))
        text = text.replace(url, safe)
    return _USERINFO.sub(r"\1***@", text)


class FfmpegProcess:
    """One ffmpeg child process of a source."""

    def __init__(self, binary: str, url: str) -> None:
        """Describe it; `url` (the camera's) is only used to redact messages."""
        self.binary = binary
        self._url = url
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr_tail = b""
        self._stderr_task: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._closed = False
        self._reading = False

    @property
    def pid(self) -> int | None:
        """The process id once started."""
        return None if self._proc is None else self._proc.pid

    @property
    def returncode(self) -> int | None:
        """The exit status once reaped."""
        return None if self._proc is None else self._proc.returncode

    @property
    def closed(self) -> bool:
        """Whether `aclose()` was called."""
        return self._closed

    @property
    def stderr_tail(self) -> str:
        """The end of ffmpeg's error output, credentials removed."""
        return redact(self._stderr_tail.decode(errors="replace"), self._url)

    @property
    def stdin(self) -> asyncio.StreamWriter:
        """Its standard input (started with `stdin=True`)."""
        if self._proc is None or self._proc.stdin is None:
            raise SourceError("ffmpeg has no standard input")
        return self._proc.stdin

    async def start(self, command: list[str], *, stdin: bool = False) -> None:
        """Start `command`.

        Raises:
            SourceError: it could not be started, or `aclose()` ran meanwhile.

        """
        if self._closed:
            raise SourceError("closed before it started")
        try:
            self._proc = proc = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as err:
            raise SourceError(f"cannot start {self.binary}: {err}") from err
        assert proc.stderr is not None  # noqa: S101 - PIPE was asked for
        self._stderr_task = asyncio.get_running_loop().create_task(
            self._keep_stderr_tail(proc.stderr), name=f"ffmpeg stderr pid {proc.pid}"
        )
        if self._close_requested():  # while the process was starting
            await self.aclose()
            raise SourceError("closed while starting")

    def _close_requested(self) -> bool:
        return self._closed

    async def read(self) -> bytes:
        """The next chunk of its standard output; b"" once it closed it."""
        proc = self._proc
        if proc is None or proc.stdout is None:
            raise SourceError("ffmpeg was not started")
        self._reading = True
        try:
            return await proc.stdout.read(READ_SIZE)
        finally:
            self._reading = False

    async def exit_error(self) -> SourceError:
        """Why it ended: its status and last words (waits up to a second)."""
        proc = self._proc
        if proc is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1):
                    await proc.wait()
                    if self._stderr_task is not None:
                        await asyncio.wait({self._stderr_task})  # the last words
        status = None if proc is None else proc.returncode
        return SourceError(f"ffmpeg exited with status {status}: {self.stderr_tail}")

    async def aclose(self) -> None:
        """Stop ffmpeg (SIGTERM, then SIGKILL) and reap it. Idempotent.

        The shutdown runs in its own task, so cancelling the caller does not
        leave the process behind.
        """
        self._closed = True
        closing = self._closing
        proc = self._proc
        if closing is None or (
            # A process started after an earlier aclose() found none.
            closing.done() and proc is not None and proc.returncode is None
        ):
            closing = self._closing = asyncio.get_running_loop().create_task(
                self._shutdown(), name=f"ffmpeg shutdown pid {self.pid}"
            )
        await asyncio.shield(closing)

    async def _shutdown(self) -> None:
        proc = self._proc
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()
            drain = None
            if not self._reading and proc.stdout is not None:
                # Read what ffmpeg still writes: blocked on a full pipe it
                # would not see SIGTERM, and asyncio would not see its exit.
                drain = asyncio.get_running_loop().create_task(
                    _discard(proc.stdout), name=f"ffmpeg drain pid {proc.pid}"
                )
            try:
                await _terminate(proc)
            finally:
                if drain is not None:
                    drain.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await drain
        if self._stderr_task is not None:
            self._stderr_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stderr_task

    async def _keep_stderr_tail(self, stderr: asyncio.StreamReader) -> None:
        while chunk := await stderr.read(READ_SIZE):
            self._stderr_tail = (self._stderr_tail + chunk)[-STDERR_TAIL_BYTES:]


class OneFfmpeg:
    """What every source that runs one ffmpeg for its one connection shares."""

    def __init__(self, binary: str, url: str) -> None:
        """Describe the process; `url` may hold credentials, never logged."""
        self._binary = binary
        self._process = FfmpegProcess(binary, url)
        self._started = False

    @property
    def pid(self) -> int | None:
        """The ffmpeg process id once started."""
        return self._process.pid

    def _once(self) -> FfmpegProcess:
        """The process, for the one `frames()` a source may run."""
        if self._started:
            raise RuntimeError("a source is used for one connection only")
        self._started = True
        return self._process

    async def aclose(self) -> None:
        """Stop ffmpeg (SIGTERM, then SIGKILL) and reap it. Idempotent."""
        await self._process.aclose()


async def _discard(reader: asyncio.StreamReader) -> None:
    while await reader.read(READ_SIZE):
        pass


async def _terminate(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            async with asyncio.timeout(TERMINATE_GRACE):
                await proc.wait()
        except TimeoutError:
            _LOGGER.debug("ffmpeg pid %s ignored SIGTERM; killing it", proc.pid)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
    try:
        async with asyncio.timeout(KILL_WAIT):
            await proc.wait()
    except TimeoutError:
        _LOGGER.warning("ffmpeg pid %s did not exit after SIGKILL", proc.pid)
