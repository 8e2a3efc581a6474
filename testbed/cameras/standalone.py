"""An MJPEG camera in a process of its own, and its handle in the caller.

The benchmark runs its camera this way (`python -m testbed.cameras.standalone
--port N …`), so the camera's work (painting stamps, encoding 720p JPEGs) is
not the measuring client's and its CPU can be told apart. `CameraProcess`
starts it, reads its counters from `/stats`, and stops it; the process stops
by itself should its parent die (`testbed.spawn`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
from pathlib import Path
import signal
import sys
from typing import Any, Final

import aiohttp

from testbed.errors import SetupError
from testbed.net import LOOPBACK
from testbed.spawn import spawn, stop, tail

from .mjpeg import MjpegCamera
from .pictures import Picture

REPO_ROOT: Final = Path(__file__).resolve().parents[2]


class CameraProcess:
    """An MJPEG camera running in its own process, seen from the caller."""

    def __init__(
        self,
        port: int,
        picture: Picture,
        *,
        latest_on_connect: bool = True,
        log: Path | None = None,
    ) -> None:
        """Describe the camera; `start()` runs it.

        Only what a command line can say is passed: size, rate, quality and
        whether frames are stamped (no overlay).
        """
        if picture.overlaid:
            raise ValueError("a camera process draws no overlay")
        self.port = port
        self.picture = picture
        self.latest_on_connect = latest_on_connect
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def stream_url(self) -> str:
        """The MJPEG stream."""
        return f"http://{LOOPBACK}:{self.port}/video.mjpg"

    @property
    def still_url(self) -> str:
        """The still image."""
        return f"http://{LOOPBACK}:{self.port}/still.jpg"

    @property
    def pid(self) -> int:
        """The camera process.

        Raises:
            SetupError: it is not running.

        """
        if self.proc is None:
            raise SetupError("the camera is not running")
        return self.proc.pid

    async def start(self, timeout: float = 60.0) -> None:
        """Start the process; returns once it has made a frame.

        Raises:
            SetupError: it exited, or made no frame within `timeout` seconds.

        """
        picture = self.picture
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
        )
        self.proc = await spawn(
            sys.executable,
            *("-m", "testbed.cameras.standalone", "--port", str(self.port)),
            *("--size", picture.size, "--fps", f"{picture.fps:g}"),
            *("--quality", str(picture.quality)),
            *(["--stamped"] if picture.stamped else []),
            *([] if self.latest_on_connect else ["--next-frame-on-connect"]),
            output=self.log,
            env=env,
            cwd=REPO_ROOT,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self.proc.returncode is not None:
                where = f":\n{tail(self.log)}" if self.log else ""
                raise SetupError(f"the camera process exited{where}")
            with contextlib.suppress(aiohttp.ClientError, OSError, SetupError):
                if (await self.stats())["frames"] > 0:
                    return
            await asyncio.sleep(0.2)
        raise SetupError(f"the camera process made no frame in {timeout:g} s")

    async def stats(self) -> dict[str, Any]:
        """The camera's counters (`MjpegCamera.stats()`)."""
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            http.get(f"http://{LOOPBACK}:{self.port}/stats") as response,
        ):
            if response.status != 200:
                raise SetupError(f"camera /stats answered {response.status}")
            data: dict[str, Any] = json.loads(await response.text())
            return data

    async def stop(self) -> None:
        """Stop the process and reap it."""
        if self.proc is not None:
            await stop(self.proc, grace=5.0)
            self.proc = None


async def _serve(args: argparse.Namespace) -> None:
    picture = Picture(
        size=args.size, fps=args.fps, quality=args.quality, stamped=args.stamped
    )
    camera = MjpegCamera(
        picture, port=args.port, latest_on_connect=not args.next_frame_on_connect
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    async with camera:
        await stopping.wait()


def main() -> None:
    """`python -m testbed.cameras.standalone --port N [options]`."""
    parser = argparse.ArgumentParser(prog="python -m testbed.cameras.standalone")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--quality", type=int, default=85)
    parser.add_argument("--stamped", action="store_true")
    parser.add_argument("--next-frame-on-connect", action="store_true")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
