"""Fixtures: the admin app served by hypercorn on a real Unix socket, and an httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import httpx
import pytest
import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve

from switchgeard.admin.app import create_admin_app
from switchgeard.admin.ports import AdminDeps, DaemonInfo
from switchgeard.config.model import StoreConfig
from switchgeard.store import Store, open_store

STARTED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with open_store(StoreConfig(url=f"sqlite:///{tmp_path}/admin.db")) as opened:
        yield opened


@pytest.fixture
def deps(store: Store) -> AdminDeps:
    info = DaemonInfo(
        version="0.1.0",
        started_at=STARTED,
        config_file="/etc/switchgeard/switchgeard.toml",
        store_kind="sqlite",
        public_url="https://pay.example.com",
        partitions=("default",),
        page_default=5,
        page_max=10,
    )
    return AdminDeps(store=store, info=info)


async def serve_app_on_socket(deps: AdminDeps, path: Path, nursery: trio.Nursery) -> None:
    config = HypercornConfig()
    config.bind = [f"unix:{path}"]
    config.accesslog = None
    config.errorlog = None
    app = create_admin_app(deps)
    await nursery.start(partial(serve, app, config))  # type: ignore[arg-type]


@pytest.fixture
async def admin_socket(
    deps: AdminDeps, short_dir: Path, nursery: trio.Nursery
) -> AsyncIterator[Path]:
    path = short_dir / "admin.sock"
    await serve_app_on_socket(deps, path, nursery)
    yield path


@pytest.fixture
async def client(admin_socket: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.AsyncHTTPTransport(uds=str(admin_socket))
    async with httpx.AsyncClient(transport=transport, base_url="http://admin") as http:
        yield http
