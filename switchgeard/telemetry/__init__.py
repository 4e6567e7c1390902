"""Metrics (OpenTelemetry -> Prometheus and OTLP) and the per-service log files.

Owns the instruments and their names, the ``/metrics`` endpoint, runtime metrics, access
log lines and secret redaction. Imports only config, errors, units, the OpenTelemetry SDK,
prometheus_client and trio; exporter threads never call trio.
"""

from switchgeard.telemetry.metrics import (
    BackendSample,
    BalancerTotals,
    LdapSample,
    Metrics,
    open_metrics,
)

__all__ = ["BackendSample", "BalancerTotals", "LdapSample", "Metrics", "open_metrics"]
