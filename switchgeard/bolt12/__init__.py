"""Bolt12 protocol core: BOLT 1/4/8/12 codecs, signatures, transport and onion messages.

A pure library: it imports only ``switchgeard.errors``, ``switchgeard.units``, the standard
library, coincurve, cryptography and trio. It knows nothing about the daemon, the store or
the Lightning backends; the invoice_request handler built on it lives a layer above.
"""
