"""Constants for School Emergency Share."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "school_emergency_share"
EVENT_NAME: Final = f"{DOMAIN}_event"

# Agreement (config entry) keys. Everything lives in the entry's options so the
# options flow can change all of it.
CONF_SCHOOL: Final = "school"
CONF_AGENCY: Final = "agency"
CONF_VALID_FROM: Final = "valid_from"
CONF_VALID_UNTIL: Final = "valid_until"
CONF_CAMERAS: Final = "cameras"
CONF_PRIVATE_CAMERAS: Final = "private_cameras"
CONF_ALLOWED_USERS: Final = "allowed_users"
CONF_MAX_SESSION_MINUTES: Final = "max_session_minutes"
CONF_MAX_EXTENSION_MINUTES: Final = "max_extension_minutes"
CONF_MAX_VIEWERS: Final = "max_viewers"
CONF_NOTIFY_TARGETS: Final = "notify_targets"
CONF_RETENTION_DAYS: Final = "retention_days"
CONF_FAILURE_LIMIT: Final = "failure_limit"
CONF_MAX_STREAMS_PER_VIEWER: Final = "max_streams_per_viewer"
CONF_MASKS: Final = "masks"
# Not stored: the cameras step adds every camera of these areas.
CONF_CAMERA_AREAS: Final = "camera_areas"

DEFAULT_MAX_SESSION_MINUTES: Final = 60
DEFAULT_MAX_EXTENSION_MINUTES: Final = 60
DEFAULT_MAX_VIEWERS: Final = 10
DEFAULT_RETENTION_DAYS: Final = 365
DEFAULT_FAILURE_LIMIT: Final = 20
DEFAULT_MAX_STREAMS_PER_VIEWER: Final = 8
MAX_FAILURE_LIMIT: Final = 20
FAILURE_WINDOW: Final = timedelta(minutes=10)

# The Extend session button adds this much (capped by what the agreement allows).
EXTEND_BUTTON_MINUTES: Final = 15
# A repair issue warns this long before the agreement ends.
AGREEMENT_ENDING_WARNING: Final = timedelta(days=30)

# Service names and fields (PRODUCT.md, "Public interface").
SERVICE_ACTIVATE: Final = "activate"
SERVICE_DEACTIVATE: Final = "deactivate"
SERVICE_EXTEND: Final = "extend"
SERVICE_CREATE_VIEWER_LINK: Final = "create_viewer_link"
SERVICE_REVOKE_VIEWER_LINK: Final = "revoke_viewer_link"
SERVICE_EXPORT_AUDIT: Final = "export_audit"
SERVICE_APPROVE_REQUEST: Final = "approve_request"
SERVICE_DENY_REQUEST: Final = "deny_request"

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_REASON: Final = "reason"
ATTR_DURATION_MINUTES: Final = "duration_minutes"
ATTR_CAMERAS: Final = "cameras"
ATTR_INCIDENT_ID: Final = "incident_id"
ATTR_MINUTES: Final = "minutes"
ATTR_LABEL: Final = "label"
ATTR_STANDING: Final = "standing"
ATTR_LINK_ID: Final = "link_id"
ATTR_SINCE: Final = "since"
ATTR_UNTIL: Final = "until"
ATTR_FORMAT: Final = "format"
ATTR_REQUEST_ID: Final = "request_id"
ATTR_NOTIFY: Final = "notify"

DASHBOARD_REASON: Final = "Dashboard"


# HTTP
URL_PREFIX: Final = f"/api/{DOMAIN}/view"

# Storage
STORAGE_VERSION: Final = 1
AUDIT_DIRECTORY: Final = DOMAIN


def signal_agreement_changed(entry_id: str) -> str:
    """The dispatcher signal sent once an agreement's rules have changed."""
    return f"{DOMAIN}_{entry_id}_agreement_changed"
