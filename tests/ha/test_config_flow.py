"""Adding an agreement in three steps, and changing it while a session runs."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import area_registry as ar, device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockUser,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.school_emergency_share.const import DOMAIN

from .common import (
    ENTRANCE,
    GYM,
    HALLWAY,
    LIBRARY,
    LOCKER_ROOM,
    async_call,
    async_setup_agreement,
    events_named,
    manager_of,
    today,
)

PARTIES = {
    "school": "Lincoln High School",
    "agency": "Springfield Police Department",
    "valid_from": "2025-01-01",
    "valid_until": "2035-12-31",
}
CAMERAS = {"cameras": [ENTRANCE, GYM, LIBRARY], "private_cameras": [LOCKER_ROOM]}
RULES = {
    "allowed_users": [],
    "max_session_minutes": 45.0,
    "max_extension_minutes": 30.0,
    "max_viewers": 5.0,
    "notify_targets": [],
    "retention_days": 400.0,
    "failure_limit": 10.0,
    "max_streams_per_viewer": 4.0,
}


async def _add_agreement(
    hass: HomeAssistant,
    parties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Walk the three steps with valid answers; return the final result."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "parties"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], parties or PARTIES
    )
    if result["type"] is FlowResultType.ABORT:
        return dict(result)
    assert result["step_id"] == "cameras"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], CAMERAS)
    assert result["step_id"] == "rules"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], RULES)
    await hass.async_block_till_done()
    return dict(result)


async def test_three_steps_create_an_agreement_holding_everything_in_its_options(
    hass: HomeAssistant, cameras: object
) -> None:
    """Parties, cameras and rules all land in the entry's options, numbers whole."""
    result = await _add_agreement(hass)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Lincoln High School - Springfield Police Department"
    entry: ConfigEntry[Any] = result["result"]
    assert entry.data == {}
    assert entry.options == {
        **PARTIES,
        **CAMERAS,
        "allowed_users": [],
        "max_session_minutes": 45,
        "max_extension_minutes": 30,
        "max_viewers": 5,
        "notify_targets": [],
        "retention_days": 400,
        "failure_limit": 10,
        "max_streams_per_viewer": 4,
    }
    assert all(
        type(entry.options[key]) is int
        for key in ("max_session_minutes", "max_viewers", "failure_limit")
    )
    manager = entry.runtime_data
    assert manager.agreement.shareable_cameras == {ENTRANCE, GYM, LIBRARY}
    assert manager.agreement.max_session == timedelta(minutes=45)


async def test_school_and_agency_names_are_trimmed(
    hass: HomeAssistant, cameras: object
) -> None:
    """Stray spaces do not end up in the title or the agreement."""
    result = await _add_agreement(
        hass, {**PARTIES, "school": "  Lincoln High School ", "agency": " SPD  "}
    )
    assert result["title"] == "Lincoln High School - SPD"
    assert result["result"].options["school"] == "Lincoln High School"


