"""Repair issues an administrator sees: agreement dates and lost cameras."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.school_emergency_share.const import DOMAIN

from .common import (
    ENTRANCE,
    GYM,
    LIBRARY,
    async_settle,
    async_setup_agreement,
    events_named,
    today,
)


def _issue(
    hass: HomeAssistant, kind: str, entry: MockConfigEntry
) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{kind}_{entry.entry_id}")


def _days(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


async def test_an_agreement_ending_within_30_days_raises_a_warning(
    hass: HomeAssistant, cameras: object
) -> None:
    """The warning names the agency, the last day and the days left."""
    entry = await async_setup_agreement(hass, valid_until=_days(10))

    issue = _issue(hass, "agreement_ending", entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_key == "agreement_ending"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["agency"] == "Springfield Police Department"
    assert issue.translation_placeholders["valid_until"] == _days(10)
    assert issue.translation_placeholders["days"] in ("10", "11")
    assert _issue(hass, "agreement_ended", entry) is None


async def test_an_agreement_far_from_its_end_raises_nothing(
    hass: HomeAssistant, cameras: object
) -> None:
    """No noise while the agreement has more than 30 days to run."""
    entry = await async_setup_agreement(hass, valid_until=_days(60))
    assert _issue(hass, "agreement_ending", entry) is None
    assert _issue(hass, "agreement_ended", entry) is None


async def test_an_ended_agreement_raises_an_error(
    hass: HomeAssistant, cameras: object
) -> None:
    """Once over, the issue says so (and no longer warns of the end)."""
    entry = await async_setup_agreement(
        hass, valid_from=_days(-60), valid_until=_days(-1)
    )

    issue = _issue(hass, "agreement_ended", entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == "agreement_ended"
    assert _issue(hass, "agreement_ending", entry) is None


async def test_renewing_the_agreement_clears_the_warning(
    hass: HomeAssistant, cameras: object
) -> None:
    """New dates in the options: the ending warning goes away at once."""
    entry = await async_setup_agreement(hass, valid_until=_days(5))
    assert _issue(hass, "agreement_ending", entry) is not None

    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "valid_until": _days(400)}
    )
    await async_settle(hass)

    assert _issue(hass, "agreement_ending", entry) is None


async def test_the_warning_appears_as_the_end_draws_near_and_turns_into_ended(
    hass: HomeAssistant, cameras: object, freezer: FrozenDateTimeFactory
) -> None:
    """The hourly check raises the warning, then the ended issue, on its own."""
    entry = await async_setup_agreement(hass, valid_until=_days(40))
    assert _issue(hass, "agreement_ending", entry) is None
    ends_at = datetime.combine(
        today() + timedelta(days=41), time.min, dt_util.get_default_time_zone()
    )

    freezer.move_to(ends_at - timedelta(days=29))
    async_fire_time_changed(hass)
    await async_settle(hass)
    assert _issue(hass, "agreement_ending", entry) is not None

    freezer.move_to(ends_at + timedelta(hours=1))
    async_fire_time_changed(hass)
    await async_settle(hass)
    assert _issue(hass, "agreement_ending", entry) is None
    assert _issue(hass, "agreement_ended", entry) is not None


async def test_a_camera_removed_from_home_assistant_raises_an_issue(
    hass: HomeAssistant, cameras: object
) -> None:
    """A camera of the agreement deleted from the entity registry is named."""
    entry = await async_setup_agreement(hass)
    assert _issue(hass, "camera_missing", entry) is None

    er.async_get(hass).async_remove(GYM)
    await async_settle(hass)

    issue = _issue(hass, "camera_missing", entry)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["cameras"] == GYM


async def test_a_camera_that_never_existed_is_named_and_cleared_when_removed(
    hass: HomeAssistant, cameras: object
) -> None:
    """A typo in the agreement shows up, and goes away once corrected."""
    entry = await async_setup_agreement(
        hass, cameras=[ENTRANCE, GYM, LIBRARY, "camera.roof"]
    )
    issue = _issue(hass, "camera_missing", entry)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["cameras"] == "camera.roof"

    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "cameras": [ENTRANCE, GYM, LIBRARY]}
    )
    await async_settle(hass)

    assert _issue(hass, "camera_missing", entry) is None


async def test_removing_the_agreement_removes_its_issues_but_keeps_its_audit_log(
    hass: HomeAssistant, cameras: object
) -> None:
    """A deleted agreement leaves no stale repairs; the log stays for review."""
    entry = await async_setup_agreement(
        hass, valid_until=_days(3), cameras=[GYM, "camera.roof"]
    )
    log = entry.runtime_data.audit.path
    assert events_named(entry, "agreement_created")
    assert _issue(hass, "agreement_ending", entry) is not None
    assert _issue(hass, "camera_missing", entry) is not None

    assert await hass.config_entries.async_remove(entry.entry_id)
    await async_settle(hass)

    assert _issue(hass, "agreement_ending", entry) is None
    assert _issue(hass, "camera_missing", entry) is None
    assert log.exists()
