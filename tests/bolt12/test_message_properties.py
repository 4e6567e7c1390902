"""Hypothesis properties for every bolt12 codec beyond the Bolt12 messages themselves.

Each encoded type gets a round trip (encode, then decode gives the same value back) and a
mutation property: starting from a valid encoding of that type, flipped, inserted, deleted
or truncated bytes may decode or fail, but only with our own DecodeError.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import coincurve
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from switchgeard.bolt12 import blinding, onion, sphinx
from switchgeard.bolt12 import peer as bolt1
from switchgeard.bolt12.fields import InvoiceErrorFields
from switchgeard.bolt12.messages import InvoiceError, Offer
from switchgeard.bolt12.noise import CipherPair, Initiator, Responder
from switchgeard.bolt12.paths import (
    BlindedHop,
    BlindedPath,
    BlindedPayInfo,
    decode_blinded_paths,
    decode_payinfos,
    encode_blinded_paths,
    encode_payinfos,
)
from switchgeard.bolt12.tlv import Record, encode_stream
from switchgeard.bolt12.transport import NoiseStream, PeerClosed
from switchgeard.bolt12.wire import encode_bigsize
from switchgeard.errors import DecodeError

from . import flow

FAST = settings(max_examples=150, deadline=None)
SLOW = settings(max_examples=60, deadline=None)

keys = st.integers(1, 2**255).map(lambda k: coincurve.PrivateKey(k.to_bytes(32, "big")))
points = keys.map(lambda key: key.public_key.format())


def odd_records(low: int, high: int) -> st.SearchStrategy[tuple[Record, ...]]:
    """Sorted unknown odd records with types in ``low..high``."""
    types = st.sets(st.integers(low // 2, high // 2).map(lambda n: 2 * n + 1), max_size=3)
    return types.flatmap(
        lambda chosen: st.tuples(
            *(st.tuples(st.just(t), st.binary(max_size=8)) for t in sorted(chosen))
        )
    )


def mutate(data: st.DataObject, sample: bytes) -> bytes:
    """Apply one to four byte flips, insertions, deletions or truncations to ``sample``."""
    mutated = bytearray(sample)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        op = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]), label="op")
        at = data.draw(st.integers(0, max(len(mutated) - 1, 0)), label="position")
        if op == "flip" and mutated:
            mutated[at] ^= 1 << data.draw(st.integers(0, 7), label="bit")
        elif op == "insert":
            mutated[at:at] = data.draw(st.binary(min_size=1, max_size=4), label="inserted")
        elif op == "delete":
            del mutated[at : at + data.draw(st.integers(1, 4), label="deleted")]
        else:
            del mutated[at:]
    return bytes(mutated)


def only_decode_errors(decode: Callable[[bytes], object], raw: bytes) -> None:
    """Run ``decode``; a DecodeError is fine, anything else fails the test."""
    with contextlib.suppress(DecodeError):
        decode(raw)


# --- blinded paths and blinded_payinfo ------------------------------------------------------

sciddirs = st.tuples(st.sampled_from([b"\x00", b"\x01"]), st.binary(min_size=8, max_size=8))
hops = st.builds(BlindedHop, points, st.binary(max_size=40))
blinded_paths = st.builds(
    BlindedPath,
    st.one_of(points, sciddirs.map(b"".join)),
    points,
    st.lists(hops, min_size=1, max_size=3).map(tuple),
)
payinfos = st.builds(
    BlindedPayInfo,
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**16 - 1),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
    st.binary(max_size=6),
)


@FAST
@given(st.lists(blinded_paths, min_size=1, max_size=3).map(tuple), st.data())
def test_blinded_paths_round_trip_and_survive_mutation(
    paths: tuple[BlindedPath, ...], data: st.DataObject
) -> None:
    raw = encode_blinded_paths(paths)
    assert decode_blinded_paths(raw, "paths") == paths
    only_decode_errors(lambda b: decode_blinded_paths(b, "paths"), mutate(data, raw))


@FAST
@given(st.lists(payinfos, max_size=3).map(tuple), st.data())
def test_payinfos_round_trip_and_survive_mutation(
    infos: tuple[BlindedPayInfo, ...], data: st.DataObject
) -> None:
    raw = encode_payinfos(infos)
    assert decode_payinfos(raw, "payinfo") == infos
    only_decode_errors(lambda b: decode_payinfos(b, "payinfo"), mutate(data, raw))


# --- encrypted_data_tlv and onionmsg_tlv ----------------------------------------------------


@FAST
@given(
    st.none() | points,
    st.none() | st.binary(max_size=32),
    st.none() | points,
    st.integers(0, 40),
    odd_records(15, 999),
    st.data(),
)
def test_encrypted_data_round_trips_and_survives_mutation(
    next_node_id: bytes | None,
    path_id: bytes | None,
    override: bytes | None,
    padding: int,
    extra: tuple[Record, ...],
    data: st.DataObject,
) -> None:
    raw = onion.encode_encrypted_data(
        next_node_id=next_node_id,
        path_id=path_id,
        next_path_key_override=override,
        padding=padding,
        extra=extra,
    )
    decoded = onion.EncryptedData.decode(raw)
    assert (decoded.next_node_id, decoded.path_id, decoded.next_path_key_override) == (
        next_node_id,
        path_id,
        override,
    )
    assert encode_stream(decoded.records) == raw
    assert set(extra) <= set(decoded.records)
    only_decode_errors(onion.EncryptedData.decode, mutate(data, raw))


def _payload_records(
    encrypted: bytes | None, reply: BlindedPath | None, field: tuple[int, bytes] | None
) -> list[Record]:
    records: list[Record] = []
    if reply is not None:
        records.append((onion.REPLY_PATH, reply.encode()))
    if encrypted is not None:
        records.append((onion.ENCRYPTED_DATA, encrypted))
    if field is not None:
        records.append(field)
    return records


payload_fields = st.none() | st.tuples(
    st.sampled_from([onion.INVOICE_REQUEST, onion.INVOICE, onion.INVOICE_ERROR]),
    st.binary(max_size=60),
)


@FAST
@given(
    st.none() | st.binary(max_size=60),
    st.none() | blinded_paths,
    payload_fields,
    odd_records(69, 9999),
    st.data(),
)
def test_onion_message_payload_round_trips_and_survives_mutation(
    encrypted: bytes | None,
    reply: BlindedPath | None,
    field: tuple[int, bytes] | None,
    extra: tuple[Record, ...],
    data: st.DataObject,
) -> None:
    records = (*_payload_records(encrypted, reply, field), *extra)
    raw = encode_stream(records)
    decoded = onion.OnionMessagePayload.decode(raw)
    assert decoded.records == records
    assert decoded.reply_path == reply
    assert decoded.encrypted_recipient_data == encrypted
    only_decode_errors(onion.OnionMessagePayload.decode, mutate(data, raw))


@FAST
@given(st.data())
def test_invoice_error_round_trips_and_survives_mutation(data: st.DataObject) -> None:
    fields = InvoiceErrorFields(
        erroneous_field=data.draw(st.none() | st.integers(0, 2**64 - 1)),
        error=data.draw(st.none() | st.text(max_size=30)),
    )
    if fields.erroneous_field is not None:
        fields = InvoiceErrorFields(
            erroneous_field=fields.erroneous_field,
            suggested_value=data.draw(st.none() | st.binary(max_size=10)),
            error=fields.error,
        )
    error = InvoiceError.build(fields)
    assert error.fields == fields
    assert InvoiceError.from_bytes(error.to_bytes()) == error
    only_decode_errors(InvoiceError.from_bytes, mutate(data, error.to_bytes()))


# --- onion_message (type 513), Sphinx packets and the hop-by-hop flow ----------------------


def _message_path(session: bytes, nodes: list[coincurve.PrivateKey], path_id: bytes) -> BlindedPath:
    ids = [node.public_key.format() for node in nodes]
    datas = [onion.encode_encrypted_data(next_node_id=nxt) for nxt in ids[1:]]
    datas.append(onion.encode_encrypted_data(path_id=path_id))
    return blinding.blind_path(session, ids[0], list(zip(ids, datas, strict=True)))


sessions = st.integers(1, 2**255).map(lambda k: k.to_bytes(32, "big"))


@SLOW
@given(
    sessions,
    sessions,
    st.lists(keys, min_size=1, max_size=3),
    st.binary(min_size=1, max_size=32),
    st.tuples(
        st.sampled_from([onion.INVOICE_REQUEST, onion.INVOICE, onion.INVOICE_ERROR]),
        st.binary(max_size=2000),
    ),
    st.none() | blinded_paths,
)
def test_onion_messages_travel_every_hop(
    path_session: bytes,
    onion_session: bytes,
    nodes: list[coincurve.PrivateKey],
    path_id: bytes,
    field: tuple[int, bytes],
    reply: BlindedPath | None,
) -> None:
    path = _message_path(path_session, nodes, path_id)
    final = _payload_records(None, reply, field)
    first, message = onion.build_reply(path, final, onion_session)
    assert first == nodes[0].public_key.format()
    assert len(message.packet) in (1366, 32834)
    assert onion.OnionMessage.from_payload(message.to_wire()[2:]) == message
    for index, node in enumerate(nodes):
        result = onion.peel_onion_message(node, message, accept_path_id=lambda p: p == path_id)
        if isinstance(result, onion.Forward):
            assert result.next_node_id == nodes[index + 1].public_key.format()
            message = result.message
    assert isinstance(result, onion.Received)
    assert result.payload.get(field[0]) == field[1]
    assert result.payload.reply_path == reply
    assert result.data.path_id == path_id


PATH = _message_path(b"\x31" * 32, [flow.INTRO, flow.NODE], b"ours")
_, MESSAGE = onion.build_onion_message(b"\x32" * 32, PATH, [(onion.INVOICE_REQUEST, b"req")])


@FAST
@given(st.data())
def test_mutated_onion_messages_raise_only_decode_errors(data: st.DataObject) -> None:
    def peel(raw: bytes) -> object:
        message = onion.OnionMessage.from_payload(raw)
        return onion.peel_onion_message(flow.INTRO, message, accept_path_id=bool)

    only_decode_errors(peel, mutate(data, MESSAGE.payload()))


@FAST
@given(odd_records(1, 2**20), st.integers(0, 2**19).map(lambda n: 2 * n), st.binary(max_size=8))
def test_onion_message_extensions_round_trip_and_change_nothing(
    extension: tuple[Record, ...], even_type: int, value: bytes
) -> None:
    """BOLT 1 ``extension`` after the packet: odd records are kept and change nothing."""
    extended = onion.OnionMessage(MESSAGE.path_key, MESSAGE.packet, extension)
    decoded = onion.OnionMessage.from_payload(extended.payload())
    assert decoded == extended
    assert decoded.payload() == MESSAGE.payload() + encode_stream(extension)
    peeled = onion.peel_onion_message(flow.INTRO, decoded, accept_path_id=bool)
    assert peeled == onion.peel_onion_message(flow.INTRO, MESSAGE, accept_path_id=bool)
    with pytest.raises(DecodeError, match="unknown even type"):
        onion.OnionMessage.from_payload(MESSAGE.payload() + encode_stream([(even_type, value)]))


@SLOW
@given(
    st.lists(st.tuples(keys, st.binary(max_size=80)), min_size=1, max_size=3),
    sessions,
    st.sampled_from([sphinx.PAYMENT_ONION_SIZE, sphinx.LARGE_ONION_SIZE]),
    st.data(),
)
def test_sphinx_packets_round_trip_and_survive_mutation(
    hops: list[tuple[coincurve.PrivateKey, bytes]],
    session: bytes,
    size: int,
    data: st.DataObject,
) -> None:
    framed = [(key.public_key.format(), encode_bigsize(len(p)) + p) for key, p in hops]
    packet = sphinx.build_packet(session, framed, b"", size)
    assert len(packet) == size + 66
    first_key = hops[0][0]
    current: bytes | None = packet
    for key, payload in hops:
        assert current is not None
        peeled = sphinx.peel_packet(key, current)
        assert peeled.payload == payload
        current = peeled.next_packet
    assert current is None
    only_decode_errors(lambda b: sphinx.peel_packet(first_key, b), mutate(data, packet))


@FAST
@given(keys, sessions, st.binary(max_size=300), st.data())
def test_garbage_inside_authentic_layers_raises_only_decode_errors(
    node: coincurve.PrivateKey, session: bytes, garbage: bytes, data: st.DataObject
) -> None:
    """The HMAC and the data's tag pass, but the cleartext is arbitrary."""
    node_id = node.public_key.format()
    mangled = mutate(data, onion.encode_encrypted_data(path_id=b"p"))
    path = blinding.blind_path(session, node_id, [(node_id, mangled)])
    hop_id = path.hops[0].blinded_node_id
    packet = sphinx.build_packet(session, [(hop_id, garbage)], b"", 1300)
    _, built = onion.build_onion_message(session, path, [(onion.INVOICE, garbage)])
    for message in (onion.OnionMessage(path.first_path_key, packet), built):
        with contextlib.suppress(DecodeError):
            onion.peel_onion_message(node, message, accept_path_id=bool)


