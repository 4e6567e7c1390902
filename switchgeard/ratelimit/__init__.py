"""Rate limits for the public LNURL listener: GCRA tables per endpoint class and client.

Owns client identity behind proxies, the in-process and Redis limiter stores, and the ASGI
middleware that answers 429. Imports only config, errors, units, telemetry, trio and redis.
"""

from switchgeard.ratelimit.asgi import RateLimitMiddleware, Route, classify_lnurl, wrap_public_app
from switchgeard.ratelimit.identity import Client, ClientResolver
from switchgeard.ratelimit.limiter import Decision, Limiter, LimiterStatistics, open_limiter

__all__ = [
    "Client",
    "ClientResolver",
    "Decision",
    "Limiter",
    "LimiterStatistics",
    "RateLimitMiddleware",
    "Route",
    "classify_lnurl",
    "open_limiter",
    "wrap_public_app",
]
