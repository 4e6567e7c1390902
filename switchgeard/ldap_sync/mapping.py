"""An LDAP entry -> a Lightning Address, following ``[ldap.attributes]``.

User names are lower-cased and must then be LUD-16 names (``a-z0-9-_.``, at most 64);
anything else is refused with a reason naming the entry, never rewritten into another name.
"""

from __future__ import annotations

import re

from switchgeard.config.model import LdapConfig
from switchgeard.ldap_sync.entries import RawEntry
from switchgeard.store.records import Address
from switchgeard.units import Msat

_USERNAME = re.compile(r"[a-z0-9._-]{1,64}")
MAIL_LOCALPART = "mail-localpart"


class Unmappable(ValueError):
    """The entry gives no valid Lightning Address; the message names the entry and why."""


class AddressMapper:
    """Builds addresses from entries for one ``[ldap]`` section."""

    def __init__(self, cfg: LdapConfig) -> None:
        self._cfg = cfg
        self._attrs = cfg.attributes

    def requested_attributes(self) -> list[str]:
        """Attributes to ask the server for (entryUUID is operational: it must be named)."""
        names = {"entryUUID", "createTimestamp", self._attrs.mail, *self._attrs.text}
        if self._attrs.username != MAIL_LOCALPART:
            names.add(self._attrs.username)
        if self._attrs.long_text:
            names.add(self._attrs.long_text)
        return sorted(n for n in names if n)

    def username(self, entry: RawEntry) -> str:
        """The entry's user name; raises ``Unmappable``."""
        if self._attrs.username == MAIL_LOCALPART:
            raw: str | None = self._mail_localpart(entry)
        else:
            raw = entry.first(self._attrs.username)
        if raw is None:
            raise Unmappable(f"{entry.dn}: no {self._attrs.username} attribute")
        name = raw.strip().lower()
        if not _USERNAME.fullmatch(name):
            raise Unmappable(f"{entry.dn}: {raw!r} is not a valid user name (a-z 0-9 - _ .)")
        return name

    def _mail_localpart(self, entry: RawEntry) -> str:
        mail = entry.first(self._attrs.mail)
        if mail is None:
            raise Unmappable(f"{entry.dn}: no {self._attrs.mail} attribute")
        local, at, domain = mail.strip().rpartition("@")
        if not at or domain.lower() != self._cfg.domain:
            raise Unmappable(f"{entry.dn}: {mail!r} is not an address at {self._cfg.domain}")
        return local

    def address(self, entry: RawEntry) -> Address:
        """The address for ``entry``; raises ``Unmappable``."""
        if not entry.uuid:
            raise Unmappable(f"{entry.dn}: no entryUUID")
        username = self.username(entry)
        cfg = self._cfg
        identifier = f"{username}@{cfg.domain}"
        text = next((v for a in self._attrs.text if (v := entry.first(a))), None)
        long_text = entry.first(self._attrs.long_text) if self._attrs.long_text else None
        return Address(
            domain=cfg.domain,
            username=username,
            partition=cfg.partition,
            text=text or f"Payment to {identifier}",
            long_text=long_text or None,
            is_email=self._is_email(entry, identifier),
            min_sendable=Msat(cfg.min_sendable),
            max_sendable=Msat(cfg.max_sendable),
            comment_allowed=cfg.comment_allowed,
            source="ldap",
            external_id=entry.uuid,
        )

    def _is_email(self, entry: RawEntry, identifier: str) -> bool:
        mode = self._attrs.is_email
        if mode == "mail-matches":
            mail = entry.first(self._attrs.mail)
            return mail is not None and mail.strip().lower() == identifier
        return mode == "always"
