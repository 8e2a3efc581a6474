"""The events an agreement's audit log records (also the bus event's `event`)."""

from __future__ import annotations

from enum import StrEnum


class AuditEvent(StrEnum):
    """What happened; the value is what the log and the bus carry."""

    AGREEMENT_CREATED = "agreement_created"
    AGREEMENT_CHANGED = "agreement_changed"
    SESSION_STARTED = "session_started"
    SESSION_EXTENDED = "session_extended"
    SESSION_ENDED = "session_ended"
    CAMERA_SHARING_CHANGED = "camera_sharing_changed"
    LINK_CREATED = "link_created"
    LINK_REVOKED = "link_revoked"
    PAGE_OPENED = "page_opened"
    VIEW_STARTED = "view_started"
    VIEW_ENDED = "view_ended"
    SNAPSHOT_VIEWED = "snapshot_viewed"
    ACCESS_DENIED = "access_denied"
    LOCKOUT = "lockout"
    STARTUP_RECOVERY = "startup_recovery"
    AUDIT_EXPORTED = "audit_exported"
    AUDIT_TAIL_REPAIRED = "audit_tail_repaired"
    REQUEST_CREATED = "request_created"
    REQUEST_APPROVED = "request_approved"
    REQUEST_DENIED = "request_denied"
    REQUEST_EXPIRED = "request_expired"
    LINK_SENT = "link_sent"
