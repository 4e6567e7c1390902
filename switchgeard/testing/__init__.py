"""Fakes shipped with the code for tests and ``switchgeard demo``: LND and CLN gRPC nodes.

They are real TLS gRPC servers (grpclib, on the trio-asyncio loop inside a test or the
demo, on a plain asyncio loop as a ``fakenode`` process) signing real BOLT 11 invoices,
with fault switches; see ``fake_lnd``, ``fake_cln`` and ``fakenode``.
Only tests and the daemon's demo mode import this package.
"""

from switchgeard.testing.fake_cln import FakeCln, serve_fake_cln
from switchgeard.testing.fake_lnd import FakeLnd, serve_fake_lnd
from switchgeard.testing.fakecore import FakeNodeCore, Faults

__all__ = ["FakeCln", "FakeLnd", "FakeNodeCore", "Faults", "serve_fake_cln", "serve_fake_lnd"]
