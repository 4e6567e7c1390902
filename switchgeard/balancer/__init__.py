"""Choosing a healthy Lightning backend for each invoice: pool, health, strategies, failover.

Imports lightning.interface, store.records, config, errors and units only; never a concrete
adapter or store (the daemon passes the store and a ``connect`` factory in).
"""

from switchgeard.balancer.balancer import Balancer, IssuedInvoice
from switchgeard.balancer.health import HealthState
from switchgeard.balancer.pool import BackendPool, Member
from switchgeard.balancer.protocols import BackendSource, ConnectBackend, InvoiceLedger
from switchgeard.balancer.runner import run_balancer
from switchgeard.balancer.stats import BackendStatus, BalancerCounters, DurationTotals

__all__ = [
    "BackendPool",
    "BackendSource",
    "BackendStatus",
    "Balancer",
    "BalancerCounters",
    "ConnectBackend",
    "DurationTotals",
    "HealthState",
    "InvoiceLedger",
    "IssuedInvoice",
    "Member",
    "run_balancer",
]