# --- BOLT 8 handshake acts and transport frames ---------------------------------------------


def _handshake(
    ours: coincurve.PrivateKey,
    theirs: coincurve.PrivateKey,
    e1: coincurve.PrivateKey,
    e2: coincurve.PrivateKey,
) -> tuple[Initiator, Responder, bytes, bytes]:
    initiator = Initiator(ours, theirs.public_key.format(), e1)
    responder = Responder(theirs, e2)
    act_one = initiator.act_one()
    return initiator, responder, act_one, responder.act_two(act_one)


@SLOW
@given(keys, keys, keys, keys, st.lists(st.binary(max_size=300), max_size=4), st.data())
def test_noise_round_trips_and_mutated_acts_fail_cleanly(
    ours: coincurve.PrivateKey,
    theirs: coincurve.PrivateKey,
    e1: coincurve.PrivateKey,
    e2: coincurve.PrivateKey,
    messages: list[bytes],
    data: st.DataObject,
) -> None:
    initiator, responder, _, act_two = _handshake(ours, theirs, e1, e2)
    act_three, sender = initiator.act_three(act_two)
    remote, receiver = responder.finish(act_three)
    assert remote == ours.public_key.format()
    for message in messages:
        frame = sender.encrypt_message(message)
        size = receiver.decrypt_length(frame[:18])
        assert size == len(frame) - 18
        assert receiver.decrypt_body(frame[18:]) == message
    which = data.draw(st.sampled_from(["one", "two", "three", "frame"]))
    fresh_i, fresh_r, one, two = _handshake(ours, theirs, e1, e2)
    if which == "one":
        only_decode_errors(Responder(theirs, e2).act_two, mutate(data, one))
    elif which == "two":
        only_decode_errors(fresh_i.act_three, mutate(data, two))
    elif which == "three":
        three, _ = fresh_i.act_three(two)
        only_decode_errors(fresh_r.finish, mutate(data, three))
    else:
        frame = sender.encrypt_message(b"\x00\x12hello")
        only_decode_errors(lambda b: _decrypt_frame(receiver, b), mutate(data, frame))


