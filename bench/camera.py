"""A synthetic MJPEG IP camera whose frames carry their send time in the pixels.

Run in its own process (`python -m bench.camera --port N`), so its work is not
the benchmark client's and its CPU can be told apart: it renders ffmpeg's
`testsrc2` pattern (a few frames made once), paints each frame's send time
(`bench.stamp`), encodes it with libjpeg-turbo and sends the same bytes to
every connected client, like a camera's single encoder.

- `/video.mjpg`: `multipart/x-mixed-replace`, any number of clients; each
  gets the next frame made after it connects, then every frame (a slow client
  skips to the newest, nobody waits for it).
- `/still.jpg`: the latest frame.
- `/stats`: JSON with `connections_opened`, `open_connections`, `frames`,
  `frame_bytes` (the latest frame's size).

`StampedCamera` starts and stops that process from the benchmark and reads
its counters.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys
import time
from typing import Any, Final

import aiohttp
from aiohttp import web
import numpy as np
import numpy.typing as npt
from turbojpeg import TJPF_RGB, TurboJPEG  # type: ignore[import-untyped]

from demo.processes import LOOPBACK, DemoError, spawn, stop, tail

from . import stamp

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
FFMPEG: Final = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
BOUNDARY: Final = "stampedcamera"
PATTERN_FRAMES: Final = 12


def _pattern(width: int, height: int, count: int) -> npt.NDArray[np.uint8]:
    """`count` successive frames of ffmpeg's testsrc2, as RGB arrays."""
    result = subprocess.run(
        [
            FFMPEG,
            *("-hide_banner", "-loglevel", "error", "-nostdin"),
            *("-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=10"),
            *("-frames:v", str(count), "-f", "rawvideo", "-pix_fmt", "rgb24"),
            "pipe:1",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return np.frombuffer(result.stdout, dtype=np.uint8).reshape(count, height, width, 3)


class _Camera:
    """The camera's encoder loop and HTTP server (inside the camera process)."""

    def __init__(self, width: int, height: int, fps: float, quality: int) -> None:
        self.fps = fps
        self.quality = quality
        self.pattern = _pattern(width, height, PATTERN_FRAMES)
        self.canvas = np.empty_like(self.pattern[0])
        self.jpeg = TurboJPEG()
        self.frame: bytes | None = None
        self.frames = 0
        self.connections_opened = 0
        self.open_connections = 0
        self.new_frame = asyncio.Condition()

    async def produce(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            self.canvas[:] = self.pattern[self.frames % PATTERN_FRAMES]
            stamp.paint(self.canvas, stamp.now_ms())
            # Stamped before encoding: latencies include the camera's own
            # encoding (about 3 ms at 1280x720), the same for both proxies.
            jpeg = self.jpeg.encode(
                self.canvas, quality=self.quality, pixel_format=TJPF_RGB
            )
            async with self.new_frame:
                self.frame = jpeg
                self.frames += 1
                self.new_frame.notify_all()
            next_at = max(next_at + 1 / self.fps, loop.time() - 1)
            await asyncio.sleep(next_at - loop.time())

    async def stream(self, request: web.Request) -> web.StreamResponse:
        self.connections_opened += 1
        self.open_connections += 1
        response = web.StreamResponse(
            headers={
                "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                "Cache-Control": "no-cache",
            }
        )
        try:
            await response.prepare(request)
            seen = self.frames
            while True:
                async with self.new_frame:
                    await self.new_frame.wait_for(functools.partial(self._newer, seen))
                    seen, jpeg = self.frames, self.frame
                assert jpeg is not None  # noqa: S101 - frames > 0
                header = (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(jpeg)}\r\n\r\n"
                ).encode()
                await response.write(header + jpeg + b"\r\n")
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.open_connections -= 1
        return response

    def _newer(self, seen: int) -> bool:
        return self.frames > seen

    async def still(self, _request: web.Request) -> web.Response:
        if self.frame is None:
            raise web.HTTPServiceUnavailable(text="starting")
        return web.Response(body=self.frame, content_type="image/jpeg")

    async def stats(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                "connections_opened": self.connections_opened,
                "open_connections": self.open_connections,
                "frames": self.frames,
                "frame_bytes": len(self.frame or b""),
            }
        )


async def _serve(args: argparse.Namespace) -> None:
    width, height = (int(v) for v in args.size.split("x"))
    camera = _Camera(width, height, args.fps, args.quality)
    app = web.Application()
    app.router.add_get("/video.mjpg", camera.stream)
    app.router.add_get("/still.jpg", camera.still)
    app.router.add_get("/stats", camera.stats)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, LOOPBACK, args.port, reuse_address=True).start()
    producer = asyncio.get_running_loop().create_task(camera.produce())
    try:
        await asyncio.Event().wait()  # until SIGTERM
    finally:
        producer.cancel()
        await runner.cleanup()


def main() -> None:
    """`python -m bench.camera --port N [--size WxH] [--fps F] [--quality Q]`."""
    parser = argparse.ArgumentParser(prog="python -m bench.camera")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--quality", type=int, default=85)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


class StampedCamera:
    """The camera process, seen from the benchmark."""

    def __init__(
        self,
        port: int,
        *,
        size: str = "1280x720",
        fps: float = 10.0,
        quality: int = 85,
        log: Path | None = None,
    ) -> None:
        """Describe the camera; `start()` runs it."""
        self.port = port
        self.size = size
        self.fps = fps
        self.quality = quality
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
        """The camera process."""
        if self.proc is None:
            raise DemoError("the camera is not running")
        return self.proc.pid

    async def start(self, timeout: float = 60.0) -> None:
        """Start the process; returns once it has made a frame."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
        )
        self.proc = await spawn(
            sys.executable,
            *("-m", "bench.camera", "--port", str(self.port), "--size", self.size),
            *("--fps", f"{self.fps:g}", "--quality", str(self.quality)),
            output=self.log,
            env=env,
            cwd=REPO_ROOT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                where = f":\n{tail(self.log)}" if self.log else ""
                raise DemoError(f"the stamped camera exited{where}")
            with contextlib.suppress(aiohttp.ClientError, OSError, DemoError):
                if (await self.stats())["frames"] > 0:
                    return
            await asyncio.sleep(0.2)
        raise DemoError(f"the stamped camera made no frame in {timeout:g} s")

    async def stats(self) -> dict[str, Any]:
        """The camera's counters."""
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            http.get(f"http://{LOOPBACK}:{self.port}/stats") as response,
        ):
            if response.status != 200:
                raise DemoError(f"camera /stats answered {response.status}")
            data: dict[str, Any] = json.loads(await response.text())
            return data

    async def stop(self) -> None:
        """Stop the process and reap it."""
        if self.proc is not None:
            await stop(self.proc, grace=5.0)
            self.proc = None


if __name__ == "__main__":
    main()
