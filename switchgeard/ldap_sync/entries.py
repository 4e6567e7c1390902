"""What the directory adapter hands to the syncer: entries and RFC 4533 sync events.

Plain values with no python-ldap types, so the mapping and the mirror can be tested
without a server. Attribute names are as the server sent them; values are bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One directory entry: its DN, its attributes and its entryUUID ("" if unreadable)."""

    dn: str
    attrs: Mapping[str, Sequence[bytes]]
    uuid: str

    def first(self, name: str) -> str | None:
        """The first value of attribute ``name`` (case-insensitive) as text, if any."""
        wanted = name.lower()
        for key, values in self.attrs.items():
            if key.lower() == wanted and values:
                return values[0].decode("utf-8", errors="replace")
        return None


@dataclass(frozen=True, slots=True)
class EntryChanged:
    """An entry was added, modified or renamed, or is sent during a refresh."""

    entry: RawEntry


@dataclass(frozen=True, slots=True)
class EntriesDeleted:
    """Entries were deleted or left the filter."""

    uuids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EntriesPresent:
    """Present phase: ``uuids`` are unchanged; ``None`` ends the phase (RFC 4533 §3.3.1).

    At the end of a phase with ``refresh_deletes`` False, every mirrored entry that was
    neither present nor changed during the phase has gone.
    """

    uuids: tuple[str, ...] | None
    refresh_deletes: bool = False


@dataclass(frozen=True, slots=True)
class CookieChanged:
    cookie: str


@dataclass(frozen=True, slots=True)
class RefreshDone:
    """The refresh stage ended; changes now arrive as they happen."""


SyncEvent = EntryChanged | EntriesDeleted | EntriesPresent | CookieChanged | RefreshDone
