"""Onion messages (BOLT 4 type 513): build along a blinded path, peel one hop, reply.

An onion message is ``path_key || u16 len || packet``, then an optional BOLT 1
``extension`` TLV stream; each hop's payload is an ``onionmsg_tlv`` and carries
``encrypted_recipient_data`` from the blinded path. The final hop checks ``path_id``
(which proves the message came through a path we made).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import coincurve

from switchgeard.bolt12 import blinding, sphinx
from switchgeard.bolt12.paths import BlindedPath, check_point, decode_blinded_paths
from switchgeard.bolt12.tlv import Record, decode_stream, encode_stream, merge_records
from switchgeard.bolt12.wire import Reader, encode_bigsize
from switchgeard.errors import DecodeError

ONION_MESSAGE_TYPE = 513
ONION_MESSAGE_SIZE = sphinx.PAYMENT_ONION_SIZE
REPLY_PATH, ENCRYPTED_DATA, INVOICE_REQUEST, INVOICE, INVOICE_ERROR = 2, 4, 64, 66, 68
_PAYLOAD_FIELDS = (INVOICE_REQUEST, INVOICE, INVOICE_ERROR)
_ENCRYPTED_DATA_TYPES = frozenset({1, 2, 4, 6, 8, 10, 12, 14})


class PathIdRejected(DecodeError):
    """The final hop's ``path_id`` is absent or not one of ours: ignore the message."""


@dataclass(frozen=True, slots=True)
class OnionMessage:
    """The ``onion_message`` body: the blinding path key, the Sphinx packet and the BOLT 1
    ``extension`` that may follow them.

    BOLT 1 ("Lightning Message Format") lets every message end in an optional ``extension``
    TLV stream after its payload. No record is defined for ``onion_message``, so odd
    records are kept (they travel no further: a forwarded message starts without one) and
    an unknown even record or a malformed stream is a ``DecodeError``, as for ``init``
    (BOLT 1 Appendix C).
    """

    path_key: bytes
    packet: bytes
    extension: tuple[Record, ...] = ()

    @classmethod
    def from_payload(cls, data: bytes) -> OnionMessage:
        reader = Reader(data)
        path_key = check_point(reader.read(33, "onion_message path_key"), "path_key")
        packet = reader.read(reader.u16("onion_message len"), "onion_message packet")
        extension = decode_stream(reader.rest(), what="onion_message extension")
        return cls(path_key, packet, extension)

    def payload(self) -> bytes:
        sized = len(self.packet).to_bytes(2, "big") + self.packet
        return self.path_key + sized + encode_stream(self.extension)

    def to_wire(self) -> bytes:
        """The whole wire message, type 513 included."""
        return ONION_MESSAGE_TYPE.to_bytes(2, "big") + self.payload()


@dataclass(frozen=True, slots=True)
class EncryptedData:
    """An ``encrypted_data_tlv`` (what the path creator tells one hop)."""

    records: tuple[Record, ...]

    @classmethod
    def decode(cls, data: bytes) -> EncryptedData:
        records = decode_stream(data, known=_ENCRYPTED_DATA_TYPES, what="encrypted_data_tlv")
        found = cls(records)
        for tlv_type in (4, 8):
            if (value := found.get(tlv_type)) is not None:
                check_point(value, f"encrypted_data_tlv type {tlv_type}")
        return found

    def get(self, tlv_type: int) -> bytes | None:
        return dict(self.records).get(tlv_type)

    @property
    def next_node_id(self) -> bytes | None:
        return self.get(4)

    @property
    def path_id(self) -> bytes | None:
        return self.get(6)

    @property
    def next_path_key_override(self) -> bytes | None:
        return self.get(8)


def encode_encrypted_data(
    *,
    next_node_id: bytes | None = None,
    path_id: bytes | None = None,
    next_path_key_override: bytes | None = None,
    padding: int = 0,
    extra: Iterable[Record] = (),
) -> bytes:
    """Build an ``encrypted_data_tlv`` for one hop of a message path."""
    records: list[Record] = [(1, bytes(padding))] if padding else []
    for tlv_type, value in ((4, next_node_id), (6, path_id), (8, next_path_key_override)):
        if value is not None:
            records.append((tlv_type, value))
    return encode_stream(merge_records(records, extra))


