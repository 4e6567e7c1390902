"""A throwaway slapd, a real SQLite store and the public LNURL app with a fake balancer."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio
from directory_admin import DirectoryAdmin
from quart_trio import QuartTrio
from signed_invoices import Issued, issue_signed
from slapd import PEOPLE, ROOT_DN, ROOT_PASSWORD, USER_FILTER, Slapd

from switchgeard.config.model import LdapConfig, LnurlConfig, Seconds, StoreConfig
from switchgeard.lnurl import LedgerVerifier, LnurlDeps, create_lnurl_app
from switchgeard.store import Store, open_store
from switchgeard.units import Msat, NodeKey, PaymentHash

DOMAIN = "localhost"


@dataclass
class FakeBalancer:
    """Signs real invoices and records them in the store's ledger, as the balancer does."""

    store: Store
    references: list[str] = field(default_factory=list)
    consistent_key: str = "comment"

    async def issue_invoice(
        self,
        *,
        partition: str,
        amount: Msat,
        description: str,
        reference: str,
        expiry: int,
        description_hash_only: bool = True,
        key: str | None = None,
    ) -> Issued:
        self.references.append(reference)
        preimage = hashlib.sha256(f"{reference} {len(self.references)}".encode()).digest()
        issued, entry = issue_signed(
            preimage, amount, description, reference=reference, expiry=expiry, at=datetime.now(UTC)
        )
        await self.store.record_invoice(entry)
        return issued

    def selectable(self, partition: str) -> bool:
        return True

    async def lookup_invoice(self, key: NodeKey, payment_hash: PaymentHash) -> Any:
        raise NotImplementedError

    def recorded(self, key: NodeKey) -> None:
        raise NotImplementedError


@dataclass
class World:
    store: Store
    app: QuartTrio
    balancer: FakeBalancer
    tmp_path: Path

    async def get(self, path: str, host: str = DOMAIN) -> tuple[int, Any]:
        response = await self.app.test_client().get(path, headers={"Host": host})
        return response.status_code, json.loads(await response.get_data(as_text=True))

    async def served(self, username: str, host: str = DOMAIN) -> Any | None:
        """The first response for ``username``, or None when it is 404."""
        status, body = await self.get(f"/.well-known/lnurlp/{username}", host)
        if status == 404:
            assert body["status"] == "ERROR"
            return None
        assert status == 200, body
        return body


@asynccontextmanager
async def open_world(tmp_path: Path) -> AsyncIterator[World]:
    async with open_store(StoreConfig(url=f"sqlite:///{tmp_path}/store.db")) as store:
        balancer = FakeBalancer(store)
        deps = LnurlDeps(
            offers=store,
            invoices=balancer,
            verifier=LedgerVerifier(store, balancer),
            addresses=store,
        )
        app = create_lnurl_app(deps, LnurlConfig(allowed_hosts=(DOMAIN, "other.example")))
        yield World(store, app, balancer, tmp_path)


def ldap_config(slapd: Slapd, tmp_path: Path, **changes: Any) -> LdapConfig:
    password = tmp_path / "ldap-password"
    password.write_text(ROOT_PASSWORD + "\n")
    cfg = LdapConfig(
        uri=slapd.uri,
        bind_dn=ROOT_DN,
        bind_password_file=password,
        base_dn=PEOPLE,
        filter=USER_FILTER,
        domain=DOMAIN,
        groups=(),
        group_check_interval=Seconds(0.2),
        retry_initial=Seconds(0.1),
        retry_max=Seconds(0.5),
        network_timeout=Seconds(2),
        timeout=Seconds(5),
    )
    return dataclasses.replace(cfg, **changes)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 2.0) -> float:
    """Wait until ``check()`` is true (failing after ``within`` s); returns the time it took."""
    started = trio.current_time()
    with trio.fail_after(within):
        while not await check():
            await trio.sleep(0.02)
    return trio.current_time() - started


__all__ = ["DirectoryAdmin", "Slapd"]
