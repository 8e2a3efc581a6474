"""Child processes that never outlive the process that started them.

Each child gets its own process group, so a Ctrl-C in the terminal reaches only
the supervisor, which then stops the children in order (Home Assistant first,
the cameras after). Should the supervisor die without cleaning up, the kernel
sends the child SIGTERM (`setpriv --pdeathsig`). Stopping kills the whole
group, so whatever the child started itself (Home Assistant's ffmpeg readers)
goes too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
import shutil
import signal
import socket
from typing import IO, Final

SETPRIV: Final = shutil.which("setpriv")
LOOPBACK: Final = "127.0.0.1"


class DemoError(Exception):
    """A step of the demo cannot be done; the message says why and what to do."""


async def spawn(
    *args: str,
    output: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdout_pipe: bool = False,
) -> asyncio.subprocess.Process:
    """Start `args` in its own process group, tied to this process's life.

    Args:
        args: the command.
        output: file that receives the child's stdout and stderr (appended);
            None discards them. With `stdout_pipe`, only stderr goes there.
        env: the child's environment (default: this process's).
        cwd: the child's working directory.
        stdout_pipe: read the child's stdout through `proc.stdout`.

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
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE
            if stdout_pipe
            else (log or asyncio.subprocess.DEVNULL),
            stderr=log or asyncio.subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as err:
        raise DemoError(f"cannot start {args[0]}: {err}") from err
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
    order, and only the final SIGKILL goes to the group.
    """
    if proc.returncode is None:
        if group:
            _signal_group(proc, signal.SIGTERM)
        else:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                await proc.wait()
        except TimeoutError:
            _signal_group(proc, signal.SIGKILL)
            await proc.wait()
    # Whatever the child started and left running goes with its group.
    _signal_group(proc, signal.SIGKILL)
    return proc.returncode


def port_is_free(port: int, host: str = "") -> bool:
    """Whether a TCP server could listen on `port` (all interfaces by default)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a text file ('' when it does not exist)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