@pytest.mark.parametrize(
    ("answer", "errors"),
    [
        ({"school": "   "}, {"school": "required"}),
        ({"agency": ""}, {"agency": "required"}),
        (
            {"valid_from": "2030-06-02", "valid_until": "2030-06-01"},
            {"valid_until": "dates_reversed"},
        ),
    ],
    ids=["school_required", "agency_required", "dates_reversed"],
)
async def test_parties_step_explains_what_is_wrong(
    hass: HomeAssistant,
    cameras: object,
    answer: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """The first step stays open and names the field at fault."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PARTIES, **answer}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "parties"
    assert result["errors"] == errors


@pytest.mark.parametrize(
    ("answer", "errors"),
    [
        ({"cameras": [], "private_cameras": []}, {"cameras": "no_cameras"}),
        (
            {"cameras": [ENTRANCE, LOCKER_ROOM], "private_cameras": [LOCKER_ROOM]},
            {"private_cameras": "camera_private_and_eligible"},
        ),
    ],
    ids=["no_cameras", "camera_private_and_eligible"],
)
async def test_cameras_step_explains_what_is_wrong(
    hass: HomeAssistant,
    cameras: object,
    answer: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """The camera step refuses no camera at all, and a private camera shared."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PARTIES)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], answer)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "cameras"
    assert result["errors"] == errors


async def test_a_second_agreement_between_the_same_parties_is_refused(
    hass: HomeAssistant, cameras: object
) -> None:
    """One agreement per school and agency: the second flow aborts."""
    assert (await _add_agreement(hass))["type"] is FlowResultType.CREATE_ENTRY
    result = await _add_agreement(hass, {**PARTIES, "school": "lincoln high school  "})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_the_same_school_may_have_an_agreement_with_another_agency(
    hass: HomeAssistant, cameras: object
) -> None:
    """A second agency is a second agreement."""
    await _add_agreement(hass)
    result = await _add_agreement(hass, {**PARTIES, "agency": "County Sheriff"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(hass.config_entries.async_entries(DOMAIN)) == 2


# ----------------------------------------------------------------- options flow


async def _change_agreement(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    dates: dict[str, Any] | None = None,
    cameras: dict[str, Any] | None = None,
    rules: dict[str, Any] | None = None,
    masks: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Walk the options flow; each step keeps what it is not given."""
    options = dict(entry.options)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "dates"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {key: options[key] for key in ("valid_from", "valid_until")} | (dates or {}),
    )
    assert result["step_id"] == "cameras", result.get("errors")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {key: options[key] for key in ("cameras", "private_cameras")} | (cameras or {}),
    )
    assert result["step_id"] == "rules", result.get("errors")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            key: options[key]
            for key in (
                "allowed_users",
                "max_session_minutes",
                "max_extension_minutes",
                "max_viewers",
                "notify_targets",
                "retention_days",
                "failure_limit",
                "max_streams_per_viewer",
            )
        }
        | (rules or {}),
    )
    assert result["step_id"] == "masks", result.get("errors")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"masks": options.get("masks", {})} | (masks or {})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    return dict(result)


async def _rename(
    hass: HomeAssistant, entry: ConfigEntry[Any], **parties: str
) -> dict[str, Any]:
    """Walk the reconfigure flow; the names not given stay."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {key: entry.options[key] for key in ("school", "agency")} | parties,
    )
    await hass.async_block_till_done()
    return dict(result)


async def test_options_flow_changes_every_part_of_the_agreement(
    hass: HomeAssistant, cameras: object
) -> None:
    """Parties (reconfigure), dates, cameras and rules (options) all change."""
    entry = await async_setup_agreement(hass)
    until = (today() + timedelta(days=700)).isoformat()
    renamed = await _rename(
        hass, entry, school="Lincoln District", agency="County Sheriff"
    )
    assert renamed["reason"] == "reconfigure_successful"
    await _change_agreement(
        hass,
        entry,
        cameras={"cameras": [GYM, HALLWAY], "private_cameras": [LOCKER_ROOM, ENTRANCE]},
        rules={
            "max_session_minutes": 30.0,
            "max_extension_minutes": 15.0,
            "max_viewers": 3.0,
            "retention_days": 90.0,
            "failure_limit": 5.0,
        },
    )
    await _change_agreement(hass, entry, dates={"valid_until": until})

    assert entry.title == "Lincoln District - County Sheriff"
    agreement = manager_of(entry).agreement
    assert (agreement.school, agreement.agency) == (
        "Lincoln District",
        "County Sheriff",
    )
    assert agreement.valid_until.isoformat() == until
    assert agreement.shareable_cameras == {GYM, HALLWAY}
    assert agreement.private_cameras == {LOCKER_ROOM, ENTRANCE}
    assert agreement.max_session == timedelta(minutes=30)
    assert agreement.max_extension == timedelta(minutes=15)
    assert (agreement.max_viewers, agreement.retention_days) == (3, 90)
    assert agreement.failure_limit == 5
    assert entry.options["max_viewers"] == 3


async def test_options_flow_records_only_real_changes(
    hass: HomeAssistant, cameras: object
) -> None:
    """Each save is one agreement_changed record naming what changed, no empty ones."""
    entry = await async_setup_agreement(hass)
    await _rename(hass, entry, agency="County Sheriff")
    await _change_agreement(hass, entry, rules={"max_viewers": 4.0})
    await _change_agreement(hass, entry)
    changes = [r["data"]["changed"] for r in events_named(entry, "agreement_changed")]
    assert changes == [
        {"agency": {"from": "Springfield Police Department", "to": "County Sheriff"}},
        {"max_viewers": {"from": 10, "to": 4}},
    ]


async def test_options_flow_validates_like_the_config_flow(
    hass: HomeAssistant, cameras: object
) -> None:
    """A private camera that is also shared is refused when changing, too."""
    entry = await async_setup_agreement(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {key: entry.options[key] for key in ("valid_from", "valid_until")},
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"cameras": [GYM], "private_cameras": [GYM]}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"private_cameras": "camera_private_and_eligible"}
    assert manager_of(entry).agreement.shareable_cameras == {
        ENTRANCE,
        GYM,
        LIBRARY,
        HALLWAY,
    }


async def test_removing_a_camera_takes_it_out_of_the_running_session_at_once(
    hass: HomeAssistant, cameras: object
) -> None:
    """Shrinking scope applies to the session already running."""
    entry = await async_setup_agreement(hass)
    response = await async_call(hass, "activate", entry, reason="Fire alarm")
    assert response is not None
    assert response["cameras"] == sorted([ENTRANCE, GYM, HALLWAY, LIBRARY])

    await _change_agreement(hass, entry, cameras={"cameras": [ENTRANCE, GYM, LIBRARY]})

    manager = manager_of(entry)
    assert manager.session_open(manager.session.started_at)  # type: ignore[union-attr]
    assert manager.shared_cameras() == {ENTRANCE, GYM, LIBRARY}
    (changed,) = events_named(entry, "agreement_changed")
    assert changed["data"]["changed"]["cameras"] == {
        "from": sorted([ENTRANCE, GYM, HALLWAY, LIBRARY]),
        "to": sorted([ENTRANCE, GYM, LIBRARY]),
    }
    assert events_named(entry, "session_ended") == []


async def test_marking_a_camera_private_takes_it_out_of_the_running_session(
    hass: HomeAssistant, cameras: object
) -> None:
    """A camera newly marked private is no longer shared, session or not."""
    entry = await async_setup_agreement(hass)
    await async_call(hass, "activate", entry, reason="Intruder")

    await _change_agreement(
        hass,
        entry,
        cameras={
            "cameras": [ENTRANCE, GYM, HALLWAY],
            "private_cameras": [LOCKER_ROOM, LIBRARY],
        },
    )

    assert manager_of(entry).shared_cameras() == {ENTRANCE, GYM, HALLWAY}
    (changed,) = events_named(entry, "agreement_changed")
    assert changed["data"]["changed"]["private_cameras"] == {
        "from": [LOCKER_ROOM],
        "to": [LIBRARY, LOCKER_ROOM],
    }


async def test_an_agreement_moved_into_the_past_ends_the_running_session(
    hass: HomeAssistant, cameras: object
) -> None:
    """Ending the agreement ends sharing under it, recorded as agreement_ended."""
    entry = await async_setup_agreement(hass)
    await async_call(hass, "activate", entry, reason="Lockdown")

    await _change_agreement(
        hass,
        entry,
        dates={
            "valid_from": (today() - timedelta(days=30)).isoformat(),
            "valid_until": (today() - timedelta(days=1)).isoformat(),
        },
    )

    (ended,) = events_named(entry, "session_ended")
    assert ended["data"]["end_reason"] == "agreement_ended"
    assert manager_of(entry).shared_cameras() == frozenset()
    state = hass.states.get(
        "switch.lincoln_high_school_springfield_police_department_emergency_sharing"
    )
    assert state is not None
    assert state.state == "off"


async def test_renamed_parties_keep_one_agreement_per_school_and_agency(
    hass: HomeAssistant, cameras: object
) -> None:
    """After renaming the agency, a new agreement with it is a duplicate."""
    entry = await async_setup_agreement(hass)
    await _rename(hass, entry, agency="County Sheriff")

    result = await _add_agreement(hass, {**PARTIES, "agency": "County Sheriff"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    # The old name is free again.
    result = await _add_agreement(hass)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_renaming_onto_another_agreement_is_refused(
    hass: HomeAssistant, cameras: object
) -> None:
    """Changing the agency to one the school already has an agreement with fails."""
    sheriff = await _add_agreement(hass, {**PARTIES, "agency": "County Sheriff"})
    entry = await async_setup_agreement(hass)
    result = await _rename(hass, entry, agency="County sheriff")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "already_configured"}
    assert entry.title == "Lincoln High School - Springfield Police Department"
    assert sheriff["result"].title == "Lincoln High School - County Sheriff"


async def test_the_rules_step_offers_the_users_and_notify_services(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Who may activate is picked from real users; notices from notify services."""
    async_mock_service(hass, "notify", "school_ops")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PARTIES)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], CAMERAS)
    assert result["step_id"] == "rules"

    schema = result["data_schema"]
    assert schema is not None
    fields = {str(key): value for key, value in schema.schema.items()}
    users = fields["allowed_users"].config["options"]
    assert {"value": hass_admin_user.id, "label": hass_admin_user.name} in users
    assert "notify.school_ops" in fields["notify_targets"].config["options"]


async def test_shortening_the_agreement_pulls_the_running_deadline_in(
    hass: HomeAssistant,
    cameras: object,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A session may not outlive its agreement: the new end is its deadline."""
    tz = dt_util.get_default_time_zone()
    freezer.move_to(datetime.combine(today(), time(23, 30), tz))
    entry = await async_setup_agreement(
        hass, valid_until=(today() + timedelta(days=1)).isoformat()
    )
    response = await async_call(hass, "activate", entry, reason="Night intrusion")
    assert response is not None
    midnight = datetime.combine(today() + timedelta(days=1), time.min, tz)
    assert datetime.fromisoformat(str(response["expires_at"])) > midnight

    await _change_agreement(hass, entry, dates={"valid_until": today().isoformat()})

    session = manager_of(entry).session
    assert session is not None
    assert session.expires_at == midnight
    expires = hass.states.get(
        "sensor.lincoln_high_school_springfield_police_department_session_expires"
    )
    assert expires is not None
    assert datetime.fromisoformat(expires.state) == midnight

    freezer.move_to(midnight + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    (ended,) = events_named(entry, "session_ended")
    assert ended["data"]["end_reason"] == "deadline"


async def test_renaming_the_agency_renames_the_device_and_its_entities(
    hass: HomeAssistant, cameras: object
) -> None:
    """The dashboard shows the new agency at once, without a restart."""
    entry = await async_setup_agreement(hass)
    await _rename(hass, entry, agency="County Sheriff")

    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert device.name == "Lincoln High School - County Sheriff"
    assert device.model == "Agreement with County Sheriff"
    state = hass.states.get(
        "switch.lincoln_high_school_springfield_police_department_emergency_sharing"
    )
    assert state is not None
    assert state.attributes["friendly_name"] == (
        "Lincoln High School - County Sheriff Emergency sharing"
    )


async def test_renaming_the_parties_keeps_the_running_session_and_its_links(
    hass: HomeAssistant, cameras: object
) -> None:
    """Reconfiguring does not reload the agreement: sharing goes on."""
    entry = await async_setup_agreement(hass)
    started = await async_call(hass, "activate", entry, reason="Lockdown")
    assert started is not None
    link = await async_call(hass, "create_viewer_link", entry, label="Unit 7")
    assert link is not None

    result = await _rename(hass, entry, school="Lincoln District")

    assert result["reason"] == "reconfigure_successful"
    assert entry.title == "Lincoln District - Springfield Police Department"
    manager = manager_of(entry)
    assert manager.session is not None
    assert manager.session.id == started["session_id"]
    assert manager.session_open(dt_util.utcnow())
    assert str(link["link_id"]) in manager.state.links
    assert events_named(entry, "session_ended") == []


async def test_whole_areas_add_their_cameras_but_never_a_private_one(
    hass: HomeAssistant, cameras: object
) -> None:
    """A district picks areas, not 400 cameras one by one."""
    entry = await async_setup_agreement(hass)
    areas = ar.async_get(hass)
    front_office = areas.async_get_area_by_name("Front office")
    locker_rooms = areas.async_get_area_by_name("Locker rooms")
    assert front_office is not None
    assert locker_rooms is not None

    await _change_agreement(
        hass,
        entry,
        cameras={
            "cameras": [GYM],
            "private_cameras": [LOCKER_ROOM],
            "camera_areas": [front_office.id, locker_rooms.id],
        },
    )

    assert entry.options["cameras"] == [GYM, ENTRANCE]
    assert "camera_areas" not in entry.options
    assert manager_of(entry).agreement.private_cameras == {LOCKER_ROOM}


async def test_masks_are_set_by_camera_and_checked(
    hass: HomeAssistant, cameras: object
) -> None:
    """Well-formed rectangles of the agreement's cameras, or a reason why not."""
    entry = await async_setup_agreement(hass)
    mask = {"x": 0.5, "y": 0.1, "width": 0.4, "height": 0.3, "style": "blur"}

    await _change_agreement(hass, entry, masks={"masks": {GYM: [mask]}})

    assert entry.options["masks"] == {GYM: [mask]}
    (changed,) = events_named(entry, "agreement_changed")
    assert changed["data"]["changed"]["masks"]["to"] == {GYM: [mask]}
    result = await hass.config_entries.options.async_init(entry.entry_id)
    for answer in (
        {k: entry.options[k] for k in ("valid_from", "valid_until")},
        {k: entry.options[k] for k in ("cameras", "private_cameras")},
        {k: v for k, v in entry.options.items() if k in RULES},
    ):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], answer
        )
    for bad, error in (
        ({GYM: [{**mask, "width": 0.9}]}, "masks_invalid"),
        ({"camera.parking_lot": [mask]}, "mask_camera_unknown"),
        ([mask], "masks_invalid"),
    ):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"masks": bad}
        )
        assert result["errors"] == {"masks": error}
