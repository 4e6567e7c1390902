"""Value types for money and identifiers. Money is integer millisatoshis, never a float."""

from __future__ import annotations

from typing import NewType, SupportsIndex

MSAT_PER_SAT = 1000
MSAT_PER_BTC = 100_000_000_000


class Msat(int):
    """An amount in millisatoshis: an int that refuses to be negative.

    Arithmetic that could produce a negative amount raises ``ValueError``. Floats and
    bools are refused at construction so a unit mistake cannot pass silently.
    """

    __slots__ = ()

    def __new__(cls, value: SupportsIndex) -> Msat:
        if isinstance(value, bool) or not hasattr(value, "__index__"):
            raise TypeError(f"Msat needs an integer, got {type(value).__name__}")
        number = int(value.__index__())
        if number < 0:
            raise ValueError(f"Msat cannot be negative: {number}")
        return super().__new__(cls, number)

    @classmethod
    def from_sat(cls, sat: int) -> Msat:
        return cls(sat * MSAT_PER_SAT)

    @classmethod
    def parse(cls, text: str) -> Msat:
        """Parse a decimal integer string (as wallets send ``amount=``)."""
        stripped = text.strip()
        if not stripped.isdigit() or not stripped.isascii():
            raise ValueError(f"not a non-negative integer: {text!r}")
        return cls(int(stripped))

    def to_sat_floor(self) -> int:
        return int(self) // MSAT_PER_SAT

    def to_sat_exact(self) -> int:
        sat, rest = divmod(int(self), MSAT_PER_SAT)
        if rest:
            raise ValueError(f"{int(self)} msat is not a whole number of satoshis")
        return sat

    def __add__(self, other: int) -> Msat:
        return Msat(int(self) + int(other))

    def __sub__(self, other: int) -> Msat:
        return Msat(int(self) - int(other))

    def __repr__(self) -> str:
        return f"Msat({int(self)})"


NodeKey = NewType("NodeKey", str)
"""A node public key: 66 lowercase hex characters (33-byte compressed secp256k1)."""

PaymentHash = NewType("PaymentHash", str)
"""A payment hash: 64 lowercase hex characters."""

Partition = NewType("Partition", str)
"""A partition name grouping offers and backends."""
