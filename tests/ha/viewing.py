"""Helpers for tests that act as police viewers: links, HTTP, MJPEG parts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
import time
from typing import Any

from aiohttp import ClientResponse, MultipartReader, web
from aiohttp.test_utils import TestClient
from homeassistant.components.camera import Camera, CameraEntityFeature
from homeassistant.core import Context, HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from yarl import URL

from custom_components.school_emergency_share.const import URL_PREFIX
from testbed import procfs

from .common import async_call, async_setup_camera_platform

type Client = TestClient[web.Request, web.Application]


class StreamCamera(Camera):
    """A camera with a stream source: the integration reads it through ffmpeg."""

    _attr_supported_features = CameraEntityFeature.STREAM

    def __init__(
        self, name: str, url: str, stream_options: dict[str, str] | None = None
    ) -> None:
        """A camera called `name` streaming from `url`."""
        super().__init__()
        self._attr_name = name
        self._attr_unique_id = f"stream-{name}"
        self.url = url
        self.stream_options.update(stream_options or {})

    async def stream_source(self) -> str | None:
        """The camera's stream URL."""
        return self.url

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Stills come from the stream in this product; none here."""
        return None


async def async_setup_stream_cameras(
    hass: HomeAssistant,
    urls: dict[str, str],
    stream_options: dict[str, dict[str, str]] | None = None,
) -> dict[str, StreamCamera]:
    """Camera entities `camera.<name>` reading from the given URLs."""
    options = stream_options or {}
    cameras = {
        name: StreamCamera(name, url, options.get(name)) for name, url in urls.items()
    }

    await async_setup_camera_platform(hass, "streamtest", list(cameras.values()))
    return cameras


async def async_link(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    context: Context | None = None,
    **data: Any,
) -> tuple[str, str]:
    """Create a viewer link; returns (link_id, path with the token)."""
    response = await async_call(
        hass,
        "create_viewer_link",
        entry,
        context,
        **{"label": "Unit 12", **data},
    )
    assert response is not None
    url = URL(str(response["url"]))
    assert url.path.startswith(URL_PREFIX + "/")
    return str(response["link_id"]), url.path


def token_of(path: str) -> str:
    """The token in a viewer path."""
    return path.removeprefix(URL_PREFIX + "/").split("/", 1)[0]


@dataclass
class Part:
    """One MJPEG part as a viewer receives it."""

    jpeg: bytes
    capture_ms: int
    received: float


async def read_parts(
    response: ClientResponse, count: int, timeout: float = 10.0
) -> list[Part]:
    """Read `count` parts of a multipart MJPEG response."""
    reader = MultipartReader.from_response(response)
    parts: list[Part] = []
    async with asyncio.timeout(timeout):
        while len(parts) < count:
            part = await reader.next()
            assert part is not None, "stream ended"
            body = await part.read()  # type: ignore[union-attr]
            parts.append(
                Part(bytes(body), int(part.headers["X-Capture-Time"]), time.monotonic())
            )
    return parts


async def wait_closed(response: ClientResponse, timeout: float) -> float:
    """Read until the server closes the stream; returns how long it took."""
    started = time.monotonic()
    async with asyncio.timeout(timeout):
        while await response.content.readany():
            pass
    return time.monotonic() - started


async def get(client: Client, path: str, **kwargs: Any) -> ClientResponse:
    """GET and read the body (for non-streaming responses)."""
    response = await client.get(path, **kwargs)
    await response.read()
    return response


def reader_processes() -> list[int]:
    """This process's ffmpeg children that read a camera for the proxy.

    Synthetic cameras are ffmpeg processes too; readers are told apart by the
    multipart JPEG they write to their standard output.
    """
    found = []
    for pid in procfs.own_children("ffmpeg"):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"mpjpeg" in argv and b"pipe:1" in argv:
            found.append(pid)
    return found