def _decrypt_frame(pair: CipherPair, frame: bytes) -> bytes:
    size = pair.decrypt_length(frame[:18])
    return pair.decrypt_body(frame[18 : 18 + size])


# --- BOLT 1: init, ping/pong, warning/error, onion_message on a peer ------------------------


class _ScriptedStream(NoiseStream):
    """A NoiseStream stand-in: hands out ``inbox`` messages and records what is sent."""

    def __init__(self, inbox: list[bytes]) -> None:
        self.inbox = list(inbox)
        self.sent: list[bytes] = []
        self.remote_key = flow.NODE.public_key.format()

    async def send_message(self, message: bytes) -> None:
        self.sent.append(message)

    async def receive_message(self, *, body_timeout: float = 0) -> bytes:
        if not self.inbox:
            raise PeerClosed("script exhausted")
        return self.inbox.pop(0)


def _sent_by(action: Callable[[bolt1.Peer], Awaitable[None]]) -> bytes:
    stream = _ScriptedStream([])
    peer = bolt1.Peer(stream, bolt1.default_init([]))

    async def run() -> None:
        await action(peer)

    trio.run(run)
    (message,) = stream.sent
    return message


def _receive(inbox: list[bytes]) -> tuple[bolt1.Message, list[bytes]]:
    stream = _ScriptedStream(inbox)
    peer = bolt1.Peer(stream, bolt1.default_init([]))
    return trio.run(peer.receive), stream.sent


