"""Child processes that never outlive the process that started them.

Each child gets its own process group, so a Ctrl-C in the terminal reaches only
the supervisor (the demo, the benchmark, pytest), which then stops the children
in order. Should the supervisor die without cleaning up, the kernel sends the
child SIGTERM (`setpriv --pdeathsig`). Stopping signals the whole group, so
whatever the child started itself (Home Assistant's ffmpeg readers) goes too;
every child is reaped, never left a zombie.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
import shutil
import signal
from typing import IO, Final

from .errors import SetupError

SETPRIV: Final = shutil.which("setpriv")


def require(*tools: str) -> None:
    """Refuse, with what to do, when a program the test bed runs is missing.

    Raises:
        SetupError: one of `tools` (paths) does not exist.

    """
    for tool in tools:
        if not Path(tool).exists():
            raise SetupError(f"{tool} is missing; run scripts/setup")


async def spawn(
    *args: str,
    output: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin_pipe: bool = False,
    stdout_pipe: bool = False,
) -> asyncio.subprocess.Process:
    """Start `args` in its own process group, tied to this process's life.

    Args:
        args: the command.
        output: file that receives the child's stdout and stderr (appended);
            None discards them. With `stdout_pipe`, only stderr goes there.
        env: the child's environment (default: this process's).
        cwd: the child's working directory.
        stdin_pipe: write to the child's stdin through `proc.stdin`.
        stdout_pipe: read the child's stdout through `proc.stdout`.

    Raises:
        SetupError: the command cannot be started.

    """
    command = list(args)
    if SETPRIV is not None:
        command = [SETPRIV, "--pdeathsig", "TERM", "--", *command]
    log: IO[bytes] | None = None
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        log = output.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE if stdin_pipe else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE
            if stdout_pipe
            else (log or asyncio.subprocess.DEVNULL),
            stderr=log or asyncio.subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as err:
        raise SetupError(f"cannot start {args[0]}: {err}") from err
    finally:
        if log is not None:
            log.close()  # the child holds its own descriptor


def _signal_group(proc: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    # The child leads its own group (start_new_session), so its pid is the
    # group id, even after it exited and left children behind.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


async def stop(
    proc: asyncio.subprocess.Process,
    *,
    grace: float = 5.0,
    group: bool = True,
) -> int | None:
    """SIGTERM, `grace` seconds, then SIGKILL; reap. Returns the exit status.

    With `group`, signals go to the child's whole process group (and the
    group is killed after the child exits, for anything it left behind);
    otherwise only the child gets SIGTERM, so it can stop its own children in
    order, and only the final SIGKILL goes to the group. `grace=0` kills at
    once, like pulling a camera's power.
    """
    # asyncio reports the exit only once the child's pipes are closed too:
    # what it still writes to a pipe nobody reads any more is thrown away.
    drain = None
    if proc.stdout is not None:
        drain = asyncio.get_running_loop().create_task(
            _discard(proc.stdout), name=f"drain pid {proc.pid}"
        )
    try:
        if proc.returncode is None and grace > 0:
            if group:
                _signal_group(proc, signal.SIGTERM)
            else:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await proc.wait()
        if proc.returncode is None:
            _signal_group(proc, signal.SIGKILL)
        await proc.wait()
    finally:
        if drain is not None:
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain
    # Whatever the child started and left running goes with its group.
    _signal_group(proc, signal.SIGKILL)
    return proc.returncode


async def _discard(reader: asyncio.StreamReader) -> None:
    # RuntimeError: another task is reading it, which is as good.
    with contextlib.suppress(RuntimeError):
        while await reader.read(64 * 1024):
            pass


def tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a text file ('' when it does not exist)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
