"""One reader per shared camera, fed from Home Assistant's camera entities.

Each camera gets a `media.CameraFeeds` on first use: its JPEG frames (for
`/mjpeg` and snapshots) and its fragmented MP4 (for `/mp4`), both from one
connection to the camera, read the cheapest way its stream allows (see
`media.camera`). Home Assistant supplies the camera's stream source, stills
and stream options, its ffmpeg binary and HTTP session, and the agreement
supplies each camera's privacy masks: when they change, the camera's running
reader starts over with the new ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
import logging
from typing import TYPE_CHECKING, Final

from homeassistant.components.camera import CameraEntityFeature, async_get_image
from homeassistant.components.camera.helper import get_camera_from_entity_id
from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.const import ATTR_SUPPORTED_FEATURES, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .media import (
    CameraFeeds,
    CameraHub,
    CameraStatus,
    FeedSettings,
    FragmentHub,
    StreamKind,
)

if TYPE_CHECKING:
    from .core.agreement import Agreement
    from .core.masks import Mask

_LOGGER = logging.getLogger(__name__)

STREAM_FPS: Final = 10
STREAM_MAX_WIDTH: Final = 960
STILL_FPS: Final = 2
# How long a reader keeps running after its last viewer left: a viewer who
# reloads the page finds the camera still connected.
LINGER = 3.0
UNAVAILABLE: Final = "unavailable"


class EntityCamera:
    """A Home Assistant camera entity, as the media package reaches a camera."""

    def __init__(self, hass: HomeAssistant, entity_id: str) -> None:
        """Reach `entity_id` (looked up afresh on every call)."""
        self._hass = hass
        self._entity_id = entity_id

    async def stream_source(self) -> str | None:
        """The entity's stream source (None: stills only)."""
        camera = get_camera_from_entity_id(self._hass, self._entity_id)
        return await camera.stream_source()

    async def still(self) -> bytes | None:
        """One still image from the entity, None if it has none now."""
        try:
            image = await async_get_image(self._hass, self._entity_id)
        except HomeAssistantError:
            return None
        return image.content

    @property
    def input_args(self) -> Mapping[str, str]:
        """The camera's own stream settings that ffmpeg's input understands.

        TCP is the reader's default for RTSP; a camera configured for UDP (some
        servers refuse TCP) says so in its stream options, as Home Assistant's
        generic camera does.
        """
        try:
            camera = get_camera_from_entity_id(self._hass, self._entity_id)
        except HomeAssistantError:
            return {}
        transport = camera.stream_options.get("rtsp_transport")
        return {"rtsp_transport": transport} if isinstance(transport, str) else {}

    @property
    def streams_video(self) -> bool:
        """Whether Home Assistant streams it as video (its STREAM feature)."""
        return supports_stream(self._hass, self._entity_id)


def supports_stream(hass: HomeAssistant, entity_id: str) -> bool:
    """Whether the camera entity has a video stream (Home Assistant's STREAM)."""
    state = hass.states.get(entity_id)
    features = state.attributes.get(ATTR_SUPPORTED_FEATURES, 0) if state else 0
    return bool(int(features or 0) & CameraEntityFeature.STREAM)


class CameraStreams:
    """The readers of one agreement's cameras, created on first use."""

    def __init__(
        self,
        hass: HomeAssistant,
        on_status: Callable[[str, CameraStatus], None],
        agreement: Callable[[], Agreement] | None = None,
    ) -> None:
        """Report status changes to `on_status`; masks come from `agreement()`."""
        self._hass = hass
        self._on_status = on_status
        self._agreement = agreement
        self._feeds: dict[str, CameraFeeds] = {}
        self._settings: FeedSettings | None = None
        self._masks_seen = self._masks()

    def _masks(self) -> tuple[tuple[str, tuple[Mask, ...]], ...]:
        return () if self._agreement is None else self._agreement().masks

    def _masks_of(self, entity_id: str) -> tuple[Mask, ...]:
        return () if self._agreement is None else self._agreement().masks_of(entity_id)

    def _feed_settings(self) -> FeedSettings:
        if self._settings is None:
            self._settings = FeedSettings(
                ffmpeg=get_ffmpeg_manager(self._hass).binary,
                # ffmpeg does not verify a camera's certificate either: many
                # cameras on a school's network have self-signed ones.
                session=async_get_clientsession(self._hass, verify_ssl=False),
                fps=STREAM_FPS,
                max_width=STREAM_MAX_WIDTH,
                still_fps=STILL_FPS,
                linger=LINGER,
            )
        return self._settings

    def feeds(self, entity_id: str) -> CameraFeeds:
        """The camera's feeds (created, not started, on first use)."""
        if (feeds := self._feeds.get(entity_id)) is None:
            feeds = self._feeds[entity_id] = CameraFeeds(
                entity_id,
                EntityCamera(self._hass, entity_id),
                self._feed_settings(),
                masks=self._masks_of(entity_id),
                on_change=lambda: self._changed(entity_id),
            )
        return feeds

    def _changed(self, entity_id: str) -> None:
        if (feeds := self._feeds.get(entity_id)) is not None:
            self._on_status(entity_id, feeds.status)

    def hub(self, entity_id: str) -> CameraHub:
        """The camera's JPEG frames (`/mjpeg`, snapshots)."""
        return self.feeds(entity_id).jpeg

    def mp4_hub(self, entity_id: str) -> FragmentHub:
        """The camera's fragmented MP4 (`/mp4`)."""
        return self.feeds(entity_id).mp4

    def mp4_available(self, entity_id: str) -> bool:
        """Whether `/mp4` can serve the camera, as far as is known now.

        Not without a video stream, not with privacy masks, not once its
        stream turned out to be something other than H.264.
        """
        if self._masks_of(entity_id):
            return False
        if (feeds := self._feeds.get(entity_id)) is not None:
            if not feeds.mp4_possible:
                return False
            if feeds.kind is StreamKind.H264:
                return True
        return supports_stream(self._hass, entity_id)

    def status(self, entity_id: str) -> str:
        """`live`, `connecting`, `offline`, `idle`, or `unavailable`."""
        state = self._hass.states.get(entity_id)
        if state is None or state.state == STATE_UNAVAILABLE:
            return UNAVAILABLE
        feeds = self._feeds.get(entity_id)
        return feeds.status.value if feeds else CameraStatus.IDLE.value

    def last_frame_at(self, entity_id: str) -> datetime | None:
        """When a viewer last had a picture of the camera, if ever since start."""
        feeds = self._feeds.get(entity_id)
        if feeds is None or (at := feeds.last_frame_at) is None:
            return None
        return datetime.fromtimestamp(at, UTC)

    def statuses(self) -> dict[str, str]:
        """Every camera's status, for diagnostics."""
        return {entity_id: self.status(entity_id) for entity_id in self._feeds}

    def apply_masks(self) -> None:
        """Give every camera the masks the agreement has now.

        Called whenever the agreement may have changed; a camera whose masks
        changed starts its reader over with them.
        """
        masks = self._masks()
        if masks == self._masks_seen:
            return
        self._masks_seen = masks
        for entity_id, feeds in self._feeds.items():
            if feeds.set_masks(self._masks_of(entity_id)):
                _LOGGER.debug("Camera %s: privacy masks changed", entity_id)

    async def async_stop(self) -> None:
        """Stop every reader (unload and Home Assistant shutdown)."""
        for feeds in list(self._feeds.values()):
            await feeds.stop()
        self._feeds.clear()
