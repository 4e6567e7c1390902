"""``run_ldap_sync``: keep the store's LDAP addresses equal to the directory, forever.

``sync = "auto"`` reads the root DSE: RFC 4533 refreshAndPersist when the server offers it
(OpenLDAP with syncprov), else a full RFC 2696 paged search every ``poll_interval``. With
syncrepl the cookie is saved in the store once the refresh is done, so a restart resumes
from it; without a saved cookie, and every ``full_resync_interval``, a full paged search
reconciles everything. While the server is unreachable or refuses us, the addresses synced
last stay in the store (and are served); the syncer retries with exponential backoff and
reports the problem in ``statistics()`` and on the "switchgeard.ldap" logger.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import trio

from switchgeard.config.model import LdapConfig
from switchgeard.config.secrets import load_secret_file
from switchgeard.errors import ConfigError, DirectoryError, DirectoryRefused, StoreError
from switchgeard.ldap_sync.mapping import AddressMapper
from switchgeard.ldap_sync.mirror import LdapAddressStore, Mirror
from switchgeard.ldap_sync.status import MAX_LISTED, LdapStatistics

if TYPE_CHECKING:
    from switchgeard.ldap_sync.directory import Directory

log = logging.getLogger("switchgeard.ldap")

POLL_WAIT = 0.5
"""How long one syncrepl poll waits in the worker thread (bounds shutdown latency)."""


def cookie_name(cfg: LdapConfig) -> str:
    """The sync-state key of the cookie: it changes whenever the mapping would change."""
    relevant = (
        cfg.uri, cfg.base_dn, cfg.scope, cfg.filter, cfg.attributes, cfg.domain,
        cfg.partition, cfg.min_sendable, cfg.max_sendable, cfg.comment_allowed, cfg.precedence,
    )  # fmt: skip
    return "ldap.cookie." + hashlib.sha256(repr(relevant).encode()).hexdigest()[:16]


class LdapSyncer:
    """The state of one ``[ldap]`` section's sync; ``statistics()`` is safe to call any time."""

    def __init__(
        self,
        store: LdapAddressStore,
        cfg: LdapConfig,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._cfg = cfg
        self._clock = clock
        self.mapper = AddressMapper(cfg)
        self.mirror = Mirror(store, self.mapper, replace_local=cfg.precedence == "ldap")
        self._state = "starting"
        self._mode: str | None = None
        self._synced_at: datetime | None = None
        self._full_at: datetime | None = None
        self._full_seconds: float | None = None
        self._error: str | None = None
        self._error_at: datetime | None = None
        self._failures = 0
        self._retry_at: datetime | None = None
        self._resumed = False
        self._changed = trio.Event()

    def statistics(self) -> LdapStatistics:
        invalid, duplicates = self.mirror.invalid(), self.mirror.duplicates()
        return LdapStatistics(
            state=self._state,
            mode=self._mode,
            uri=self._cfg.uri,
            addresses=len(self.mirror.addresses),
            last_synced_at=self._synced_at,
            last_full_sync_at=self._full_at,
            last_full_sync_seconds=self._full_seconds,
            last_error=self._error,
            last_error_at=self._error_at,
            failures=self._failures,
            retry_at=self._retry_at,
            resumed_from_cookie=self._resumed,
            invalid=tuple(invalid[:MAX_LISTED]),
            invalid_count=len(invalid),
            duplicates=tuple(duplicates[:MAX_LISTED]),
            duplicate_count=len(duplicates),
        )

    async def wait_changed(self) -> None:
        """Wait until the syncer wrote to the store or changed state (tests, tools)."""
        await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    # The loop ---------------------------------------------------------------------------

    async def run(self, password: str) -> None:
        """Sync until cancelled; never returns."""
        from switchgeard.ldap_sync.directory import open_directory

        delay: float = self._cfg.retry_initial
        while True:
            try:
                async with open_directory(
                    self._cfg, password, self.mapper.requested_attributes()
                ) as directory:
                    await self._session(directory)
            except (DirectoryError, StoreError) as exc:
                if self._failures == 0:  # in sync until now: start the backoff afresh
                    delay = self._cfg.retry_initial
                self._failed(exc, delay)
            await trio.sleep(delay)
            delay = min(delay * 2, self._cfg.retry_max)

    def _failed(self, exc: Exception, delay: float) -> None:
        self._failures += 1
        self._state = "refused" if isinstance(exc, DirectoryRefused) else "unavailable"
        self._error, self._error_at = str(exc), self._clock()
        self._retry_at = self._error_at + timedelta(seconds=delay)
        log.warning("ldap: %s; serving the last synced addresses, retrying in %gs", exc, delay)
        self._notify()

    def _succeeded(self) -> None:
        if self._failures:
            log.info("ldap: in sync again with %s", self._cfg.uri)
        self._state, self._failures, self._retry_at = "synced", 0, None
        self._synced_at = self._clock()
        self._notify()

    async def _session(self, directory: Directory) -> None:
        mode = self._cfg.sync
        if mode == "auto":
            mode = "syncrepl" if await directory.supports_syncrepl() else "poll"
        if mode != self._mode:
            log.info("ldap: %s mode against %s", mode, self._cfg.uri)
        self._mode = mode
        if mode == "poll":
            await self._poll_forever(directory)
        else:
            await self._syncrepl_forever(directory)

    async def _poll_forever(self, directory: Directory) -> None:
        while True:
            await self._full_sync(directory)
            await trio.sleep(self._cfg.poll_interval)

    async def _full_sync(self, directory: Directory) -> None:
        self._state = "syncing"
        started = trio.current_time()
        entries = await directory.paged_search()
        await self.mirror.reconcile(entries)
        self._full_seconds = trio.current_time() - started
        self._full_at = self._clock()
        self._succeeded()

    async def _syncrepl_forever(self, directory: Directory) -> None:
        from switchgeard.ldap_sync.directory import SyncRefreshRequired

        name = cookie_name(self._cfg)
        cookie = await self._store.get_sync_state(name) or None
        if cookie is None:
            await self._full_sync(directory)
        self._resumed = cookie is not None
        self.mirror.refreshed = False
        self._state = "syncing"
        await directory.start_syncrepl(cookie)
        groups = GroupWatch(directory, self._cfg)
        await groups.changed()
        next_full = trio.current_time() + self._cfg.full_resync_interval
        try:
            while True:
                await self._apply(directory, name)
                if trio.current_time() >= next_full or await groups.changed():
                    await self._full_sync(directory)
                    next_full = trio.current_time() + self._cfg.full_resync_interval
        except SyncRefreshRequired:
            log.warning("ldap: the server cannot resume from the saved cookie; reloading all")
            await self._store.set_sync_state(name, "")
            raise

    async def _apply(self, directory: Directory, name: str) -> None:
        events = await directory.poll(POLL_WAIT)
        if not events:
            return
        save = await self.mirror.apply(events)
        if save and self.mirror.cookie is not None:
            await self._store.set_sync_state(name, self.mirror.cookie)
        if self.mirror.refreshed:
            self._succeeded()
        else:
            self._notify()


class GroupWatch:
    """Notices changes to ``[ldap] groups`` (memberOf changes never reach syncrepl)."""

    def __init__(self, directory: Directory, cfg: LdapConfig) -> None:
        self._directory = directory
        self._groups = cfg.groups
        self._interval = cfg.group_check_interval
        self._stamps: dict[str, str] | None = None
        self._next = -math.inf

    async def changed(self) -> bool:
        """True when a group changed since the last check (checks at most once an interval)."""
        if not self._groups or trio.current_time() < self._next:
            return False
        self._next = trio.current_time() + self._interval
        stamps = await self._directory.group_stamps(self._groups)
        changed = self._stamps is not None and stamps != self._stamps
        self._stamps = stamps
        if changed:
            log.info("ldap: a watched group changed; running a full sync")
        return changed


async def run_ldap_sync(
    store: LdapAddressStore,
    cfg: LdapConfig,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    task_status: trio.TaskStatus[LdapSyncer] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Mirror ``cfg``'s directory entries into ``store`` as LDAP addresses until cancelled.

    Reports the ``LdapSyncer`` (for ``statistics()``) once the password file is read and
    the previous run's addresses are loaded; it does not wait for the server. Raises
    ``ConfigError`` for an unreadable password file or a missing python-ldap, and
    ``StoreError`` if the store fails before it started.
    """
    password = ""
    if cfg.bind_password_file is not None:
        raw = await load_secret_file(cfg.bind_password_file, "ldap.bind_password_file")
        password = raw.decode("utf-8", errors="strict").rstrip("\r\n")
    _require_python_ldap()
    syncer = LdapSyncer(store, cfg, clock=clock)
    await syncer.mirror.load()
    task_status.started(syncer)
    await syncer.run(password)
    raise AssertionError("unreachable")  # pragma: no cover


def _require_python_ldap() -> None:
    try:
        import ldap  # noqa: F401
    except ImportError:
        raise ConfigError(
            "python-ldap is not installed (pip install 'switchgeard[ldap]')", key="ldap"
        ) from None


__all__ = ["LdapSyncer", "cookie_name", "run_ldap_sync"]