inits = st.builds(
    bolt1.Init,
    st.binary(max_size=8),
    st.none() | st.lists(st.binary(min_size=32, max_size=32), max_size=3).map(tuple),
    st.binary(max_size=4),
    odd_records(3, 999),
)


@FAST
@given(inits, st.data())
def test_init_round_trips_and_survives_mutation(init: bolt1.Init, data: st.DataObject) -> None:
    wire = init.to_wire()
    decoded = bolt1.Init.from_payload(wire[2:])
    size = max(len(init.features), len(init.global_features))
    combined = int.from_bytes(init.features, "big") | int.from_bytes(init.global_features, "big")
    assert decoded.features == combined.to_bytes(size, "big")
    assert (decoded.networks, decoded.global_features, decoded.extra) == (
        init.networks,
        init.global_features,
        init.extra,
    )
    only_decode_errors(bolt1.Init.from_payload, mutate(data, wire[2:]))


@FAST
@given(st.integers(0, 2**16 - 1), st.text(max_size=40), st.binary(min_size=32, max_size=32))
def test_ping_pong_warning_and_error_round_trip(
    pong_bytes: int, text: str, channel_id: bytes
) -> None:
    ping = _sent_by(lambda peer: peer.send_ping(pong_bytes))
    warning = _sent_by(lambda peer: peer.send_warning(text, channel_id))
    message, sent = _receive([ping, warning])
    assert message == bolt1.Message(bolt1.WARNING, warning[2:])
    assert bolt1.parse_warning(message.payload) == (channel_id, text)
    if pong_bytes <= bolt1.MAX_PONG_BYTES:
        assert sent == [
            bolt1.PONG.to_bytes(2, "big") + pong_bytes.to_bytes(2, "big") + bytes(pong_bytes)
        ]
    else:
        assert sent == []
    error = _sent_by(lambda peer: peer.send_error(text, channel_id))
    with pytest.raises(bolt1.PeerErrorReceived) as caught:
        _receive([sent[0] if sent else ping, error])
    assert (caught.value.channel_id, caught.value.text) == (channel_id, text)


