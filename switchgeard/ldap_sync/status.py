"""What the LDAP syncer reports: a ``statistics()`` snapshot for ``/status`` and the log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_LISTED = 50
"""At most this many skipped or duplicate entries are listed (the counts are exact)."""


@dataclass(frozen=True, slots=True)
class EntryProblem:
    """An entry that gives no address: ``dn`` (or entryUUID) and the reason."""

    dn: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LdapStatistics:
    """A snapshot of the syncer.

    ``state`` is "starting", "syncing" (loading or catching up), "synced", "unavailable"
    (the server cannot be reached; the last synced addresses are served) or "refused"
    (the server refused the bind or a read: fix the ``[ldap]`` settings or the ACLs).
    """

    state: str
    mode: str | None
    uri: str
    addresses: int
    last_synced_at: datetime | None
    last_full_sync_at: datetime | None
    last_full_sync_seconds: float | None
    last_error: str | None
    last_error_at: datetime | None
    failures: int
    retry_at: datetime | None
    resumed_from_cookie: bool
    invalid: tuple[EntryProblem, ...]
    invalid_count: int
    duplicates: tuple[EntryProblem, ...]
    duplicate_count: int

    def to_json(self) -> dict[str, Any]:
        """camelCase JSON for the admin API."""
        return {
            "state": self.state,
            "mode": self.mode,
            "uri": self.uri,
            "addresses": self.addresses,
            "lastSyncedAt": _time(self.last_synced_at),
            "lastFullSyncAt": _time(self.last_full_sync_at),
            "lastFullSyncSeconds": self.last_full_sync_seconds,
            "lastError": self.last_error,
            "lastErrorAt": _time(self.last_error_at),
            "failures": self.failures,
            "retryAt": _time(self.retry_at),
            "resumedFromCookie": self.resumed_from_cookie,
            "invalid": [{"dn": p.dn, "reason": p.reason} for p in self.invalid],
            "invalidCount": self.invalid_count,
            "duplicates": [{"dn": p.dn, "reason": p.reason} for p in self.duplicates],
            "duplicateCount": self.duplicate_count,
        }


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
