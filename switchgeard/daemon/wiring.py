"""Concrete wiring for the invoice path: store records -> node endpoints, and the public app.

Kept out of ``compose.py`` so the composition root stays one screen: ``connect_factory``
turns a backend record into an open ``LightningBackend`` (the balancer's ``connect``), and
``create_public_app`` plugs the store and the balancer into the LNURL app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import trio
from quart_trio import QuartTrio
from trio_util import AsyncValue

from switchgeard.balancer import Balancer, ConnectBackend
from switchgeard.config import LightningConfig, LnurlConfig
from switchgeard.daemon.ops import Ops
from switchgeard.errors import ConfigError
from switchgeard.lightning import ClnEndpoint, Endpoint, LightningBackend, LndEndpoint, open_backend
from switchgeard.lnurl import (
    LedgerVerifier,
    LnurlDeps,
    PoolSettlements,
    apply_lnurl_config,
    create_lnurl_app,
)
from switchgeard.store import Store
from switchgeard.store.records import Backend, Implementation, LndGrpc

logger = logging.getLogger("switchgeard.daemon")


def endpoint_of(implementation: Implementation) -> Endpoint:
    """The lightning endpoint a backend record's ``implementation`` describes."""
    if isinstance(implementation, LndGrpc):
        return LndEndpoint(
            url=implementation.url,
            macaroon_path=implementation.macaroon_path,
            tls_cert_path=implementation.tls_cert_path,
            domain=implementation.domain,
            amp_invoice=implementation.amp_invoice,
        )
    return ClnEndpoint(
        url=implementation.url,
        client_cert_path=implementation.client_cert_path,
        client_key_path=implementation.client_key_path,
        ca_cert_path=implementation.ca_cert_path,
        domain=implementation.domain,
    )


def connect_factory(settings: Callable[[], LightningConfig]) -> ConnectBackend:
    """The balancer's ``connect``: opens the adapter with the ``[lightning]`` settings in force."""

    def connect(record: Backend) -> AbstractAsyncContextManager[LightningBackend]:
        return open_backend(
            endpoint_of(record.implementation),
            key=record.public_key,
            name=record.name or "",
            cfg=settings(),
        )

    return connect


def create_public_app(
    store: Store, balancer: Balancer, cfg: LnurlConfig, ops: Ops | None = None
) -> QuartTrio:
    """The LNURL app over ``store`` (offers, ledger) and ``balancer`` (invoices, verify),
    behind ``ops``' rate limiter, metrics and access log when given."""
    verifier = LedgerVerifier(store, PoolSettlements(balancer.pool))
    deps = LnurlDeps(
        offers=store,
        invoices=balancer,
        verifier=verifier,
        addresses=store,
        limiter=None if ops is None else ops.limiter,
        metrics=None if ops is None else ops.metrics,
        client_ip=None if ops is None else ops.client_ip,
    )
    return create_lnurl_app(deps, cfg)


async def run_lnurl_follower(
    app: QuartTrio,
    section: AsyncValue[LnurlConfig],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Apply each reloaded ``[lnurl]`` section to the public app (listeners need a restart)."""
    running = section.value
    task_status.started()
    async for cfg in section.eventual_values():
        if cfg is running:
            continue
        running = cfg
        try:
            apply_lnurl_config(app, cfg)
        except ConfigError as exc:
            logger.warning("[lnurl] settings unchanged, the new ones are not usable: %s", exc)
