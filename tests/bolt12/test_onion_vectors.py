"""Route blinding, generic Sphinx and onion messages against the BOLT 4 vectors."""

from __future__ import annotations

from typing import Any

import coincurve
import pytest

from switchgeard.bolt12 import blinding, onion, sphinx
from switchgeard.bolt12.paths import BlindedPath
from switchgeard.errors import DecodeError

from .conftest import load_vectors, record_vectors


def test_route_blinding_create() -> None:
    data = load_vectors("bolt04/route-blinding-test.json")
    hops = data["generate"]["hops"]
    first = [(bytes.fromhex(h["node_id"]), bytes.fromhex(h["encoded_tlvs"])) for h in hops[:2]]
    second = [(bytes.fromhex(h["node_id"]), bytes.fromhex(h["encoded_tlvs"])) for h in hops[2:]]
    bob = blinding.blind_path(bytes.fromhex(hops[0]["session_key"]), first[0][0], first)
    dave = blinding.blind_path(bytes.fromhex(hops[2]["session_key"]), second[0][0], second)
    assert bob.first_path_key.hex() == data["route"]["first_path_key"]
    assert dave.first_path_key.hex() == hops[2]["path_key"]
    route = bob.hops + dave.hops
    for hop, expected in zip(route, data["route"]["hops"], strict=True):
        assert hop.blinded_node_id.hex() == expected["blinded_node_id"]
        assert hop.encrypted_recipient_data.hex() == expected["encrypted_data"]
    record_vectors("BOLT 4 route-blinding create (hops)", len(route))


def test_route_blinding_unblind() -> None:
    data = load_vectors("bolt04/route-blinding-test.json")
    route = data["route"]["hops"]
    hops = data["unblind"]["hops"]
    for hop, blinded in zip(hops, route, strict=True):
        key = coincurve.PrivateKey(bytes.fromhex(hop["node_privkey"]))
        out = blinding.unblind(
            key, bytes.fromhex(hop["path_key"]), bytes.fromhex(blinded["encrypted_data"])
        )
        assert out.data.hex() == hop["decrypted_data"]
        assert out.blinded_secret.secret.hex() == hop["blinded_privkey"]
        assert out.next_path_key.hex() == hop["next_path_key"]
        assert out.blinded_secret.public_key.format().hex() == blinded["blinded_node_id"]
    assert len(hops) == 4
    record_vectors("BOLT 4 route-blinding unblind (hops)", len(hops))


def test_generic_sphinx_onion() -> None:
    data = load_vectors("bolt04/onion-test.json")
    gen = data["generate"]
    hops = [(bytes.fromhex(h["pubkey"]), bytes.fromhex(h["payload"])) for h in gen["hops"]]
    ad = bytes.fromhex(gen["associated_data"])
    packet = sphinx.build_packet(bytes.fromhex(gen["session_key"]), hops, ad)
    assert packet.hex() == data["onion"]
    # Every hop peels its own payload; the last one sees a zero next hmac.
    privkeys = [bytes([0x41 + i]) * 32 for i in range(len(hops))]
    for index, secret in enumerate(privkeys):
        key = coincurve.PrivateKey(secret)
        assert key.public_key.format() == hops[index][0]
        peeled = sphinx.peel_packet(key, packet, ad)
        assert peeled.payload == hops[index][1][-len(peeled.payload) :]
        if index < len(hops) - 1:
            assert peeled.next_packet is not None
            packet = peeled.next_packet
        else:
            assert peeled.next_packet is None
    record_vectors("BOLT 4 onion-test (Sphinx hops built and peeled)", len(hops))


def _message_vector_path(data: dict[str, Any]) -> BlindedPath:
    hops = data["generate"]["hops"]
    nodes = [bytes.fromhex(h["tlvs"]["next_node_id"]) for h in hops[:3]]
    plain = [bytes.fromhex(h["encrypted_data_tlv"]) for h in hops[1:]]
    dave = blinding.blind_path(
        bytes.fromhex(hops[1]["path_key_secret"]), nodes[0], list(zip(nodes, plain, strict=True))
    )
    return onion.prepend_hop(dave, _ALICE, bytes.fromhex(hops[0]["path_key_secret"]))


_ALICE = coincurve.PrivateKey(b"\x41" * 32).public_key.format()


