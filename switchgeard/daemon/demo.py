"""``switchgeard demo``: the whole flow locally, in one command.

Writes a config under ``--dir`` (SQLite store, public listener, admin socket), starts two
in-process fake nodes (one LND, one Core Lightning, real TLS gRPC), registers them as
backends, creates a demo offer, runs the daemon and prints the offer URL, its LNURL, a
terminal QR code and the admin socket. Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import trio

from switchgeard.config import Config, load_config
from switchgeard.daemon.compose import DaemonAddresses, run_daemon
from switchgeard.daemon.logs import setup_logging
from switchgeard.errors import ConfigError
from switchgeard.lightning import open_bridge
from switchgeard.lnurl import offer_links
from switchgeard.lnurl.origin import Origin
from switchgeard.lnurl.qr import qr_terminal
from switchgeard.store import Store, open_store
from switchgeard.store.records import Backend, Metadata, Offer
from switchgeard.testing.fake_cln import FakeCln, serve_fake_cln
from switchgeard.testing.fake_lnd import FakeLnd, serve_fake_lnd
from switchgeard.testing.records import backend_from_info
from switchgeard.units import Msat

DEMO_OFFER_ID = uuid.UUID("5eed0ffe-0000-4000-8000-000000000001")
DEMO_METADATA_ID = uuid.UUID("5eed0ffe-0000-4000-8000-000000000002")


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``switchgeard demo``."""
    parser.add_argument(
        "--dir", type=Path, default=Path("var/demo"), help="state directory (default ./var/demo)"
    )
    parser.add_argument(
        "--listen", default="127.0.0.1:8080", help="public listener (default 127.0.0.1:8080)"
    )


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo until Ctrl-C; return the exit status."""
    directory: Path = args.dir.absolute()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "switchgeard.toml"
    path.write_text(demo_config(directory, args.listen), encoding="utf-8")
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"switchgeard demo: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.logging.level)
    try:
        trio.run(run_demo_daemon, config, directory)
    except* KeyboardInterrupt:
        pass
    return 0


def demo_config(directory: Path, listen: str) -> str:
    """The demo's TOML: everything under ``directory``; fake nodes are on regtest."""
    return (
        "# written by `switchgeard demo`; edit and save to see a live reload\n"
        "[store]\n"
        f'url = "sqlite://{directory / "switchgeard.db"}"\n\n'
        "[lnurl]\n"
        f'listen = ["{listen}"]\n\n'
        "[admin]\n"
        f'socket = "{directory / "admin.sock"}"\n\n'
        "[lightning]\n"
        'network = "regtest"\n\n'
        "[telemetry]\n"
        'prometheus_listen = "127.0.0.1:0"\n\n'
        "[balancer.health]\n"
        'interval = "1s"\n'
    )


async def run_demo_daemon(
    config: Config,
    directory: Path,
    *,
    task_status: trio.TaskStatus[DaemonAddresses] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Fake nodes, demo records and the daemon; returns when the daemon stops."""
    async with open_bridge(), trio.open_nursery() as nursery:
        lnd = await nursery.start(serve_fake_lnd, directory / "fake-lnd")
        cln = await nursery.start(serve_fake_cln, directory / "fake-cln")
        async with open_store(config.store) as store:
            await seed_demo(store, lnd, cln)
        addresses = await nursery.start(partial(_run_then_stop, config, nursery.cancel_scope))
        print(banner(addresses, config), flush=True)
        task_status.started(addresses)


async def _run_then_stop(
    config: Config, fakes: trio.CancelScope, *, task_status: trio.TaskStatus[DaemonAddresses]
) -> None:
    await run_daemon(config, task_status=task_status)
    fakes.cancel()


def fake_backend(fake: FakeLnd | FakeCln, name: str, **changes: object) -> Backend:
    """A backend record pointing at a running fake node."""
    return backend_from_info(fake.info(), name, **changes)


async def seed_demo(store: Store, lnd: FakeLnd, cln: FakeCln) -> Offer:
    """Register both fakes and (re)create the demo offer.

    The fakes get a new node key on every start, so the demo backends of an earlier run
    (same names, other keys, nodes long gone) are removed rather than left to fail their
    health checks next to the new ones.
    """
    fresh = [fake_backend(lnd, "demo-lnd"), fake_backend(cln, "demo-cln")]
    names = {backend.name for backend in fresh}
    keys = {backend.public_key for backend in fresh}
    for old in await store.list_backends():
        if old.name in names and old.public_key not in keys:
            await store.delete_backend(old.public_key)
    for backend in fresh:
        await store.put_backend(backend)
    await store.put_metadata(
        Metadata(
            partition="default",
            id=DEMO_METADATA_ID,
            text="switchgeard demo: a coffee ☕",
            long_text="Paid to one of two fake Lightning nodes, chosen by the balancer.",
        )
    )
    offer, _ = await store.put_offer(
        Offer(
            partition="default",
            id=DEMO_OFFER_ID,
            min_sendable=Msat(1000),
            max_sendable=Msat(100_000_000),
            metadata_id=DEMO_METADATA_ID,
            timestamp=datetime(2020, 1, 1, tzinfo=UTC),
            comment_allowed=140,
        )
    )
    return offer


def banner(addresses: DaemonAddresses, config: Config) -> str:
    """What a new user needs: the offer URL, its LNURL and QR code, the admin socket."""
    base = addresses.lnurl[0]
    scheme, _, host = base.partition("://")
    links = offer_links(Origin(scheme, host), f"/offers/default/{DEMO_OFFER_ID}")
    return "\n".join(
        [
            "",
            f"offer:    {links['url']}",
            f"lnurlp:   {links['lnurlp']}",
            f"qr (png): {links['qr']}",
            f"LNURL:    {links['lnurl']}",
            "",
            qr_terminal(links["lnurl"]),
            f"try:      curl '{links['url']}/invoice?amount=21000'",
            f"admin:    {config.admin.socket}",
            f"metrics:  http://{addresses.metrics}/metrics" if addresses.metrics else "",
            "stop with Ctrl-C",
        ]
    )
