"""The python-ldap adapter: one connection, used from trio through one worker thread.

python-ldap blocks, so every call runs in ``trio.to_thread.run_sync`` under a
``CapacityLimiter(1)`` (one LDAPObject, one thread at a time) and is bounded by
``OPT_NETWORK_TIMEOUT`` / ``OPT_TIMEOUT`` or an explicit timeout, because trio cannot
cancel a thread. python-ldap exceptions become ``DirectoryError`` subclasses here, once.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

import ldap
import trio
from ldap.controls import SimplePagedResultsControl
from ldap.ldapobject import SimpleLDAPObject
from ldap.syncrepl import SyncreplConsumer

from switchgeard.config.model import LdapConfig
from switchgeard.errors import DirectoryError, DirectoryRefused, DirectoryUnavailable
from switchgeard.ldap_sync.entries import (
    CookieChanged,
    EntriesDeleted,
    EntriesPresent,
    EntryChanged,
    RawEntry,
    RefreshDone,
    SyncEvent,
)

log = logging.getLogger("switchgeard.ldap")

T = TypeVar("T")
SYNCREPL_OID = "1.3.6.1.4.1.4203.1.9.1.1"
SYNC_REFRESH_REQUIRED = 4096
_UNAVAILABLE = (
    ldap.SERVER_DOWN,
    ldap.TIMEOUT,
    ldap.CONNECT_ERROR,
    ldap.UNAVAILABLE,
    ldap.BUSY,
    ldap.TIMELIMIT_EXCEEDED,
    ldap.UNWILLING_TO_PERFORM,
)
_SCOPES = {"sub": ldap.SCOPE_SUBTREE, "one": ldap.SCOPE_ONELEVEL}


class SyncRefreshRequired(DirectoryError):
    """The server cannot resume from our cookie: reload everything (RFC 4533 §3.4)."""


@contextlib.contextmanager
def translate_ldap_errors(action: str) -> Iterator[None]:
    """Re-raise python-ldap errors as ``DirectoryError`` classes naming ``action``."""
    try:
        yield
    except ldap.LDAPError as exc:
        raise _translated(action, exc) from exc


def _translated(action: str, exc: ldap.LDAPError) -> DirectoryError:
    details = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    text = str(details.get("desc") or type(exc).__name__)
    if details.get("info"):
        text += f" ({details['info']})"
    message = f"{action}: {text}"
    if details.get("result") == SYNC_REFRESH_REQUIRED:
        return SyncRefreshRequired(message)
    if isinstance(exc, _UNAVAILABLE):
        return DirectoryUnavailable(message)
    return DirectoryRefused(message)


class _Consumer(SyncreplConsumer, SimpleLDAPObject):  # type: ignore[misc]
    """An LDAPObject that records RFC 4533 callbacks as ``SyncEvent`` values."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.events: list[SyncEvent] = []
        self.cookie: str | None = None

    def syncrepl_get_cookie(self) -> str | None:
        return self.cookie

    def syncrepl_set_cookie(self, cookie: str) -> None:
        self.cookie = cookie
        self.events.append(CookieChanged(cookie))

    def syncrepl_entry(self, dn: str, attrs: dict[str, list[bytes]], uuid: str) -> None:
        self.events.append(EntryChanged(raw_entry(dn, attrs)))

    def syncrepl_delete(self, uuids: list[str]) -> None:
        self.events.append(EntriesDeleted(tuple(uuids)))

    def syncrepl_present(self, uuids: list[str] | None, refreshDeletes: bool = False) -> None:
        present = None if uuids is None else tuple(uuids)
        self.events.append(EntriesPresent(present, refresh_deletes=bool(refreshDeletes)))

    def syncrepl_refreshdone(self) -> None:
        self.events.append(RefreshDone())


