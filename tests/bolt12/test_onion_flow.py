"""An invoice_request travels an offer path (intro node, then us) and the invoice goes
back along the payer's reply path, with a hop prepended in front of it."""

from __future__ import annotations

import coincurve
import pytest
import trio
import trio.testing

from switchgeard.bolt12 import blinding, onion
from switchgeard.bolt12.generate import is_our_path_id
from switchgeard.bolt12.messages import Invoice, InvoiceRequest
from switchgeard.bolt12.transport import (
    NoiseStream,
    PeerTimeout,
    handshake_inbound,
    handshake_outbound,
)

from . import flow

PAYER_NODE = coincurve.PrivateKey(b"\xa1" * 32)
CARRIER = coincurve.PrivateKey(b"\xa2" * 32)


def test_request_in_and_invoice_out() -> None:
    offer = flow.make_offer()
    request = flow.make_request(offer)
    reply_path = blinding.blind_path(
        b"\xb1" * 32,
        PAYER_NODE.public_key.format(),
        [(PAYER_NODE.public_key.format(), onion.encode_encrypted_data(path_id=b"payer"))],
    )
    first, message = onion.build_onion_message(
        b"\xb2" * 32,
        (offer.offer.paths or ())[0],
        [(onion.REPLY_PATH, reply_path.encode()), (onion.INVOICE_REQUEST, request.to_bytes())],
    )
    assert first == flow.INTRO.public_key.format()
    row = flow.Row()

    def ours(found: bytes | None) -> bool:
        return is_our_path_id(flow.SEED, row.partition, row.id, found)

    hop = onion.peel_onion_message(flow.INTRO, message, accept_path_id=ours)
    assert isinstance(hop, onion.Forward) and hop.next_node_id == flow.NODE.public_key.format()
    with pytest.raises(onion.PathIdRejected):
        onion.peel_onion_message(flow.NODE, hop.message, accept_path_id=lambda found: False)
    got = onion.peel_onion_message(flow.NODE, hop.message, accept_path_id=ours)
    assert isinstance(got, onion.Received) and got.payload.reply_path == reply_path
    received = InvoiceRequest.from_bytes(got.payload.get(onion.INVOICE_REQUEST) or b"")
    invoice = flow.make_invoice(received)
    via = onion.prepend_hop(reply_path, CARRIER.public_key.format(), b"\xb3" * 32)
    first, reply = onion.build_reply(via, [(onion.INVOICE, invoice.to_bytes())], b"\xb4" * 32)
    assert first == CARRIER.public_key.format()
    hop = onion.peel_onion_message(CARRIER, reply, accept_path_id=lambda found: False)
    assert isinstance(hop, onion.Forward)
    assert hop.message.path_key == reply_path.first_path_key  # next_path_key_override
    done = onion.peel_onion_message(PAYER_NODE, hop.message, accept_path_id=lambda p: p == b"payer")
    assert isinstance(done, onion.Received)
    assert Invoice.from_bytes(done.payload.get(onion.INVOICE) or b"") == invoice


def test_large_replies_use_the_32834_byte_packet() -> None:
    path = blinding.blind_path(
        b"\xc1" * 32,
        PAYER_NODE.public_key.format(),
        [(PAYER_NODE.public_key.format(), onion.encode_encrypted_data(path_id=b"p"))],
    )
    _, small = onion.build_reply(path, [(onion.INVOICE, b"x" * 100)], b"\xc2" * 32)
    _, large = onion.build_reply(path, [(onion.INVOICE, b"x" * 5000)], b"\xc2" * 32)
    assert (len(small.packet), len(large.packet)) == (1366, 32834)
    done = onion.peel_onion_message(PAYER_NODE, large, accept_path_id=lambda p: p == b"p")
    assert isinstance(done, onion.Received) and done.payload.get(onion.INVOICE) == b"x" * 5000


async def test_a_stalled_message_body_times_out(autojump_clock: trio.testing.MockClock) -> None:
    left, right = trio.testing.memory_stream_pair()
    accepted: list[NoiseStream] = []

    async def accept() -> None:
        accepted.append(await handshake_inbound(right, CARRIER))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(accept)
        ours = await handshake_outbound(left, PAYER_NODE, CARRIER.public_key.format())
    frame = ours._ciphers.encrypt_message(b"\x80\x01 body that never arrives")
    await left.send_all(frame[:20])
    with pytest.raises(PeerTimeout):
        await accepted[0].receive_message(body_timeout=5)
