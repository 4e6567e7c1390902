"""What the admin app needs from the rest of the daemon, as narrow protocols.

The daemon wires the real store, balancer and config watcher in; tests may pass fakes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from switchgeard.config.model import LnurlConfig
from switchgeard.store.records import Address, Backend, BackendPatch, Metadata, Offer, Page
from switchgeard.units import NodeKey


class AdminStore(Protocol):
    """The store methods the admin API calls (see the store contract for what they raise)."""

    async def get_backend(self, key: NodeKey) -> Backend: ...
    async def list_backends(self) -> list[Backend]: ...
    async def backend_version(self) -> int: ...
    async def create_backend(self, b: Backend) -> Backend: ...
    async def put_backend(self, b: Backend) -> tuple[Backend, bool]: ...
    async def patch_backend(self, key: NodeKey, patch: BackendPatch) -> Backend: ...
    async def delete_backend(self, key: NodeKey) -> None: ...

    async def get_metadata(self, partition: str, id: uuid.UUID) -> Metadata: ...
    async def list_metadata(self, partition: str | None, page: Page) -> list[Metadata]: ...
    async def create_metadata(self, m: Metadata) -> Metadata: ...
    async def put_metadata(self, m: Metadata) -> tuple[Metadata, bool]: ...
    async def delete_metadata(self, partition: str, id: uuid.UUID) -> None: ...

    async def get_offer(self, partition: str, id: uuid.UUID) -> Offer: ...
    async def get_offer_with_metadata(
        self, partition: str, id: uuid.UUID
    ) -> tuple[Offer, Metadata]: ...
    async def list_offers(self, partition: str | None, page: Page) -> list[Offer]: ...
    async def create_offer(self, o: Offer) -> Offer: ...
    async def put_offer(self, o: Offer) -> tuple[Offer, bool]: ...
    async def delete_offer(self, partition: str, id: uuid.UUID) -> None: ...

    async def get_address(self, domain: str, username: str) -> Address: ...
    async def list_addresses(
        self,
        page: Page,
        *,
        domain: str | None = None,
        source: Literal["local", "ldap"] | None = None,
    ) -> list[Address]: ...
    async def create_address(self, address: Address) -> Address: ...
    async def put_address(self, address: Address) -> tuple[Address, bool]: ...
    async def delete_address(self, domain: str, username: str) -> None: ...
    async def set_address_enabled(self, domain: str, username: str, enabled: bool) -> Address: ...


class BackendHealth(Protocol):
    """One backend's live state as the balancer reports it (``BackendStatus``)."""

    @property
    def key(self) -> NodeKey: ...
    @property
    def health(self) -> str:
        """``healthy``, ``unhealthy`` or ``unknown``."""
        ...

    @property
    def health_since(self) -> datetime | None: ...
    @property
    def last_check(self) -> datetime | None: ...
    @property
    def latency(self) -> float | None:
        """Seconds the last probe took."""
        ...

    @property
    def last_error(self) -> str | None: ...
    @property
    def inbound_capacity(self) -> int | None:
        """Millisatoshis."""
        ...

    @property
    def invoices_issued(self) -> int: ...
    @property
    def invoices_failed(self) -> int: ...
    @property
    def invoices_settled(self) -> int: ...
    @property
    def selectable_in(self) -> frozenset[str]:
        """The partitions the balancer would pick this backend for right now."""
        ...


class HealthSource(Protocol):
    """Live backend state: the balancer."""

    def statistics(self) -> Sequence[BackendHealth]: ...
    def selectable(self, partition: str) -> bool: ...


class LdapSnapshot(Protocol):
    """A snapshot of the LDAP syncer (``switchgeard.ldap_sync.LdapStatistics``)."""

    def to_json(self) -> dict[str, Any]:
        """camelCase JSON: state, mode, addresses, lastSyncedAt, lastError, ..."""
        ...


class LdapStatus(Protocol):
    """Live state of the LDAP sync (``switchgeard.ldap_sync.LdapSyncer``)."""

    def statistics(self) -> LdapSnapshot: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadView:
    """The outcome of the last configuration reload."""

    at: datetime
    ok: bool
    error: str | None = None
    changed: tuple[str, ...] = ()


class Reloader(Protocol):
    """Re-reads the configuration file (the config watcher, adapted by the daemon)."""

    async def reload(self, *, wait: bool) -> ReloadView | None:
        """Ask for a reload; with ``wait`` return its outcome, else ``None`` at once."""
        ...

    def last_reload(self) -> ReloadView | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonInfo:
    """Static facts shown by ``GET /status``."""

    version: str
    started_at: datetime
    config_file: str | None
    store_kind: str
    public_url: str | None = None
    """The public base URL of the LNURL service (``https://pay.example.com``), if known."""
    partitions: tuple[str, ...] = ()
    page_default: int = 100
    page_max: int = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminDeps:
    """Everything the handlers use; ``health``, ``reloader`` and ``ldap`` may be absent.

    ``ldap`` is the LDAP syncer when ``[ldap]`` is configured; ``/status`` shows its state.
    """

    store: AdminStore
    info: DaemonInfo
    health: HealthSource | None = None
    reloader: Reloader | None = None
    ldap: LdapStatus | None = None
    lnurl: Callable[[], LnurlConfig] | None = None
    """The ``[lnurl]`` section the public app serves with now (it follows reloads);
    ``/status`` takes ``publicUrl`` and ``partitions`` from it, else from ``info``."""
