"""``NodeAdapter``: what the LND and CLN adapters share.

Who the node is, its connection, the identity check on ``status`` and the validation of
every invoice a node returns.

Calls and the long-lived settlement watch share one channel (one ``Rpc``): one
connection per node, and a channel that always has a call outstanding, which the
transport handles more cheaply (see ``_bridge``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Generic

import trio

from switchgeard.config.model import LightningConfig
from switchgeard.errors import BackendProtocolError
from switchgeard.lightning.credentials import Identity, Trust
from switchgeard.lightning.interface import Invoice
from switchgeard.lightning.rpc import Rpc, StubT, make_target
from switchgeard.lightning.translate import Context
from switchgeard.lightning.validate import Expected, check_invoice
from switchgeard.units import Msat, NodeKey, PaymentHash


@dataclass(frozen=True, slots=True, kw_only=True)
class Dial:
    """How to reach a node and what error messages say about it."""

    url: str
    domain: str | None
    trust: Trust
    trusted: tuple[str | Path, ...]
    """The files the server certificate is checked against (besides system roots)."""
    credential: str
    mutual_tls: bool = False


class NodeAdapter(Generic[StubT]):
    """Base of the node adapters; ``rpc`` serves calls and the settlement watch."""

    def __init__(
        self, who: Identity, cfg: LightningConfig, dial: Dial, stub_class: type[StubT]
    ) -> None:
        self._key = NodeKey(who.key)
        self._name = who.name
        self._cfg = cfg
        target = make_target(dial.url, dial.domain, dial.trust, who)
        context = Context(
            who=who,
            target=str(target),
            server_roots=", ".join(map(str, dial.trusted)) or "system roots",
            credential=dial.credential,
            mutual_tls=dial.mutual_tls,
            timeout=float(cfg.call_timeout),
        )
        self.rpc = Rpc(target, stub_class, context)

    @property
    def key(self) -> NodeKey:
        return self._key

    @property
    def name(self) -> str:
        return self._name

    def _checked_invoice(
        self,
        bolt11: str,
        payment_hash: bytes,
        *,
        amount_msat: Msat,
        description: str,
        description_hash_only: bool,
        expiry: int,
    ) -> Invoice:
        """The node's answer to an invoice request, validated against what was asked."""
        expected = Expected(
            amount_msat=amount_msat,
            description=description,
            description_hash_only=description_hash_only,
            network=self._cfg.network,
            payee=self._key,
            payment_hash=payment_hash.hex(),
            expiry=expiry,
        )
        decoded = check_invoice(bolt11, expected, key=self._key, name=self._name)
        return Invoice(
            bolt11=bolt11,
            payment_hash=PaymentHash(decoded.payment_hash),
            expires_at=decoded.expires_at,
        )

    def _check_identity(self, pubkey: str, network: str) -> None:
        if pubkey != self._key:
            message = f"node identity {pubkey} is not the configured key {self._key}"
            raise BackendProtocolError(message, key=self._key, name=self._name)
        if network != self._cfg.network:
            message = f"node runs on {network}, configured network is {self._cfg.network}"
            raise BackendProtocolError(message, key=self._key, name=self._name)

    async def aclose(self) -> None:
        with trio.CancelScope(shield=True):
            await self.rpc.aclose()