def raw_entry(dn: str, attrs: dict[str, list[bytes]]) -> RawEntry:
    """A ``RawEntry``; ``DirectoryRefused`` when the server withheld entryUUID (ACLs)."""
    uuid = next((v[0] for k, v in attrs.items() if k.lower() == "entryuuid" and v), None)
    if uuid is None:
        raise DirectoryRefused(
            f"the bind DN may not read entryUUID of {dn}: grant it read access to entryUUID"
        )
    return RawEntry(dn, attrs, uuid.decode("ascii", errors="replace").lower())


class Directory:
    """A bound connection. Methods raise ``DirectoryUnavailable`` or ``DirectoryRefused``."""

    def __init__(self, conn: _Consumer, cfg: LdapConfig, attributes: list[str]) -> None:
        self._conn = conn
        self._cfg = cfg
        self._attributes = attributes
        self._limiter = trio.CapacityLimiter(1)
        self._msgid: int | None = None

    async def _call(self, action: str, fn: Callable[[], T]) -> T:
        with translate_ldap_errors(action):
            return await trio.to_thread.run_sync(fn, limiter=self._limiter)

    async def supports_syncrepl(self) -> bool:
        """Whether the root DSE lists the RFC 4533 sync control."""
        found = await self._call("reading the root DSE", self._root_dse_controls)
        return SYNCREPL_OID in found

    def _root_dse_controls(self) -> set[str]:
        result = self._conn.search_ext_s(
            "", ldap.SCOPE_BASE, "(objectClass=*)", ["supportedControl"], timeout=self._cfg.timeout
        )
        values = result[0][1].get("supportedControl", []) if result else []
        return {v.decode("ascii", errors="replace") for v in values}

    async def group_stamps(self, groups: tuple[str, ...]) -> dict[str, str]:
        """The entryCSN (else modifyTimestamp) of each group; "" for a missing group."""
        return await self._call("reading groups", partial(self._group_stamps, groups))

    def _group_stamps(self, groups: tuple[str, ...]) -> dict[str, str]:
        stamps = {}
        for dn in groups:
            try:
                found = self._conn.search_ext_s(
                    dn, ldap.SCOPE_BASE, attrlist=["entryCSN", "modifyTimestamp"],
                    timeout=self._cfg.timeout,
                )  # fmt: skip
            except ldap.NO_SUCH_OBJECT:
                found = []
            attrs = found[0][1] if found else {}
            values = attrs.get("entryCSN") or attrs.get("modifyTimestamp") or [b""]
            stamps[dn] = values[0].decode("ascii", errors="replace")
        return stamps

    async def paged_search(self) -> list[RawEntry]:
        """Every entry under the base DN matching the filter, by RFC 2696 pages."""
        entries: list[RawEntry] = []
        cookie = b""
        while True:
            page, cookie = await self._call("paged search", partial(self._page, cookie))
            entries.extend(page)
            if not cookie:
                return entries

    def _page(self, cookie: bytes) -> tuple[list[RawEntry], bytes]:
        cfg = self._cfg
        control = SimplePagedResultsControl(True, size=cfg.page_size, cookie=cookie)
        msgid = self._conn.search_ext(
            cfg.base_dn, _SCOPES[cfg.scope], cfg.filter, self._attributes, serverctrls=[control]
        )
        _, data, _, controls = self._conn.result3(msgid, timeout=cfg.timeout)
        page = [raw_entry(dn, attrs) for dn, attrs in data if dn is not None]
        found = [c for c in controls if c.controlType == SimplePagedResultsControl.controlType]
        return page, (found[0].cookie if found else b"")

    async def start_syncrepl(self, cookie: str | None) -> None:
        """Start an RFC 4533 refreshAndPersist search from ``cookie`` (None: from scratch)."""
        self._conn.cookie = cookie
        self._msgid = await self._call("starting syncrepl", self._syncrepl_search)

    def _syncrepl_search(self) -> int:
        cfg = self._cfg
        msgid: int = self._conn.syncrepl_search(
            cfg.base_dn,
            _SCOPES[cfg.scope],
            mode="refreshAndPersist",
            filterstr=cfg.filter,
            attrlist=self._attributes,
        )
        return msgid

    async def poll(self, wait: float, *, limit: int = 1000) -> list[SyncEvent]:
        """Sync events that arrive within ``wait`` seconds (at most ``limit``; may be none)."""
        if self._msgid is None:
            raise RuntimeError("start_syncrepl() first")
        return await self._call("syncrepl", partial(self._poll, self._msgid, wait, limit))

    def _poll(self, msgid: int, wait: float, limit: int) -> list[SyncEvent]:
        deadline = time.monotonic() + wait
        conn = self._conn
        while len(conn.events) < limit:
            # Once something arrived, drain what is queued without waiting long.
            remaining = deadline - time.monotonic() if not conn.events else 0.02
            if remaining <= 0:
                break
            try:
                if not conn.syncrepl_poll(msgid=msgid, timeout=remaining, all=0):
                    raise DirectoryUnavailable("syncrepl: the server ended the search")
            except ldap.TIMEOUT:
                break
        events, conn.events = conn.events, []
        return events


