"""Run a fake node as a process: ``python -m switchgeard.testing.fakenode {lnd,cln} --dir DIR``.

The node writes its credentials into DIR and, once listening, ``DIR/info.json``:
``kind, host, port, url, pubkey, network`` and the credential paths (``tls_cert_path``,
``macaroon_path`` for LND; ``domain``, ``ca_cert_path``, ``client_cert_path``,
``client_key_path`` for CLN).

Control it from another process by writing ``DIR/control.json`` (atomically, e.g. write a
temporary file and rename it); it is read every 100 ms and applied when it changes::

    {"faults": {"hang": true, "slow_ms": 200, "down": false, ...},
     "settle": ["<payment hash hex>", ...]}

``faults`` replaces all switches (missing ones are off; see ``Faults`` for the names);
``down`` stops listening and restarts on the same port when cleared. Each hash in
``settle`` is settled once. Results and errors are written to ``DIR/control.log``.
SIGTERM or SIGINT stops the node.

The process runs on a plain asyncio loop, grpclib's own, rather than on trio-asyncio as
fakes inside a test do: the fake's CPU competes with whatever it is serving (the
benchmarks run it beside the daemon), and the bridge costs it about a tenth.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from switchgeard.testing.fake_cln import FakeCln
from switchgeard.testing.fake_lnd import FakeLnd
from switchgeard.testing.fakebase import FakeNode
from switchgeard.testing.fakecore import FakeNodeCore

POLL_INTERVAL = 0.1


def write_json_atomically(path: Path, value: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(value, indent=2) + "\n")
    os.replace(temporary, path)


async def run_fakenode(
    kind: str, directory: Path, *, network: str = "regtest", inbound_msat: int = 50_000_000_000
) -> None:
    """Serve the fake until SIGTERM/SIGINT, applying ``control.json`` as it changes.

    Runs on the asyncio loop that ``main`` opens.
    """
    core = FakeNodeCore(network=network, inbound_msat=inbound_msat, alias=f"fake-{kind}")
    fake = FakeLnd(directory, core) if kind == "lnd" else FakeCln(directory, core)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await fake.server.listen()
    try:
        write_json_atomically(directory / "info.json", fake.info())
        async with asyncio.TaskGroup() as tasks:
            follower = tasks.create_task(_follow_control(fake, directory))
            await stopping.wait()
            follower.cancel()
    finally:
        await fake.server.close()


async def _follow_control(fake: FakeNode, directory: Path) -> None:
    control = directory / "control.json"
    last: str | None = None
    while True:
        await asyncio.sleep(POLL_INTERVAL)
        try:
            text = control.read_text()
        except FileNotFoundError:
            continue
        if text != last:
            last = text
            await _apply(fake, text, directory / "control.log")


async def _apply(fake: FakeNode, text: str, log: Path) -> None:
    try:
        request = json.loads(text)
        faults = dict(request.get("faults", {}))
        down = faults.pop("down", False) is True
        was_down = fake.core.faults.down
        fake.core.faults.clear()
        fake.core.faults.down = was_down  # kept if update() refuses a fault
        fake.core.faults.update(faults)
        fake.core.faults.down = down
        if down and not was_down:
            await fake.server.close()
        elif was_down and not down:
            await fake.server.listen()
        settled = [fake.settle(payment_hash) for payment_hash in request.get("settle", [])]
        _log(log, {"ok": True, "settled": settled})
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        _log(log, {"ok": False, "error": str(exc)})


def _log(path: Path, entry: dict[str, Any]) -> None:
    with path.open("a") as stream:
        stream.write(json.dumps(entry) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m switchgeard.testing.fakenode")
    parser.add_argument("kind", choices=("lnd", "cln"))
    parser.add_argument("--dir", type=Path, required=True, help="state and credentials")
    parser.add_argument(
        "--network", default="regtest", choices=("bitcoin", "testnet", "signet", "regtest")
    )
    parser.add_argument("--inbound-msat", type=int, default=50_000_000_000)
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    # An explicit loop class: trio-asyncio, imported with switchgeard.lightning, makes
    # asyncio's default event loop one of its own.
    with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
        runner.run(
            run_fakenode(args.kind, args.dir, network=args.network, inbound_msat=args.inbound_msat)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
