"""The agreement's audit trail inside Home Assistant: fail closed, with a witness.

Every decision goes through `AuditTrail.async_record`. A record is written to
the hash-chained journal (durable before the call returns), then announced on
the bus as `school_emergency_share_event` (which the logbook describes),
without viewers' addresses or browsers: those stay in the log.

When a record cannot be written, what it stood for decides: a record that
opens access raises `AuditUnavailable` and the decision is refused; one that
closes access (`keep=True`) is kept and written first once the log works
again. A repair issue says what happened either way.

The head of the log (last seq and hash) is also kept in Home Assistant's
storage, outside the log's folder: the witness. A log cut short or swapped
for an older copy no longer holds the witness's record and reads
`chain_valid: false`, even with its `.head` file rewritten to match.
"""

from __future__ import annotations

from datetime import datetime
import logging
from pathlib import Path
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .audit import GENESIS, AsyncJournal, ChainCheck, ExportResult
from .const import AUDIT_DIRECTORY, DOMAIN, EVENT_NAME
from .core.actor import Actor
from .core.events import AuditEvent
from .issues import async_set_issue

_LOGGER = logging.getLogger(__name__)

# Where a viewer came from is for the audit log only, not for every user.
PRIVATE_DETAILS: Final = frozenset({"address", "user_agent"})
WITNESS_VERSION: Final = 1
# The witness may lag the log by this much after a crash; lagging is allowed.
WITNESS_SAVE_DELAY: Final = 1.0
# Exports kept per agreement, besides the retention: a loop cannot fill a disk.
EXPORTS_KEPT: Final = 20

type Head = tuple[int, str]


class AuditUnavailable(HomeAssistantError):  # noqa: N818 - a state, not a bug
    """The audit log cannot be written, so what would open access is refused."""

    def __init__(self) -> None:
        """The translated refusal."""
        super().__init__(translation_domain=DOMAIN, translation_key="audit_unavailable")


def audit_directory(hass: HomeAssistant) -> Path:
    """`<config>/school_emergency_share/`."""
    return Path(hass.config.path(AUDIT_DIRECTORY))


