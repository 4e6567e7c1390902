"""switchgeard: LNURL-pay front end balancing invoice creation over Lightning nodes.

Packages, top layer first (a module imports only from layers below it):
daemon > lnurl | admin > balancer | ldap_sync > lightning | store | telemetry | bolt12
> config > errors | units.  ``ctl`` imports only ``admin.protocol``, ``errors`` and ``units``.
"""

__version__ = "0.1.0"