@dataclass(frozen=True, slots=True)
class OnionMessagePayload:
    """An ``onionmsg_tlv``. Unknown odd records are kept in ``records``."""

    records: tuple[Record, ...]
    reply_path: BlindedPath | None

    @classmethod
    def decode(cls, data: bytes) -> OnionMessagePayload:
        known = frozenset({REPLY_PATH, ENCRYPTED_DATA, *_PAYLOAD_FIELDS})
        records = decode_stream(data, known=known, what="onionmsg_tlv")
        reply = dict(records).get(REPLY_PATH)
        paths = None if reply is None else decode_blinded_paths(reply, "reply_path")
        if paths is not None and len(paths) != 1:
            raise DecodeError("reply_path: exactly one blinded path expected")
        return cls(records, None if paths is None else paths[0])

    def get(self, tlv_type: int) -> bytes | None:
        return dict(self.records).get(tlv_type)

    @property
    def encrypted_recipient_data(self) -> bytes | None:
        return self.get(ENCRYPTED_DATA)


def prepend_hop(path: BlindedPath, via_node_id: bytes, session_key: bytes) -> BlindedPath:
    """Reach ``path`` through ``via_node_id``: a new first hop whose data names the old
    introduction node and overrides the next path key with the old first path key."""
    if len(path.first_node_id) != 33:
        raise ValueError("cannot prepend a hop to a path introduced by a short channel id")
    data = encode_encrypted_data(
        next_node_id=path.first_node_id, next_path_key_override=path.first_path_key
    )
    head = blinding.blind_path(session_key, via_node_id, [(via_node_id, data)])
    return BlindedPath(via_node_id, head.first_path_key, head.hops + path.hops)


def build_onion_message(
    session_key: bytes,
    path: BlindedPath,
    final_records: Sequence[Record],
    *,
    size: int = ONION_MESSAGE_SIZE,
) -> tuple[bytes, OnionMessage]:
    """Address ``final_records`` (e.g. ``[(66, invoice)]``) to the end of ``path``.

    Returns the node to hand the message to (``path.first_node_id``) and the message.
    """
    hops = []
    for index, hop in enumerate(path.hops):
        records: list[Record] = [(ENCRYPTED_DATA, hop.encrypted_recipient_data)]
        if index == len(path.hops) - 1:
            records = list(merge_records(records, final_records))
        payload = encode_stream(records)
        hops.append((hop.blinded_node_id, encode_bigsize(len(payload)) + payload))
    packet = sphinx.build_packet(session_key, hops, b"", size)
    return path.first_node_id, OnionMessage(path.first_path_key, packet)


def build_reply(
    reply_path: BlindedPath, final_records: Sequence[Record], session_key: bytes
) -> tuple[bytes, OnionMessage]:
    """The answer to a message that carried ``reply_path``; 32834-byte packet if needed."""
    try:
        return build_onion_message(session_key, reply_path, final_records)
    except ValueError:
        return build_onion_message(
            session_key, reply_path, final_records, size=sphinx.LARGE_ONION_SIZE
        )


@dataclass(frozen=True, slots=True)
class Forward:
    """Not for us: send ``message`` to ``next_node_id``."""

    next_node_id: bytes
    message: OnionMessage


@dataclass(frozen=True, slots=True)
class Received:
    """For us: the payload and the decrypted data of our (final) hop."""

    payload: OnionMessagePayload
    data: EncryptedData


def peel_onion_message(
    node_key: coincurve.PrivateKey,
    message: OnionMessage,
    *,
    accept_path_id: Callable[[bytes | None], bool],
) -> Forward | Received:
    """Decrypt one layer. Raises DecodeError (PathIdRejected for a foreign path_id)."""
    shared = blinding.ecdh(node_key, message.path_key)
    blinded_secret = node_key.multiply(blinding.hmac256(b"blinded_node_id", shared))
    peeled = sphinx.peel_packet(blinded_secret, message.packet)
    payload = OnionMessagePayload.decode(peeled.payload)
    encrypted = payload.encrypted_recipient_data
    if encrypted is None:
        raise DecodeError("onion message without encrypted_recipient_data")
    data = EncryptedData.decode(blinding.decrypt_data(shared, encrypted))
    if peeled.next_packet is None:
        if sum(payload.get(t) is not None for t in _PAYLOAD_FIELDS) > 1:
            raise DecodeError("onion message carries more than one payload field")
        if not accept_path_id(data.path_id):
            raise PathIdRejected("onion message path_id is absent or not ours")
        return Received(payload, data)
    return _forward(message, payload, data, shared, peeled.next_packet)


def _forward(
    message: OnionMessage,
    payload: OnionMessagePayload,
    data: EncryptedData,
    shared: bytes,
    next_packet: bytes,
) -> Forward:
    if any(tlv_type != ENCRYPTED_DATA for tlv_type, _ in payload.records):
        raise DecodeError("intermediate onion message hop carries more than encrypted data")
    if data.path_id is not None or data.next_node_id is None:
        raise DecodeError("intermediate hop data needs next_node_id and no path_id")
    next_key = data.next_path_key_override or blinding.next_point(message.path_key, shared)
    return Forward(data.next_node_id, OnionMessage(next_key, next_packet))
