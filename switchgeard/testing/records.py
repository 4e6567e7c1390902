"""Store records pointing at fake nodes, for the demo, the e2e tests and the benchmarks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from switchgeard.store.records import Backend, ClnGrpc, LndGrpc
from switchgeard.units import NodeKey


def backend_from_info(info: Mapping[str, Any], name: str, **changes: Any) -> Backend:
    """The backend record for a fake node described by its ``info()`` / info.json.

    Defaults: partition ``default``, weight 1, enabled; ``changes`` override any field.
    """
    implementation: LndGrpc | ClnGrpc
    if info["kind"] == "lnd":
        implementation = LndGrpc(
            url=info["url"],
            tls_cert_path=info["tls_cert_path"],
            macaroon_path=info["macaroon_path"],
        )
    else:
        implementation = ClnGrpc(
            url=info["url"],
            domain=info["domain"],
            ca_cert_path=info["ca_cert_path"],
            client_cert_path=info["client_cert_path"],
            client_key_path=info["client_key_path"],
        )
    backend = Backend(
        public_key=NodeKey(info["pubkey"]),
        name=name,
        partitions=frozenset({"default"}),
        weight=1,
        enabled=True,
        implementation=implementation,
    )
    return replace(backend, **changes)
