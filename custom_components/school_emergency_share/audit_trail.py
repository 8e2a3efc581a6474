"""The agreement's audit trail inside Home Assistant.

Every decision goes through `AuditTrail.async_record`: it is written to the
hash-chained journal (on a worker thread, durable before the call returns) and
then announced on the bus as `school_emergency_share_event`, which the logbook
describes. One small interface, so nothing is lost as the log grows.
"""

from __future__ import annotations

from datetime import datetime
import logging
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .audit import AsyncJournal, ChainCheck, ExportResult
from .const import AUDIT_DIRECTORY, DOMAIN, EVENT_NAME
from .core.actor import Actor
from .core.events import AuditEvent

_LOGGER = logging.getLogger(__name__)


def audit_directory(hass: HomeAssistant) -> Path:
    """`<config>/school_emergency_share/`."""
    return Path(hass.config.path(AUDIT_DIRECTORY))


class AuditTrail:
    """One agreement's journal plus its bus events."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Journal at `<config>/school_emergency_share/<entry_id>.jsonl`."""
        self._hass = hass
        self._entry_id = entry_id
        self.path = audit_directory(hass) / f"{entry_id}.jsonl"
        self._journal = AsyncJournal(self.path, clock=dt_util.utcnow)
        self.last_check: ChainCheck | None = None

    async def async_open(self) -> ChainCheck:
        """Open the journal and verify what is already there."""
        self.last_check = await self._journal.open()
        self._sync_chain_issue(self.last_check)
        if self._journal.repaired_tail:
            # A crash mid-write left half a record, never acknowledged: say so.
            await self.async_record(
                AuditEvent.AUDIT_TAIL_REPAIRED,
                None,
                {"after_seq": self.last_check.head_seq},
            )
        return self.last_check

    async def async_close(self) -> None:
        """Flush and stop the writer."""
        await self._journal.close()

    async def async_record(
        self, event: AuditEvent, actor: Actor | None, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Write one record durably, then announce it on the bus."""
        try:
            record = await self._journal.append(
                event.value, actor.as_dict() if actor else None, data
            )
        except Exception:
            _LOGGER.exception("Audit record %s could not be written", event)
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                f"audit_write_failed_{self._entry_id}",
                is_fixable=False,
                severity=ir.IssueSeverity.CRITICAL,
                translation_key="audit_write_failed",
                translation_placeholders={"path": str(self.path)},
            )
            return None
        self._hass.bus.async_fire(
            EVENT_NAME,
            {
                "config_entry_id": self._entry_id,
                "seq": record["seq"],
                "event": record["event"],
                "actor": record["actor"],
                "data": record["data"],
            },
        )
        return record

    async def async_verify(self) -> ChainCheck:
        """Re-read and verify the whole journal."""
        self.last_check = await self._journal.verify()
        self._sync_chain_issue(self.last_check)
        return self.last_check

    async def async_prune(self, before: datetime) -> int:
        """Drop records older than `before`, keeping the rest verifiable."""
        return await self._journal.prune(before)

    async def async_export(
        self, *, since: datetime | None, until: datetime | None
    ) -> ExportResult:
        """Write JSONL and CSV copies of a date range to the exports folder."""
        stem = f"{self._entry_id}-{dt_util.utcnow():%Y%m%dT%H%M%SZ}"
        result = await self._journal.export(
            audit_directory(self._hass) / "exports", since=since, until=until, stem=stem
        )
        self.last_check = result.check
        self._sync_chain_issue(result.check)
        return result

    def _sync_chain_issue(self, check: ChainCheck) -> None:
        issue_id = f"audit_chain_broken_{self._entry_id}"
        if check.valid:
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.CRITICAL,
            translation_key="audit_chain_broken",
            translation_placeholders={
                "path": str(self.path),
                "seq": (
                    str(check.first_bad_seq)
                    if check.first_bad_seq is not None
                    else f"on line {check.first_bad_line}"
                ),
                "problem": str(check.problem),
            },
        )
