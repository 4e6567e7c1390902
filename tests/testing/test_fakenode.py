"""``python -m switchgeard.testing.fakenode`` as a separate process, controlled by file."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio

from switchgeard.config.model import LightningConfig, Seconds
from switchgeard.errors import BackendUnavailable
from switchgeard.lightning import ClnEndpoint, LndEndpoint, open_backend, open_bridge
from switchgeard.units import Msat, NodeKey

CFG = LightningConfig(network="regtest", call_timeout=Seconds(1.0))


@pytest.fixture
async def bridge() -> AsyncIterator[None]:
    async with open_bridge():
        yield


async def _start(kind: str, directory: Path) -> tuple[trio.Process, dict[str, Any]]:
    command = [sys.executable, "-m", "switchgeard.testing.fakenode", kind, "--dir", str(directory)]
    process = await trio.lowlevel.open_process(command)
    info_path = directory / "info.json"
    with trio.fail_after(30):
        while not info_path.exists():
            assert process.poll() is None, "fakenode exited early"
            await trio.sleep(0.05)
    return process, json.loads(info_path.read_text())


async def _control(directory: Path, request: dict[str, Any], lines: int) -> None:
    temporary = directory / "control.tmp"
    temporary.write_text(json.dumps(request))
    os.replace(temporary, directory / "control.json")
    log = directory / "control.log"
    with trio.fail_after(10):
        while not log.exists() or len(log.read_text().splitlines()) < lines:
            await trio.sleep(0.05)
    assert json.loads(log.read_text().splitlines()[-1])["ok"] is True


def _endpoint(info: dict[str, Any]) -> LndEndpoint | ClnEndpoint:
    if info["kind"] == "lnd":
        return LndEndpoint(
            url=info["url"],
            tls_cert_path=info["tls_cert_path"],
            macaroon_path=info["macaroon_path"],
        )
    return ClnEndpoint(
        url=info["url"],
        domain=info["domain"],
        ca_cert_path=info["ca_cert_path"],
        client_cert_path=info["client_cert_path"],
        client_key_path=info["client_key_path"],
    )


@pytest.mark.parametrize("kind", ["lnd", "cln"])
async def test_fakenode_process_serves_and_obeys_control_file(
    kind: str, tmp_path: Path, bridge: None
) -> None:
    process, info = await _start(kind, tmp_path)
    try:
        key = NodeKey(info["pubkey"])
        async with open_backend(_endpoint(info), key=key, name=kind, cfg=CFG) as backend:
            with trio.fail_after(10):
                assert (await backend.status()).pubkey == key
                invoice = await backend.create_invoice(
                    Msat(10_000), "meta", description_hash_only=True, expiry=600
                )
                await _control(tmp_path, {"settle": [invoice.payment_hash]}, lines=1)
                assert (await backend.lookup_invoice(invoice.payment_hash)).settled
                await _control(tmp_path, {"faults": {"down": True}}, lines=2)
                with pytest.raises(BackendUnavailable):
                    await backend.status()
                await _control(tmp_path, {"faults": {"hang": True}}, lines=3)
                with pytest.raises(BackendUnavailable, match="within 1s"):
                    await backend.status()
                await _control(tmp_path, {"faults": {}}, lines=4)
                assert (await backend.status()).pubkey == key
    finally:
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(10):
            assert await process.wait() == 0


async def test_bad_control_file_is_reported_not_fatal(tmp_path: Path) -> None:
    process, _ = await _start("lnd", tmp_path)
    try:
        (tmp_path / "control.json").write_text('{"faults": {"nonsense": true}}')
        log = tmp_path / "control.log"
        with trio.fail_after(10):
            while not log.exists():
                await trio.sleep(0.05)
        entry = json.loads(log.read_text().splitlines()[0])
        assert entry["ok"] is False and "nonsense" in entry["error"]
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGINT)  # the other test stops it with SIGTERM
        with trio.fail_after(10):
            assert await process.wait() == 0
