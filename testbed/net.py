"""The loopback interface: free ports, and waiting until something listens.

Everything the test bed starts listens on 127.0.0.1 only. Readiness is read
from /proc/net/tcp rather than by connecting: a camera that accepts exactly
one client (an ffmpeg with `-listen 1`) would spend that one client on the
probe.
"""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING, Final

from . import procfs
from .errors import SetupError

if TYPE_CHECKING:
    from asyncio.subprocess import Process

LOOPBACK: Final = "127.0.0.1"
_POLL: Final = 0.02


def free_port() -> int:
    """A loopback TCP port that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int, host: str = "") -> bool:
    """Whether a TCP server could listen on `port` (all interfaces by default)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


async def wait_listening(
    port: int, timeout: float = 10.0, *, process: Process | None = None
) -> None:
    """Wait until something listens on TCP `port`, without connecting to it.

    Raises:
        SetupError: `process` (the one expected to listen) exited, or nothing
            listened within `timeout` seconds.

    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not procfs.listening(port):
        if process is not None and process.returncode is not None:
            raise SetupError(
                f"the process that should listen on port {port} exited"
                f" (status {process.returncode})"
            )
        if loop.time() > deadline:
            raise SetupError(f"nothing listened on port {port} within {timeout:g} s")
        await asyncio.sleep(_POLL)