_PEER_SAMPLES = [
    bolt1.PING.to_bytes(2, "big") + b"\x00\x04\x00\x02ab",
    bolt1.PONG.to_bytes(2, "big") + b"\x00\x02\x00\x00",
    _sent_by(lambda peer: peer.send_warning("careful")),
    _sent_by(lambda peer: peer.send_error("bye")),
    MESSAGE.to_wire(),
    bolt1.default_init([]).to_wire(),
]


@FAST
@given(st.sampled_from(_PEER_SAMPLES), st.data())
def test_mutated_peer_messages_raise_only_decode_errors(sample: bytes, data: st.DataObject) -> None:
    raw = mutate(data, sample)
    with contextlib.suppress(DecodeError, bolt1.PeerErrorReceived, PeerClosed):
        message, _ = _receive([raw])
        if message.type == bolt1.WARNING:
            bolt1.parse_warning(message.payload)
        elif message.type == bolt1.ONION_MESSAGE:
            onion.OnionMessage.from_payload(message.payload)


# --- Bolt12 strings ---------------------------------------------------------------------------

OFFER_TEXT = flow.make_offer().encode()


@FAST
@given(st.data())
def test_mutated_offer_strings_raise_only_decode_errors(data: st.DataObject) -> None:
    text = mutate(data, OFFER_TEXT.encode()).decode("latin-1")
    joined = "+\n ".join([text[:20], text[20:]]) if data.draw(st.booleans()) else text
    with contextlib.suppress(DecodeError):
        offer = Offer.decode(joined)
        assert Offer.decode(offer.encode()) == offer