@contextlib.asynccontextmanager
async def open_directory(
    cfg: LdapConfig, password: str, attributes: list[str]
) -> AsyncIterator[Directory]:
    """Connect and bind; unbinds on exit. Raises ``DirectoryUnavailable``/``DirectoryRefused``."""
    with translate_ldap_errors(f"connecting to {cfg.uri}"):
        conn = await trio.to_thread.run_sync(_connect, cfg, password)
    try:
        yield Directory(conn, cfg, attributes)
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(_unbind, conn)


def _connect(cfg: LdapConfig, password: str) -> _Consumer:
    conn = _Consumer(cfg.uri)
    options: list[tuple[int, Any]] = [
        (ldap.OPT_PROTOCOL_VERSION, ldap.VERSION3),
        (ldap.OPT_REFERRALS, 0),
        (ldap.OPT_NETWORK_TIMEOUT, cfg.network_timeout),
        (ldap.OPT_TIMEOUT, cfg.timeout),
        (ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND),
    ]
    if cfg.tls_ca_file is not None:
        options.append((ldap.OPT_X_TLS_CACERTFILE, str(cfg.tls_ca_file)))
    for option, value in options:
        conn.set_option(option, value)
    conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
    try:
        if cfg.start_tls:
            conn.start_tls_s()
        conn.simple_bind_s(cfg.bind_dn, password)
    except (ldap.SERVER_DOWN, ldap.CONNECT_ERROR) as exc:
        if _tls_handshake_failed(cfg, exc):
            trusted = cfg.tls_ca_file or "the system trust store"
            raise DirectoryRefused(
                f"connecting to {cfg.uri}: the TLS handshake failed: the server's certificate "
                f"is not signed by a CA in {trusted} or does not name the host (tls_ca_file)"
            ) from exc
        raise
    return conn


def _tls_handshake_failed(cfg: LdapConfig, exc: ldap.LDAPError) -> bool:
    """Whether a failed connect was TLS (libldap with GnuTLS does not say why it failed)."""
    if cfg.start_tls:  # StartTLS is sent on an open connection: CONNECT_ERROR is the handshake
        return isinstance(exc, ldap.CONNECT_ERROR)
    url = urlsplit(cfg.uri)
    if url.scheme != "ldaps" or not isinstance(exc, ldap.SERVER_DOWN):
        return False
    try:  # the port accepts TCP connections, so the TLS handshake is what failed
        address = (url.hostname or "localhost", url.port or 636)
        socket.create_connection(address, cfg.network_timeout).close()
    except OSError:
        return False
    return True


def _unbind(conn: _Consumer) -> None:
    try:
        conn.unbind_s()
    except ldap.LDAPError as exc:
        log.debug("unbind failed: %s", exc)
