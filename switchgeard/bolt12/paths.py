"""Shared BOLT 4/12 subtypes: points, feature bitmaps, blinded paths and blinded_payinfo."""

from __future__ import annotations

from dataclasses import dataclass

import coincurve

from switchgeard.bolt12.wire import Reader
from switchgeard.errors import DecodeError

POINT_SIZE = 33
SCIDDIR_SIZE = 9


def check_point(data: bytes, what: str) -> bytes:
    """Return ``data`` if it is a valid compressed secp256k1 point, else raise DecodeError."""
    if len(data) != POINT_SIZE or data[0] not in (2, 3):
        raise DecodeError(f"{what}: not a compressed public key")
    try:
        coincurve.PublicKey(data)
    except ValueError:
        raise DecodeError(f"{what}: not a point on the curve") from None
    return data


def read_point(reader: Reader, what: str) -> bytes:
    return check_point(reader.read(POINT_SIZE, what), what)


def feature_bits(features: bytes) -> list[int]:
    """The set bits of a big-endian feature bitmap, lowest first."""
    value = int.from_bytes(features, "big")
    return [bit for bit in range(value.bit_length()) if value >> bit & 1]


def unknown_even_bits(features: bytes, known: frozenset[int]) -> list[int]:
    """Even (compulsory) bits that are set but not in ``known``."""
    return [bit for bit in feature_bits(features) if bit % 2 == 0 and bit not in known]


def features_from_bits(bits: list[int] | tuple[int, ...]) -> bytes:
    """A minimal big-endian bitmap with ``bits`` set (empty for no bits)."""
    value = 0
    for bit in bits:
        value |= 1 << bit
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


@dataclass(frozen=True, slots=True)
class BlindedHop:
    """One ``onionmsg_hop``: a blinded node id and the data only that node can decrypt."""

    blinded_node_id: bytes
    encrypted_recipient_data: bytes


@dataclass(frozen=True, slots=True)
class BlindedPath:
    """A ``blinded_path``. ``first_node_id`` is a 33-byte point or a 9-byte sciddir."""

    first_node_id: bytes
    first_path_key: bytes
    hops: tuple[BlindedHop, ...]

    @property
    def final_node_id(self) -> bytes:
        return self.hops[-1].blinded_node_id

    def encode(self) -> bytes:
        out = bytearray(self.first_node_id + self.first_path_key)
        out.append(len(self.hops))
        for hop in self.hops:
            out += hop.blinded_node_id
            out += len(hop.encrypted_recipient_data).to_bytes(2, "big")
            out += hop.encrypted_recipient_data
        return bytes(out)


def read_blinded_path(reader: Reader, what: str) -> BlindedPath:
    """Read one ``blinded_path``; zero hops and invalid points are DecodeErrors."""
    kind = reader.read(1, f"{what} first_node_id")
    if kind[0] in (0, 1):
        first = kind + reader.read(SCIDDIR_SIZE - 1, f"{what} first_node_id")
    else:
        first = check_point(kind + reader.read(POINT_SIZE - 1, f"{what} first_node_id"), what)
    path_key = read_point(reader, f"{what} first_path_key")
    count = reader.u8(f"{what} num_hops")
    if count == 0:
        raise DecodeError(f"{what}: num_hops is 0")
    hops = []
    for index in range(count):
        node = read_point(reader, f"{what} hop {index} blinded_node_id")
        size = reader.u16(f"{what} hop {index} enclen")
        hops.append(BlindedHop(node, reader.read(size, f"{what} hop {index} encrypted data")))
    return BlindedPath(first, path_key, tuple(hops))


def decode_blinded_paths(data: bytes, what: str) -> tuple[BlindedPath, ...]:
    """Decode a non-empty concatenation of blinded paths filling ``data``."""
    reader = Reader(data)
    paths: list[BlindedPath] = []
    while not reader.at_end():
        paths.append(read_blinded_path(reader, f"{what}[{len(paths)}]"))
    if not paths:
        raise DecodeError(f"{what}: no paths")
    return tuple(paths)


def encode_blinded_paths(paths: tuple[BlindedPath, ...]) -> bytes:
    return b"".join(path.encode() for path in paths)


@dataclass(frozen=True, slots=True)
class BlindedPayInfo:
    """``blinded_payinfo``: aggregate fees and limits of one invoice payment path."""

    fee_base_msat: int
    fee_proportional_millionths: int
    cltv_expiry_delta: int
    htlc_minimum_msat: int
    htlc_maximum_msat: int
    features: bytes = b""

    def encode(self) -> bytes:
        return (
            self.fee_base_msat.to_bytes(4, "big")
            + self.fee_proportional_millionths.to_bytes(4, "big")
            + self.cltv_expiry_delta.to_bytes(2, "big")
            + self.htlc_minimum_msat.to_bytes(8, "big")
            + self.htlc_maximum_msat.to_bytes(8, "big")
            + len(self.features).to_bytes(2, "big")
            + self.features
        )


def decode_payinfos(data: bytes, what: str) -> tuple[BlindedPayInfo, ...]:
    reader = Reader(data)
    infos: list[BlindedPayInfo] = []
    while not reader.at_end():
        at = f"{what}[{len(infos)}]"
        infos.append(
            BlindedPayInfo(
                fee_base_msat=reader.u32(f"{at} fee_base_msat"),
                fee_proportional_millionths=reader.u32(f"{at} fee_proportional_millionths"),
                cltv_expiry_delta=reader.u16(f"{at} cltv_expiry_delta"),
                htlc_minimum_msat=reader.u64(f"{at} htlc_minimum_msat"),
                htlc_maximum_msat=reader.u64(f"{at} htlc_maximum_msat"),
                features=reader.read(reader.u16(f"{at} flen"), f"{at} features"),
            )
        )
    return tuple(infos)


def encode_payinfos(infos: tuple[BlindedPayInfo, ...]) -> bytes:
    return b"".join(info.encode() for info in infos)
