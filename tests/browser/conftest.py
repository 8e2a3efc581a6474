"""Real-browser fixtures: Home Assistant in process, Debian's Chromium via Playwright.

The browser runs on the test's own event loop (Playwright's async API) and is
closed inside the test, so nothing lingers for Home Assistant's cleanup checks.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import itertools
import os
from pathlib import Path
import subprocess

from homeassistant.core import HomeAssistant
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Page,
    async_playwright,
    expect,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.school_emergency_share import camera_streams
from tests.ha import common
from tests.ha.common import (
    ENTRANCE,
    GYM,
    HALLWAY,
    LIBRARY,
    OUTSIDE,
    StillCamera,
    async_call,
    async_setup_agreement,
    async_setup_cameras,
)
from tests.ha.viewing import Client
from tests.support.in_hass import (  # noqa: F401 - fixtures
    auto_enable_custom_integrations,
    client,
    config_dir,
)

HERE = Path(__file__).parent
CHROMIUM = Path("/usr/bin/chromium")
PATIENCE_MS = 20_000
"""How long a page may take to show what a test waits for: Chromium and Home
Assistant share two cores with other work, and a wait is not a verdict."""

expect.set_options(timeout=PATIENCE_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark this folder's tests `browser`; skip them where they cannot run."""
    reason = None
    if os.environ.get("SES_TEST_ENV") == "minimum":
        reason = "browser tests run in the current environment only"
    elif not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (scripts/setup installs Debian's chromium)"
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def short_linger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers stop 0.3 s after their last viewer (3 s in production)."""
    monkeypatch.setattr(camera_streams, "LINGER", 0.3)


@pytest.fixture(scope="session")
def moving_frames(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Successive frames of ffmpeg's test pattern: a picture that visibly moves.

    The cameras share one cycle, taking turns; a prime number of frames keeps
    any one camera from seeing the same frame again soon.
    """
    folder = tmp_path_factory.mktemp("frames")
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=4",
            "-frames:v",
            "13",
            "-q:v",
            "6",
            str(folder / "%02d.jpg"),
        ],
        check=True,
        timeout=60,
    )
    return [path.read_bytes() for path in sorted(folder.glob("*.jpg"))]


@pytest.fixture
async def cameras(
    hass: HomeAssistant, moving_frames: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> dict[str, StillCamera]:
    """The test school's cameras, each poll returning the next test-pattern frame."""
    frames = itertools.cycle(moving_frames)

    def next_frame(*_args: object) -> bytes:
        return next(frames)

    monkeypatch.setattr(common, "jpeg", next_frame)
    return await async_setup_cameras(hass)


@pytest.fixture
async def entry(
    hass: HomeAssistant,
    client: Client,  # noqa: F811 - the shared fixture, imported above
) -> AsyncGenerator[MockConfigEntry]:
    """An agreement over four cameras on two floors and one with no area."""
    entry = await async_setup_agreement(
        hass, cameras=[ENTRANCE, GYM, LIBRARY, HALLWAY, OUTSIDE]
    )
    yield entry
    # Stops every camera reader before Home Assistant's cleanup checks.
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
async def active(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """The agreement with an emergency session going on."""
    await async_call(
        hass, "activate", entry, reason="Fire alarm, building B", incident_id="24-0173"
    )
    return entry


@pytest.fixture
async def browser(
    client: Client,  # noqa: F811 - the shared fixture, imported above
) -> AsyncGenerator[Browser]:
    """Debian's Chromium (Playwright's own download does not work here)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def phone(browser: Browser) -> AsyncGenerator[Page]:
    """A phone-sized page that fails the test on script errors or CSP violations."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = await context.new_page()
    page.set_default_timeout(PATIENCE_MS)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    try:
        yield page
    finally:
        await context.close()
    assert problems == []
