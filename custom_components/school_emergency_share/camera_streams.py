"""One upstream reader per shared camera, fed from Home Assistant's camera entities.

A camera with a stream source is read by one ffmpeg process (Home Assistant's
ffmpeg binary); any other camera is polled for stills. Either way the frames go
to a `CameraHub`, which fans them out to every viewer of that camera.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
import logging
from typing import Final

from homeassistant.components.camera import async_get_image
from homeassistant.components.camera.helper import get_camera_from_entity_id
from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .media import CameraHub, CameraStatus, FfmpegSource, FrameSource, PollingSource

_LOGGER = logging.getLogger(__name__)

STREAM_FPS: Final = 10
STREAM_MAX_WIDTH: Final = 960
STILL_FPS: Final = 2
# How long a reader keeps running after its last viewer left: a viewer who
# reloads the page finds the camera still connected.
LINGER = 3.0
UNAVAILABLE: Final = "unavailable"


class CameraEntitySource:
    """Reads a Home Assistant camera: ffmpeg for streams, stills otherwise."""

    def __init__(self, hass: HomeAssistant, entity_id: str) -> None:
        """Read `entity_id` once frames are asked for."""
        self._hass = hass
        self._entity_id = entity_id
        self._inner: FrameSource | None = None

    async def frames(self) -> AsyncIterator[bytes]:
        """Yield JPEG frames until the camera fails."""
        camera = get_camera_from_entity_id(self._hass, self._entity_id)
        url = await camera.stream_source()
        if url:
            self._inner = FfmpegSource(
                get_ffmpeg_manager(self._hass).binary,
                url,
                fps=STREAM_FPS,
                max_width=STREAM_MAX_WIDTH,
                extra_input_args=_input_options(camera.stream_options),
            )
        else:
            self._inner = PollingSource(self._still, fps=STILL_FPS)
        async for frame in self._inner.frames():
            yield frame

    async def _still(self) -> bytes | None:
        try:
            image = await async_get_image(self._hass, self._entity_id)
        except HomeAssistantError:
            return None
        return image.content

    async def aclose(self) -> None:
        """Stop whatever reads the camera."""
        if self._inner is not None:
            await self._inner.aclose()


def _input_options(stream_options: Mapping[str, object]) -> dict[str, str]:
    """The camera's own stream settings that ffmpeg's input understands.

    TCP is the reader's default for RTSP; a camera configured for UDP (some
    servers refuse TCP) says so in its stream options, as Home Assistant's
    generic camera does.
    """
    transport = stream_options.get("rtsp_transport")
    return {"rtsp_transport": transport} if isinstance(transport, str) else {}


class CameraStreams:
    """The hubs of one agreement's cameras, created on first use."""

    def __init__(
        self,
        hass: HomeAssistant,
        on_status: Callable[[str, CameraStatus], None],
    ) -> None:
        """Report every hub's status changes to `on_status`."""
        self._hass = hass
        self._on_status = on_status
        self._hubs: dict[str, CameraHub] = {}

    def hub(self, entity_id: str) -> CameraHub:
        """The hub for `entity_id`."""
        if (hub := self._hubs.get(entity_id)) is None:
            hub = self._hubs[entity_id] = CameraHub(
                entity_id,
                lambda: CameraEntitySource(self._hass, entity_id),
                linger=LINGER,
                on_status=lambda status: self._on_status(entity_id, status),
            )
        return hub

    def status(self, entity_id: str) -> str:
        """`live`, `connecting`, `offline`, `idle`, or `unavailable`."""
        state = self._hass.states.get(entity_id)
        if state is None or state.state == STATE_UNAVAILABLE:
            return UNAVAILABLE
        hub = self._hubs.get(entity_id)
        return hub.status.value if hub else CameraStatus.IDLE.value

    def statuses(self) -> dict[str, str]:
        """Every hub's status, for diagnostics."""
        return {entity_id: self.status(entity_id) for entity_id in self._hubs}

    async def async_stop(self) -> None:
        """Stop every reader (unload and Home Assistant shutdown)."""
        for hub in list(self._hubs.values()):
            await hub.stop()
        self._hubs.clear()
