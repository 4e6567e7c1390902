"""The public LNURL-pay HTTP service (LUD-01/06/11/12/17/21): offers, callbacks, verify, QR.

Imports balancer, store and lightning only through the narrow protocols declared in
``pay`` and ``verify``; never concrete adapters, never the admin app.
"""

from switchgeard.lnurl.app import (
    LnurlDeps,
    apply_lnurl_config,
    create_lnurl_app,
    lnurl_config,
    offer_links,
)
from switchgeard.lnurl.verify import InvoiceVerifier, LedgerVerifier, PoolSettlements

__all__ = [
    "InvoiceVerifier",
    "LedgerVerifier",
    "LnurlDeps",
    "PoolSettlements",
    "apply_lnurl_config",
    "create_lnurl_app",
    "lnurl_config",
    "offer_links",
]
