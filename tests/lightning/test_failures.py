"""Credential, TLS, timeout and fault handling: every failure is a named BackendError."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
from either_node import Node

from switchgeard.config.model import LightningConfig, Seconds
from switchgeard.errors import (
    BackendError,
    BackendProtocolError,
    BackendRejected,
    BackendUnavailable,
)
from switchgeard.lightning import LightningBackend, open_backend
from switchgeard.lightning.endpoints import ClnEndpoint, LndEndpoint
from switchgeard.testing.fake_cln import FakeCln
from switchgeard.testing.fake_lnd import FakeLnd
from switchgeard.testing.tls import make_client_pair, make_lnd_tls
from switchgeard.units import Msat, NodeKey


async def _status_error(endpoint: LndEndpoint | ClnEndpoint, key: str, **cfg: object) -> str:
    timeout = cfg.get("call_timeout", Seconds(2.0))
    assert isinstance(timeout, float)
    config = LightningConfig(network="regtest", call_timeout=Seconds(timeout))
    with trio.fail_after(10):
        with pytest.raises(BackendError) as info:
            async with open_backend(endpoint, key=NodeKey(key), name="node-a", cfg=config) as b:
                await b.status()
    error = info.value
    assert error.name == "node-a" and error.key == key
    assert "Traceback" not in str(error)
    return f"{type(error).__name__}: {error}"


async def test_wrong_macaroon(lnd: FakeLnd, tmp_path: Path) -> None:
    other = tmp_path / "other.macaroon"
    other.write_bytes(b"\x02not-the-right-one")
    text = await _status_error(lnd.endpoint(macaroon_path=str(other)), lnd.pubkey)
    assert text.startswith("BackendAuthError: backend node-a: node refused our credentials")
    assert str(other) in text and "verification failed" in text


async def test_missing_macaroon_file(lnd: FakeLnd, tmp_path: Path) -> None:
    missing = tmp_path / "nope.macaroon"
    text = await _status_error(lnd.endpoint(macaroon_path=str(missing)), lnd.pubkey)
    assert text.startswith("BackendAuthError") and f"cannot read macaroon {missing}" in text


async def test_lnd_wrong_ca(lnd: FakeLnd, tmp_path: Path) -> None:
    stranger = make_lnd_tls(tmp_path)  # a different node's tls.cert
    text = await _status_error(lnd.endpoint(tls_cert_path=str(stranger.cert)), lnd.pubkey)
    assert text.startswith("BackendAuthError") and "not accepted" in text
    assert str(stranger.cert) in text
    assert lnd.core.calls.total() == 0


async def test_cln_name_mismatch_without_override(cln: FakeCln) -> None:
    text = await _status_error(cln.endpoint(domain=None), cln.pubkey)
    assert text.startswith("BackendAuthError") and "mismatch" in text.lower()
    assert "set the backend's domain" in text and str(cln.tls.ca) in text


async def test_cln_missing_client_certificate_file(cln: FakeCln, tmp_path: Path) -> None:
    missing = tmp_path / "client.pem"
    text = await _status_error(cln.endpoint(client_cert_path=str(missing)), cln.pubkey)
    assert text.startswith("BackendAuthError") and str(missing) in text


async def test_cln_client_certificate_from_another_ca(cln: FakeCln, tmp_path: Path) -> None:
    cert, key = make_client_pair(tmp_path, "stranger")
    endpoint = cln.endpoint(client_cert_path=str(cert), client_key_path=str(key))
    text = await _status_error(endpoint, cln.pubkey)
    assert str(cert) in text and "client certificate" in text
    assert cln.core.calls.total() == 0


async def test_unreachable_node(tmp_path: Path, lnd: FakeLnd) -> None:
    await lnd.go_down()
    text = await _status_error(lnd.endpoint(), lnd.pubkey)
    assert text.startswith("BackendUnavailable") and f"127.0.0.1:{lnd.port}" in text


async def test_malformed_url_is_named(lnd: FakeLnd) -> None:
    text = await _status_error(lnd.endpoint(url="http://127.0.0.1"), lnd.pubkey)
    assert text.startswith("BackendUnavailable") and "http://127.0.0.1" in text


@pytest.mark.parametrize("kind", ["lnd", "cln"])
async def test_hanging_call_times_out_and_cancels_the_handler(
    kind: str, lnd: FakeLnd, cln: FakeCln
) -> None:
    fake = lnd if kind == "lnd" else cln
    fake.core.faults.hang = True
    text = await _status_error(fake.endpoint(), fake.pubkey, call_timeout=Seconds(0.3))
    assert text.startswith("BackendUnavailable") and "within 0.3s" in text
    with trio.fail_after(5):
        while fake.core.cancelled < 1:
            await trio.sleep(0.01)
    assert fake.core.cancelled == 1


@pytest.mark.parametrize(
    ("fault", "error", "needle"),
    [
        ("unavailable", BackendUnavailable, "UNAVAILABLE"),
        ("reject", BackendRejected, "rejected"),
    ],
)
async def test_status_faults(
    fault: str, error: type[BackendError], needle: str, node: Node
) -> None:
    fake, backend = node.fake, node.backend
    fake.core.faults.update({fault: True})
    with trio.fail_after(5), pytest.raises(error, match=needle):
        await backend.create_invoice(Msat(1000), "x", description_hash_only=True, expiry=60)


async def test_slow_node_within_the_timeout_is_fine(
    lnd: FakeLnd, lnd_backend: LightningBackend
) -> None:
    lnd.core.faults.slow_ms = 50
    with trio.fail_after(5):
        status = await lnd_backend.status()
    assert status.pubkey == lnd.pubkey


@pytest.mark.parametrize(
    "fault", ["wrong_amount", "wrong_hash", "missing_secret", "wrong_payee", "wrong_network"]
)
@pytest.mark.parametrize("hash_only", [True, False])
async def test_validator_catches_every_invoice_fault(
    hash_only: bool, fault: str, node: Node
) -> None:
    fake, backend = node.fake, node.backend
    fake.core.faults.update({fault: True})
    with trio.fail_after(5), pytest.raises(BackendProtocolError) as info:
        await backend.create_invoice(
            Msat(21_000), "meta", description_hash_only=hash_only, expiry=600
        )
    assert info.value.name == backend.name and info.value.key == fake.pubkey
    assert "invoice" in str(info.value)


async def test_restarted_node_is_used_again(node: Node) -> None:
    fake, backend = node.fake, node.backend
    with trio.fail_after(10):
        await backend.status()
        await fake.go_down()
        with pytest.raises(BackendUnavailable):
            await backend.status()
        await fake.come_up()
        status = await backend.status()
    assert status.pubkey == fake.pubkey
    assert backend.rpc.dials >= 2


@pytest.mark.parametrize("kind", ["lnd", "cln"])
async def test_node_answering_with_another_identity_is_faulty(
    kind: str, lnd: FakeLnd, cln: FakeCln
) -> None:
    fake = lnd if kind == "lnd" else cln
    other = NodeKey("02" + "ab" * 32)
    config = LightningConfig(network="regtest", call_timeout=Seconds(2.0))
    async with open_backend(fake.endpoint(), key=other, name="impostor", cfg=config) as backend:
        with trio.fail_after(5):
            with pytest.raises(BackendProtocolError, match="not the configured key"):
                await backend.status()
            with pytest.raises(BackendProtocolError, match="payee"):
                await backend.create_invoice(
                    Msat(1_000), "x", description_hash_only=True, expiry=60
                )


async def test_lnd_trusted_roots_file_instead_of_tls_cert(lnd: FakeLnd) -> None:
    config = LightningConfig(
        network="regtest", call_timeout=Seconds(2.0), trusted_roots_file=lnd.tls_cert_path
    )
    endpoint = lnd.endpoint(tls_cert_path=None)
    async with open_backend(endpoint, key=NodeKey(lnd.pubkey), name="n", cfg=config) as backend:
        with trio.fail_after(5):
            assert (await backend.status()).pubkey == lnd.pubkey


async def test_garbage_certificate_file_is_named(lnd: FakeLnd, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    text = await _status_error(lnd.endpoint(tls_cert_path=str(garbage)), lnd.pubkey)
    assert text.startswith("BackendAuthError") and str(garbage) in text
