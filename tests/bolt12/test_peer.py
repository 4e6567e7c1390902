"""BOLT 8 transport on trio streams and BOLT 1 sessions (init vectors, ping, policies)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import coincurve
import pytest
import trio
import trio.testing

from switchgeard.bolt12 import peer as bolt1
from switchgeard.bolt12.noise import HandshakeError
from switchgeard.bolt12.rules import BITCOIN_CHAIN
from switchgeard.bolt12.transport import (
    NoiseStream,
    PeerClosed,
    PeerTimeout,
    handshake_inbound,
    handshake_outbound,
)
from switchgeard.errors import DecodeError

from .conftest import load_vectors, record_vectors

ALICE = coincurve.PrivateKey(b"\x11" * 32)
BOB = coincurve.PrivateKey(b"\x21" * 32)


def test_init_extension_vectors() -> None:
    data = load_vectors("extracted/bolt01-init-extension-vectors.json")
    for case in data["cases"]:
        raw = bytes.fromhex(case["msg"])
        assert raw[:2] == b"\x00\x10"
        if case["valid"]:
            init = bolt1.Init.from_payload(raw[2:])
            assert init.to_wire() == raw
        else:
            with pytest.raises(DecodeError):
                bolt1.Init.from_payload(raw[2:])
    assert len(data["cases"]) == 5
    record_vectors("BOLT 1 init extension (2 valid / 3 invalid)", 5)


def test_init_networks_and_features_round_trip() -> None:
    init = bolt1.default_init([BITCOIN_CHAIN])
    decoded = bolt1.Init.from_payload(init.to_wire()[2:])
    assert decoded == init
    assert int.from_bytes(decoded.features, "big") == (1 << 1) | (1 << 39)


async def _pair() -> tuple[NoiseStream, NoiseStream]:
    left, right = trio.testing.memory_stream_pair()
    results: dict[str, NoiseStream] = {}

    async def inbound() -> None:
        results["in"] = await handshake_inbound(right, BOB)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(inbound)
        results["out"] = await handshake_outbound(left, ALICE, BOB.public_key.format())
    return results["out"], results["in"]


@pytest.fixture
async def streams() -> AsyncIterator[tuple[NoiseStream, NoiseStream]]:
    with trio.fail_after(5):
        out, inn = await _pair()
    yield out, inn
    await out.aclose()
    await inn.aclose()


async def test_handshake_and_messages_over_memory_streams(
    streams: tuple[NoiseStream, NoiseStream],
) -> None:
    out, inn = streams
    assert inn.remote_key == ALICE.public_key.format()
    with trio.fail_after(5):
        for index in range(600):
            await out.send_message(index.to_bytes(3, "big") * 10)
            assert await inn.receive_message() == index.to_bytes(3, "big") * 10


async def test_peers_exchange_init_and_answer_pings(
    streams: tuple[NoiseStream, NoiseStream],
) -> None:
    ours = bolt1.Peer(streams[0], bolt1.default_init([BITCOIN_CHAIN]), chains=[BITCOIN_CHAIN])
    theirs = bolt1.Peer(streams[1], bolt1.default_init([BITCOIN_CHAIN]))
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(theirs.exchange_init)
            remote = await ours.exchange_init()
        assert remote.networks == (BITCOIN_CHAIN,)
        await theirs.stream.send_message(bolt1.PING.to_bytes(2, "big") + b"\x00\x04\x00\x00")
        await theirs.stream.send_message(b"\x01\x01odd message is ignored")
        await theirs.send_onion_message(b"payload")
        message = await ours.receive()
        assert (message.type, message.payload) == (bolt1.ONION_MESSAGE, b"payload")
        assert await theirs.stream.receive_message() == b"\x00\x13\x00\x04\x00\x00\x00\x00"
        await theirs.send_warning("careful")
        warning = await ours.receive()
        assert bolt1.parse_warning(warning.payload) == (bytes(32), "careful")
        await theirs.stream.send_message(b"\x01\x00")  # 256: gossip, ignored
        await theirs.stream.send_message(b"\x7f\xfe")  # unknown even type
        with pytest.raises(bolt1.PeerProtocolError, match="32766"):
            await ours.receive()
        await theirs.send_error("bye")
        with pytest.raises(bolt1.PeerErrorReceived, match="bye"):
            await ours.receive()


async def test_unknown_compulsory_feature_is_refused(
    streams: tuple[NoiseStream, NoiseStream],
) -> None:
    ours = bolt1.Peer(streams[0], bolt1.default_init([BITCOIN_CHAIN]))
    strange = bolt1.Init(features=(1 << 100).to_bytes(13, "big"))
    with trio.fail_after(5):
        await streams[1].send_message(strange.to_wire())
        with pytest.raises(bolt1.PeerProtocolError, match="100"):
            await ours.exchange_init()


async def test_handshake_times_out(autojump_clock: trio.testing.MockClock) -> None:
    left, _right = trio.testing.memory_stream_pair()
    with pytest.raises(PeerTimeout):
        await handshake_outbound(left, ALICE, BOB.public_key.format(), timeout=3)


async def test_init_and_body_time_out(
    streams: tuple[NoiseStream, NoiseStream], autojump_clock: trio.testing.MockClock
) -> None:
    ours = bolt1.Peer(streams[0], bolt1.default_init([BITCOIN_CHAIN]))
    with pytest.raises(PeerTimeout):
        await ours.exchange_init(timeout=2)


async def test_closed_peer_and_short_act_are_reported() -> None:
    left, right = trio.testing.memory_stream_pair()
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:

            async def send_short_act_and_close() -> None:
                await right.send_all(b"\x00" * 20)
                await right.aclose()

            nursery.start_soon(send_short_act_and_close)
            with pytest.raises(HandshakeError) as caught:
                await handshake_inbound(left, BOB)
        assert caught.value.code == "ACT1_READ_FAILED"
    out, inn = await _pair()
    await out.aclose()
    with trio.fail_after(5), pytest.raises(PeerClosed):
        await inn.receive_message()
