"""One default per message field for betterproto2's comparisons, instead of one per call.

betterproto2 0.10's ``Message._get_field_default`` builds a fresh default for a field
under ``warnings.catch_warnings()`` every time it is called, and ``bytes(message)`` calls
it once per field: 17 times for an LND ``Invoice`` request, about 80 % of encoding it
(148 → 32 µs on a slow VM), on every invoice the balancer asks for and in the fake nodes.
Its only callers (``__bytes__``, ``__bool__``, ``__repr__``, ``is_set``) compare a field's
value with the default and never keep or change it, so the first default built for a
(message class, field) serves every later call. Installed when ``switchgeard.lightning``
is imported; ``tests/lightning/test_message_defaults.py`` checks the encodings are the same.
"""

from __future__ import annotations

from typing import Any

import betterproto2

_DEFAULTS: dict[tuple[type, str], Any] = {}
_BUILD = betterproto2.Message._get_field_default


def cached_field_default(message: betterproto2.Message, field_name: str) -> Any:
    """``Message._get_field_default``, built once per (message class, field)."""
    key = (type(message), field_name)
    try:
        return _DEFAULTS[key]
    except KeyError:
        default = _DEFAULTS[key] = _BUILD(message, field_name)
        return default


def install() -> None:
    """Make every betterproto2 message use ``cached_field_default`` (idempotent)."""
    betterproto2.Message._get_field_default = cached_field_default  # type: ignore[method-assign,assignment]