def test_blinded_onion_message_build_and_peel() -> None:
    data = load_vectors("bolt04/blinded-onion-message-onion-test.json")
    path = _message_vector_path(data)
    route = data["route"]
    assert path.first_node_id.hex() == route["first_node_id"]
    assert path.first_path_key.hex() == route["first_path_key"]
    for hop, expected in zip(path.hops, route["hops"], strict=True):
        assert hop.blinded_node_id.hex() == expected["blinded_node_id"]
        assert hop.encrypted_recipient_data.hex() == expected["encrypted_recipient_data"]
    hello = bytes.fromhex(data["onionmessage"]["unknown_tag_1"])
    first, message = onion.build_onion_message(
        bytes.fromhex(data["generate"]["session_key"]), path, [(1, hello)]
    )
    assert first == _ALICE
    assert len(message.packet) == 1366
    assert message.packet.hex() == data["onionmessage"]["onion_message_packet"]
    decrypt = data["decrypt"]["hops"]
    for index, hop in enumerate(decrypt):
        assert message.to_wire().hex() == hop["onion_message"]
        assert onion.OnionMessage.from_payload(message.payload()) == message
        key = coincurve.PrivateKey(bytes.fromhex(hop["privkey"]))
        out = onion.peel_onion_message(key, message, accept_path_id=lambda p: p == _DAVE_PATH_ID)
        if index < len(decrypt) - 1:
            assert isinstance(out, onion.Forward)
            assert out.next_node_id.hex() == hop["next_node_id"]
            message = out.message
        else:
            assert isinstance(out, onion.Received)
            assert out.payload.get(1) == hello
            assert (
                out.payload.encrypted_recipient_data.hex()
                == hop["tlvs"][  # type: ignore[union-attr]
                    "encrypted_recipient_data"
                ]
            )
    assert len(decrypt) == 4
    record_vectors("BOLT 4 blinded onion message (1366-byte packet, hops peeled)", len(decrypt))


_DAVE_PATH_ID = bytes.fromhex("deadbeefbadc0ffeedeadbeefbadc0ffeedeadbeefbadc0ffeedeadbeefbadc0")


def test_final_hop_rejects_a_foreign_path_id() -> None:
    data = load_vectors("bolt04/blinded-onion-message-onion-test.json")
    dave = coincurve.PrivateKey(b"\x44" * 32)
    wire = bytes.fromhex(data["decrypt"]["hops"][3]["onion_message"])
    message = onion.OnionMessage.from_payload(wire[2:])
    with pytest.raises(onion.PathIdRejected):
        onion.peel_onion_message(dave, message, accept_path_id=lambda p: p == b"other")
    tampered = onion.OnionMessage(message.path_key, message.packet[:-1] + b"\x00")
    with pytest.raises(DecodeError, match="hmac"):
        onion.peel_onion_message(dave, tampered, accept_path_id=lambda p: True)


def test_onion_message_extension_follows_bolt1() -> None:
    """BOLT 1: any message may end in an ``extension`` TLV stream after its payload.

    The extensions of the BOLT 1 Appendix C ``init`` vectors, appended to the BOLT 4
    onion message vector: the valid ones are accepted (odd records kept, the message
    still peels), the invalid ones (truncated, unknown even type, repeated type) refused.
    """
    extensions = load_vectors("extracted/bolt01-init-extension-vectors.json")
    base_init = bytes.fromhex(extensions["base_init"])
    vector = load_vectors("bolt04/blinded-onion-message-onion-test.json")
    hop = vector["decrypt"]["hops"][0]
    wire = bytes.fromhex(hop["onion_message"])
    alice = coincurve.PrivateKey(bytes.fromhex(hop["privkey"]))
    for case in extensions["cases"]:
        raw = bytes.fromhex(case["msg"])
        assert raw.startswith(base_init)
        extension = raw[len(base_init) :]
        if not case["valid"]:
            with pytest.raises(DecodeError, match="onion_message extension"):
                onion.OnionMessage.from_payload(wire[2:] + extension)
            continue
        message = onion.OnionMessage.from_payload(wire[2:] + extension)
        assert message.to_wire() == wire + extension
        assert [t for t, _ in message.extension] == ([0xC9, 0xCB] if extension else [])
        forward = onion.peel_onion_message(alice, message, accept_path_id=lambda p: False)
        assert isinstance(forward, onion.Forward)
        assert forward.message.extension == ()  # the extension went no further than us
        assert forward.message.to_wire().hex() == vector["decrypt"]["hops"][1]["onion_message"]
    assert len(extensions["cases"]) == 5
    record_vectors("BOLT 1 extension on onion_message (2 valid / 3 invalid)", 5)