class AuditTrail:
    """One agreement's journal, its witness, its bus events and repair issues."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Journal at `<config>/school_emergency_share/<entry_id>.jsonl`."""
        self._hass = hass
        self._entry_id = entry_id
        self.path = audit_directory(hass) / f"{entry_id}.jsonl"
        self._journal = AsyncJournal(
            self.path, clock=dt_util.utcnow, on_late=self._written_late
        )
        self._witness_store: Store[dict[str, Any]] = Store(
            hass, WITNESS_VERSION, f"{DOMAIN}.{entry_id}.audit_head", private=True
        )
        self._witness: Head | None = None
        self.head: Head = (0, GENESIS)
        self.last_check: ChainCheck | None = None
        self._failing_since: datetime | None = None
        self._failure: str | None = None

    @property
    def writable(self) -> bool:
        """False from a failed write until a write succeeds again."""
        return self._failing_since is None

    async def async_open(self) -> ChainCheck:
        """Open the journal and verify what is there against the witness."""
        self._witness = _read_witness(await self._witness_store.async_load())
        check = await self._journal.open(self._witness)
        self.head = (check.head_seq, check.head_hash)
        self.last_check = check
        self._sync_chain_issue(check)
        if self._journal.repaired_tail:
            # A crash mid-write left half a record, never acknowledged: say so.
            await self.async_record(
                AuditEvent.AUDIT_TAIL_REPAIRED, None, {"after_seq": check.head_seq}
            )
        return check

    async def async_close(self) -> None:
        """Flush and stop the writer; the witness is saved now, not later."""
        await self._journal.close()
        if self._witness is not None:
            await self._witness_store.async_save(_witness_data(self._witness))

    async def async_record(
        self,
        event: AuditEvent,
        actor: Actor | None,
        data: dict[str, Any],
        *,
        keep: bool = False,
    ) -> dict[str, Any] | None:
        """Write one record durably, then announce it on the bus.

        Raises:
            AuditUnavailable: the record could not be written and `keep` is
                False. With `keep`, the record is written once the log works
                again and this returns None.
        """
        try:
            record = await self._journal.append(
                event.value, actor.as_dict() if actor else None, data, keep=keep
            )
        except Exception as err:
            self._write_failed(event, err)
            if keep:
                return None
            raise AuditUnavailable from err
        self._written([record])
        return record

    async def async_read(self, after_seq: int = 0) -> list[dict[str, Any]]:
        """The records after `after_seq`, in order."""
        records = await self._journal.read()
        return [record for record in records if record["seq"] > after_seq]

    async def async_verify(self) -> ChainCheck:
        """Re-read and verify the whole journal, against its witness too."""
        self.last_check = await self._journal.verify(self._witness)
        self._sync_chain_issue(self.last_check)
        return self.last_check

    async def async_prune(self, before: datetime) -> int:
        """Drop records and exports older than `before`; the rest verifies."""
        removed = await self._journal.prune(before)
        await self._hass.async_add_executor_job(
            _remove_exports, self._exports_directory, self._entry_id, before, 0
        )
        return removed

    async def async_export(
        self, *, since: datetime | None, until: datetime | None
    ) -> ExportResult:
        """Write JSONL and CSV copies of a date range to the exports folder."""
        stem = f"{self._entry_id}-{dt_util.utcnow():%Y%m%dT%H%M%S%fZ}"
        result = await self._journal.export(
            self._exports_directory,
            since=since,
            until=until,
            stem=stem,
            witness=self._witness,
        )
        await self._hass.async_add_executor_job(
            _remove_exports, self._exports_directory, self._entry_id, None, EXPORTS_KEPT
        )
        self.last_check = result.check
        self._sync_chain_issue(result.check)
        return result

    @property
    def _exports_directory(self) -> Path:
        return audit_directory(self._hass) / "exports"

    @callback
    def _written(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            self._hass.bus.async_fire(
                EVENT_NAME,
                {
                    "config_entry_id": self._entry_id,
                    "seq": record["seq"],
                    "event": record["event"],
                    "actor": record["actor"],
                    "data": {
                        key: value
                        for key, value in record["data"].items()
                        if key not in PRIVATE_DETAILS
                    },
                },
            )
        last = records[-1]
        self.head = self._witness = (last["seq"], last["hash"])
        self._witness_store.async_delay_save(
            lambda: _witness_data(self.head), WITNESS_SAVE_DELAY
        )
        if self._failing_since is not None and not self._journal.held:
            self._recovered()

    @callback
    def _written_late(self, records: list[dict[str, Any]]) -> None:
        _LOGGER.warning(
            "%d audit records that closed access were written to %s late",
            len(records),
            self.path,
        )
        self._written(records)

    def _write_failed(self, event: AuditEvent, err: Exception) -> None:
        _LOGGER.error("Audit record %s could not be written: %s", event, err)
        if self._failing_since is None:
            self._failing_since = dt_util.utcnow()
        self._failure = str(err) or repr(err)
        async_set_issue(
            self._hass,
            self._entry_id,
            "audit_write_failed",
            {
                "path": str(self.path),
                "error": self._failure,
                "held": str(self._journal.held),
            },
            severity=ir.IssueSeverity.CRITICAL,
            persistent=True,
        )

    def _recovered(self) -> None:
        since, self._failing_since = self._failing_since, None
        async_set_issue(
            self._hass,
            self._entry_id,
            "audit_write_failed",
            {
                "path": str(self.path),
                "error": str(self._failure),
                "since": dt_util.as_local(since).isoformat(timespec="seconds")
                if since
                else "",
                "until": dt_util.now().isoformat(timespec="seconds"),
            },
            severity=ir.IssueSeverity.WARNING,
            persistent=True,
            translation_key="audit_write_recovered",
        )

    def _sync_chain_issue(self, check: ChainCheck) -> None:
        seq = (
            str(check.first_bad_seq)
            if check.first_bad_seq is not None
            else f"on line {check.first_bad_line}"
        )
        async_set_issue(
            self._hass,
            self._entry_id,
            "audit_chain_broken",
            None
            if check.valid
            else {"path": str(self.path), "seq": seq, "problem": str(check.problem)},
            severity=ir.IssueSeverity.CRITICAL,
        )


def _read_witness(data: dict[str, Any] | None) -> Head | None:
    """The stored witness; nothing when there is none or it is not one."""
    if (
        isinstance(data, dict)
        and type(data.get("seq")) is int
        and isinstance(data.get("hash"), str)
    ):
        return data["seq"], data["hash"]
    return None


def _witness_data(head: Head) -> dict[str, Any]:
    return {"seq": head[0], "hash": head[1]}


def _remove_exports(
    directory: Path, entry_id: str, before: datetime | None, keep: int
) -> None:
    """Remove this agreement's exports older than `before`, or all but `keep`."""
    # Names carry the export's UTC time: sorted by name is oldest first.
    exports = sorted(directory.glob(f"{entry_id}-*"))
    if before is not None:
        doomed = [path for path in exports if _modified(path) < before.timestamp()]
    else:
        # Each export is a JSONL and a CSV file.
        doomed = exports[: max(0, len(exports) - 2 * keep)]
    for path in doomed:
        path.unlink(missing_ok=True)


def _modified(path: Path) -> float:
    """When the file was written; gone already is as good as new."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")
