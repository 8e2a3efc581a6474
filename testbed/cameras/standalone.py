"""A camera in a process of its own, and its handle in the caller.

The benchmark runs its cameras this way (`python -m testbed.cameras.standalone
--port N …`), so the camera's work (painting stamps, encoding 720p JPEGs or
H.264) is not the measuring client's and its CPU can be told apart.
`CameraProcess` starts it, reads its counters from `/stats`, and stops it;
the process stops by itself should its parent die (`testbed.spawn`).

Two kinds: an MJPEG camera over HTTP (`/stats` on its own port), or with
`rtsp=True` an H.264 camera over RTSP (`RtspCamera`: `rtsp-server-perl` and
an encoder, both children of the camera process), whose `/stats` is served on
`stats_port` and counts the RTSP clients connected (established TCP
connections to its port, from /proc).
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
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

import aiohttp
from aiohttp import web

from testbed import procfs
from testbed.errors import SetupError
from testbed.net import LOOPBACK, free_port
from testbed.spawn import spawn, stop, tail

from .h264 import RtspCamera
from .mjpeg import MjpegCamera
from .pictures import Picture

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

REPO_ROOT: Final = Path(__file__).resolve().parents[2]


class CameraProcess:
    """An MJPEG camera running in its own process, seen from the caller."""

    def __init__(
        self,
        port: int,
        picture: Picture,
        *,
        latest_on_connect: bool = True,
        rtsp: bool = False,
        log: Path | None = None,
    ) -> None:
        """Describe the camera; `start()` runs it.

        Only what a command line can say is passed: size, rate, quality,
        keyframe interval and whether frames are stamped (no overlay).
        """
        if picture.overlaid:
            raise ValueError("a camera process draws no overlay")
        self.port = port
        self.picture = picture
        self.latest_on_connect = latest_on_connect
        self.rtsp = rtsp
        self.stats_port = free_port() if rtsp else port
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def stream_url(self) -> str:
        """The MJPEG stream, or the RTSP one (readers must use UDP)."""
        if self.rtsp:
            return f"rtsp://{LOOPBACK}:{self.port}/camera"
        return f"http://{LOOPBACK}:{self.port}/video.mjpg"

    def stream_url_for(self, name: str) -> str:
        """The MJPEG stream under a URL of its own (`MjpegCamera.stream_url_for`)."""
        return f"{self.stream_url}?camera={quote(name)}"

    @property
    def still_url(self) -> str:
        """The still image (MJPEG cameras)."""
        return f"http://{LOOPBACK}:{self.port}/still.jpg"

    def still_url_for(self, name: str) -> str:
        """The still image under a URL of its own."""
        return f"{self.still_url}?camera={quote(name)}"

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
            *("--keyframe-interval", f"{picture.keyframe_interval:g}"),
            *(
                ("--bitrate-kbps", str(picture.bitrate_kbps))
                if picture.bitrate_kbps
                else ()
            ),
            *(["--stamped"] if picture.stamped else []),
            *(["--rtsp", "--stats-port", str(self.stats_port)] if self.rtsp else []),
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
            http.get(f"http://{LOOPBACK}:{self.stats_port}/stats") as response,
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
        size=args.size,
        fps=args.fps,
        quality=args.quality,
        stamped=args.stamped,
        keyframe_interval=args.keyframe_interval,
        bitrate_kbps=args.bitrate_kbps,
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    if args.rtsp:
        async with RtspCamera(picture, port=args.port), _rtsp_stats(args):
            await stopping.wait()
        return
    camera = MjpegCamera(
        picture, port=args.port, latest_on_connect=not args.next_frame_on_connect
    )
    async with camera:
        await stopping.wait()


@contextlib.asynccontextmanager
async def _rtsp_stats(args: argparse.Namespace) -> AsyncIterator[None]:
    """`/stats` for an RTSP camera: on air, and its clients now."""

    async def stats(_request: web.Request) -> web.Response:
        clients = procfs.established(args.port)
        return web.json_response(
            {"frames": 1, "open_connections": clients, "connections_opened": None}
        )

    app = web.Application()
    app.router.add_get("/stats", stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, LOOPBACK, args.stats_port).start()
    try:
        yield
    finally:
        await runner.cleanup()


def main() -> None:
    """`python -m testbed.cameras.standalone --port N [options]`."""
    parser = argparse.ArgumentParser(prog="python -m testbed.cameras.standalone")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--quality", type=int, default=85)
    parser.add_argument("--stamped", action="store_true")
    parser.add_argument("--keyframe-interval", type=float, default=0.5)
    parser.add_argument("--bitrate-kbps", type=int, default=None)
    parser.add_argument("--rtsp", action="store_true")
    parser.add_argument("--stats-port", type=int, default=0)
    parser.add_argument("--next-frame-on-connect", action="store_true")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
