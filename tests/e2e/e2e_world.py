"""The whole daemon on port 0 with two fake nodes (LND and CLN) over real TLS gRPC.

``open_world`` writes a config with fast health checks, starts the fakes, seeds the store
with both backends and the demo offer, runs ``run_daemon`` and yields a ``World`` with an
HTTP client on the public listener and a second handle on the same SQLite store.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import bolt11
import httpx
import trio

from switchgeard.config import load_config
from switchgeard.daemon.compose import DaemonAddresses, run_daemon
from switchgeard.daemon.demo import DEMO_OFFER_ID, fake_backend, seed_demo
from switchgeard.lightning import open_bridge
from switchgeard.store import Store, open_store
from switchgeard.testing.fake_cln import FakeCln, serve_fake_cln
from switchgeard.testing.fake_lnd import FakeLnd, serve_fake_lnd

OFFER_PATH = f"/offers/default/{DEMO_OFFER_ID}"

TIMING = {
    "invoice_timeout": "300ms",
    "backend_refresh": "100ms",
    "health": {
        "interval": "100ms",
        "timeout": "300ms",
        "ejection": "200ms",
        "max_ejection": "1s",
    },
    "retry": {"initial": "20ms", "max_interval": "200ms", "max_elapsed": "1s"},
}


def _toml(
    tmp: Path, balancer: dict[str, Any], lnurl: dict[str, Any], sections: dict[str, Any]
) -> str:
    def value(v: Any) -> str:
        if isinstance(v, str):
            return f'"{v}"'
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return str(v).lower() if isinstance(v, bool) else str(v)

    def section(name: str, items: dict[str, Any]) -> list[str]:
        lines = [f"[{name}]"] + [
            f"{k} = {value(v)}" for k, v in items.items() if not isinstance(v, dict)
        ]
        for key, sub in items.items():
            if isinstance(sub, dict):
                lines += section(f"{name}.{key}", sub)
        return lines

    lines = [
        "[store]",
        f'url = "sqlite://{tmp / "switchgeard.db"}"',
        "[admin]",
        f'socket = "{tmp / "admin.sock"}"',
        "[lightning]",
        'network = "regtest"',
        'call_timeout = "2s"',
    ]
    lines += section("lnurl", {"listen": ["127.0.0.1:0"], **lnurl})
    lines += section("balancer", {**TIMING, **balancer})
    # Off unless a test asks: no fixed metrics port, and no limits on the many callbacks.
    defaults = {"telemetry": {"prometheus_listen": ""}, "ratelimit": {"enabled": False}}
    for name, items in {**defaults, **sections}.items():
        lines += section(name, items)
    return "\n".join(lines) + "\n"


@dataclass
class World:
    url: str
    lnd: FakeLnd
    cln: FakeCln
    store: Store
    http: httpx.AsyncClient
    addresses: DaemonAddresses | None = None

    async def first_call(self, path: str = OFFER_PATH) -> dict[str, Any]:
        response = await self.http.get(path)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def callback(
        self, amount: int = 21_000, path: str = OFFER_PATH, **params: str
    ) -> httpx.Response:
        return await self.http.get(path + "/invoice", params={"amount": str(amount), **params})

    def payee(self, response: httpx.Response) -> str:
        """Which fake issued the invoice of a successful callback: "lnd" or "cln"."""
        assert response.status_code == 200, response.text
        payee = bolt11.decode(response.json()["pr"]).payee
        return {self.lnd.pubkey: "lnd", self.cln.pubkey: "cln"}[payee]

    async def set_backend(self, fake: FakeLnd | FakeCln, **changes: object) -> None:
        """Rewrite a backend record and wait until the balancer has picked it up."""
        name = "demo-lnd" if fake is self.lnd else "demo-cln"
        await self.store.put_backend(fake_backend(fake, name, **changes))
        await trio.sleep(0.5)  # backend_refresh is 100 ms


def metadata_hash(first: dict[str, Any]) -> str:
    return hashlib.sha256(str(first["metadata"]).encode("utf-8")).hexdigest()


@asynccontextmanager
async def open_world(
    tmp_path: Path,
    *,
    balancer: dict[str, Any] | None = None,
    lnurl: dict[str, Any] | None = None,
    sections: dict[str, Any] | None = None,
) -> AsyncIterator[World]:
    """``sections`` adds or replaces whole TOML sections (e.g. "logging", "ratelimit")."""
    path = tmp_path / "switchgeard.toml"
    path.write_text(_toml(tmp_path, balancer or {}, lnurl or {}, sections or {}), "utf-8")
    config = load_config(path)
    async with open_bridge(), trio.open_nursery() as nursery:
        lnd = await nursery.start(serve_fake_lnd, tmp_path / "lnd")
        cln = await nursery.start(serve_fake_cln, tmp_path / "cln")
        async with open_store(config.store) as store:
            await seed_demo(store, lnd, cln)
            addresses = await nursery.start(partial(run_daemon, config))
            base = addresses.lnurl[0]
            async with httpx.AsyncClient(base_url=base, timeout=10) as http:
                yield World(base, lnd, cln, store, http, addresses)
        nursery.cancel_scope.cancel()
