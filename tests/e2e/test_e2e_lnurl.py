"""Acceptance of the LNURL service end to end: daemon on port 0, two fakes over TLS."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import bolt11
import pytest
import trio
from e2e_world import OFFER_PATH, World, metadata_hash, open_world
from lnurl import LnurlPayActionResponse, LnurlPayResponse, LnurlResponse, decode

from switchgeard.store.records import Metadata, Offer
from switchgeard.units import Msat

pytestmark = [pytest.mark.deadline(60), pytest.mark.slow]


async def decode_qr(png: bytes, tmp_path: Path) -> str:
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg is not installed (Debian package zbar-tools)")
    (tmp_path / "qr.png").write_bytes(png)
    done = await trio.run_process(
        [zbarimg, "--raw", "-q", str(tmp_path / "qr.png")], capture_stdout=True
    )
    return bytes(done.stdout).decode().strip()


async def test_wallet_flow_with_independent_validators(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        first = await world.first_call()
        parsed = LnurlResponse.from_dict(first)
        assert isinstance(parsed, LnurlPayResponse)
        assert parsed.metadata.h == metadata_hash(first)
        response = await world.callback(21_000, comment="thanks ☕")
        action = LnurlResponse.from_dict(response.json())
        assert isinstance(action, LnurlPayActionResponse)
        invoice = bolt11.decode(response.json()["pr"])
        assert invoice.amount_msat == 21_000
        assert invoice.description_hash == metadata_hash(first)
        lnurl_text = (await world.http.get(OFFER_PATH + "/bech32")).text
        assert str(decode(lnurl_text)) == world.url + OFFER_PATH
        png = (await world.http.get(OFFER_PATH + "/bech32/qr")).content
        assert await decode_qr(png, tmp_path) == lnurl_text


async def test_verify_reports_settlement_with_a_matching_preimage(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        response = await world.callback(5_000)
        verify_url = response.json()["verify"]
        payment_hash = verify_url.rsplit("/", 1)[1]
        before = (await world.http.get(verify_url)).json()
        assert before == {
            "status": "OK",
            "settled": False,
            "preimage": None,
            "pr": response.json()["pr"],
        }
        fake = world.lnd if world.payee(response) == "lnd" else world.cln
        assert fake.settle(payment_hash)
        after = (await world.http.get(verify_url)).json()
        assert after["settled"] is True
        assert hashlib.sha256(bytes.fromhex(after["preimage"])).hexdigest() == payment_hash
        unknown = await world.http.get("/verify/" + "00" * 32)
        assert unknown.status_code == 404 and unknown.json()["status"] == "ERROR"


FAULTS = ["down", "hang", "unavailable", "wrong_amount", "wrong_hash"]


async def _set_fault(world: World, fault: str, on: bool) -> None:
    if fault == "down":
        # go_down() refuses new connections; a real node going down also resets the
        # established ones, which the fake keeps open, so those fail as UNAVAILABLE here.
        world.lnd.core.faults.unavailable = on
        await (world.lnd.go_down() if on else world.lnd.come_up())
    else:
        world.lnd.core.faults.update({fault: on})


@pytest.mark.parametrize("fault", FAULTS)
async def test_failover_around_a_faulty_node(
    tmp_path: Path, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_world(tmp_path) as world:
        await _set_fault(world, fault, True)
        used = Counter()
        for _ in range(200):
            used[world.payee(await world.callback())] += 1
        assert used["cln"] >= 195, used
        assert any("demo-lnd is unhealthy" in r.getMessage() for r in caplog.records)
        await _set_fault(world, fault, False)
        with trio.fail_after(10):
            while world.payee(await world.callback()) != "lnd":
                await trio.sleep(0.05)


async def test_all_nodes_down_is_503_within_the_retry_budget(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        world.lnd.core.faults.hang = True
        world.cln.core.faults.hang = True
        started = trio.current_time()
        response = await world.callback()
        elapsed = trio.current_time() - started
        assert response.status_code == 503
        assert response.json()["status"] == "ERROR"
        assert response.headers["access-control-allow-origin"] == "*"
        assert elapsed <= 1.0 + 0.3 + 0.4, elapsed  # max_elapsed + one invoice_timeout + slack


async def test_rejected_amount_is_400_without_retry(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        for fake in (world.lnd, world.cln):
            fake.core.faults.reject = True
        response = await world.callback()
        assert response.status_code == 400 and response.json()["status"] == "ERROR"
        creations = world.lnd.core.calls["AddInvoice"] + world.cln.core.calls["Invoice"]
        assert creations == 1, (world.lnd.core.calls, world.cln.core.calls)


async def test_weights_split_three_to_one(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        await world.set_backend(world.lnd, weight=3)
        used = Counter([world.payee(await world.callback()) for _ in range(400)])
        assert 270 <= used["lnd"] <= 330, used


async def test_weight_zero_and_disabled_are_never_chosen(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        await world.set_backend(world.lnd, weight=0)
        assert {world.payee(await world.callback()) for _ in range(40)} == {"cln"}
        await world.set_backend(world.lnd, weight=1, enabled=False)
        assert {world.payee(await world.callback()) for _ in range(40)} == {"cln"}


async def test_partitions_are_isolated(tmp_path: Path) -> None:
    async with open_world(tmp_path, lnurl={"partitions": ["default", "other"]}) as world:
        other_id = uuid.uuid4()
        await world.store.put_metadata(Metadata(partition="other", id=other_id, text="other"))
        await world.store.put_offer(
            Offer(
                partition="other",
                id=other_id,
                min_sendable=Msat(1000),
                max_sendable=Msat(1_000_000),
                metadata_id=other_id,
                timestamp=datetime(2020, 1, 1, tzinfo=UTC),
            )
        )
        await world.set_backend(world.lnd, partitions=frozenset({"other"}))
        other = f"/offers/other/{other_id}"
        assert {world.payee(await world.callback(path=other)) for _ in range(20)} == {"lnd"}
        assert {world.payee(await world.callback()) for _ in range(20)} == {"cln"}
        unserved = await world.http.get(f"/offers/third/{other_id}")
        assert unserved.status_code == 404


async def test_consistent_mode_maps_a_key_to_one_node(tmp_path: Path) -> None:
    async with open_world(tmp_path, balancer={"strategy": "consistent"}) as world:
        chosen = {}
        for key in [f"payer-{n}" for n in range(12)]:
            nodes = {world.payee(await world.callback(comment=key)) for _ in range(5)}
            assert len(nodes) == 1, (key, nodes)
            chosen[key] = nodes.pop()
        assert set(chosen.values()) == {"lnd", "cln"}


async def test_health_full_follows_the_backends(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        assert (await world.http.get("/health/full")).status_code == 200
        await world.set_backend(world.lnd, enabled=False)
        await world.set_backend(world.cln, enabled=False)
        response = await world.http.get("/health/full")
        assert response.status_code == 503 and response.json()["status"] == "ERROR"
