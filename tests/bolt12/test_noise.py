"""BOLT 8 handshake and transport against Appendix A (16 cases incl. every failure code)."""

from __future__ import annotations

from typing import Any

import coincurve
import pytest

from switchgeard.bolt12.noise import CipherPair, HandshakeError, Initiator, Responder

from .conftest import load_vectors, record_vectors


def _key(case: dict[str, Any], name: str) -> coincurve.PrivateKey:
    return coincurve.PrivateKey(bytes.fromhex(case[name]))


def _run_initiator(case: dict[str, Any]) -> CipherPair | None:
    initiator = Initiator(
        _key(case, "ls.priv"), bytes.fromhex(case["rs.pub"]), _key(case, "e.priv")
    )
    steps = case["steps"]
    assert initiator.act_one().hex() == steps[0]["hex"]
    act_two = bytes.fromhex(steps[1]["hex"])
    if "error" in steps[2]:
        with pytest.raises(HandshakeError) as caught:
            initiator.act_three(act_two)
        assert steps[2]["error"].startswith(f"ERROR ({caught.value.code}")
        return None
    act_three, pair = initiator.act_three(act_two)
    assert act_three.hex() == steps[2]["hex"]
    assert (pair.send.key.hex(), pair.receive.key.hex()) == (steps[3]["sk"], steps[3]["rk"])
    return pair


def _run_responder(case: dict[str, Any]) -> None:
    responder = Responder(_key(case, "ls.priv"), _key(case, "e.priv"))
    steps = case["steps"]
    act_one = bytes.fromhex(steps[0]["hex"])
    if "error" in steps[1]:
        with pytest.raises(HandshakeError) as caught:
            responder.act_two(act_one)
        assert steps[1]["error"].startswith(f"ERROR ({caught.value.code}")
        return
    assert responder.act_two(act_one).hex() == steps[1]["hex"]
    act_three = bytes.fromhex(steps[2]["hex"])
    if "error" in steps[3]:
        with pytest.raises(HandshakeError) as caught:
            responder.finish(act_three)
        assert steps[3]["error"].startswith(f"ERROR ({caught.value.code}")
        return
    remote, pair = responder.finish(act_three)
    assert remote == coincurve.PrivateKey(b"\x11" * 32).public_key.format()
    assert (pair.send.key.hex(), pair.receive.key.hex()) == (steps[3]["sk"], steps[3]["rk"])


def test_transport_vectors() -> None:
    cases = load_vectors("extracted/bolt08-transport-vectors.json")["cases"]
    failures = set()
    pair = None
    for case in cases:
        if case["name"].startswith("transport-initiator"):
            pair = _run_initiator(case) or pair
        elif case["name"].startswith("transport-responder"):
            _run_responder(case)
        failures |= {s["error"] for s in case["steps"] if "error" in s}
    assert pair is not None
    message = cases[-1]
    assert (pair.send.key.hex(), pair.receive.key.hex()) == (message["sk"], message["rk"])
    outputs = {}
    for index in range(1002):
        encrypted = pair.encrypt_message(b"hello")
        if str(index) in message["message_outputs"]:
            outputs[str(index)] = encrypted.hex()
    assert outputs == message["message_outputs"]
    assert sorted(outputs, key=int) == ["0", "1", "500", "501", "1000", "1001"]
    assert (len(cases), len(failures)) == (16, 13)
    record_vectors("BOLT 8 transport (5 initiator, 10 responder, 1 rotation; 13 failures)", 16)


def test_transport_round_trip_across_rotations() -> None:
    initiator = Initiator(coincurve.PrivateKey(b"\x11" * 32), _RESPONDER.public_key.format())
    responder = Responder(_RESPONDER)
    act_three, ours = initiator.act_three(responder.act_two(initiator.act_one()))
    remote, theirs = responder.finish(act_three)
    assert remote == coincurve.PrivateKey(b"\x11" * 32).public_key.format()
    for index in range(1200):
        frame = ours.encrypt_message(index.to_bytes(4, "big"))
        size = theirs.decrypt_length(frame[:18])
        assert theirs.decrypt_body(frame[18 : 18 + size]) == index.to_bytes(4, "big")


_RESPONDER = coincurve.PrivateKey(b"\x21" * 32)
