"""Keep secrets out of logs: macaroons, key material, passwords, tokens, preimages.

Applied to every formatted line (message and traceback) before it is queued for a file or
stderr. Patterns catch the usual shapes; :meth:`Redactor.add_secret` registers exact values
read from credential files so they are removed whatever they look like.
"""

from __future__ import annotations

import logging
import re

MARK = "[REDACTED]"

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(-----END [A-Z0-9 ]+-----|$)", re.DOTALL)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_NAMES = (
    r"password|passwd|passphrase|secret|token|macaroon|rune|authorization|api[_-]?key"
    r"|private[_-]?key|preimage|credentials?|bind_pw|k1"
)
_PAIR = re.compile(
    rf"(?i)(\b[\w.-]*(?:{_NAMES})[\w-]*[\"']?\s*[:=]\s*[\"']?)(?!\[REDACTED)([^\s\"',;&}}\]]+)"
)
_NAME_PARTS = (
    "passw", "passphrase", "secret", "token", "macaroon", "rune", "authorization", "api",
    "private", "preimage", "credential", "bind_pw", "k1",
)  # fmt: skip
"""Every name ``_PAIR`` looks for contains one of these: ASCII text without any of them
cannot match, which is checked in a fraction of the time the regex takes to fail."""
_LONG_HEX = re.compile(r"\b[0-9a-fA-F]{72,}\b")
_LONG_B64 = re.compile(r"[A-Za-z0-9+/_-]{40,}={0,2}")


def _b64_secret(match: re.Match[str]) -> str:
    text = match.group(0)
    mixed = any(c.isupper() for c in text) and any(c.islower() for c in text)
    return MARK if mixed and any(c.isdigit() for c in text) else text


class Redactor:
    """Removes secrets from text. Thread-safe for reads; add secrets before logging starts."""

    def __init__(self) -> None:
        self._secrets: tuple[str, ...] = ()

    def add_secret(self, value: str | bytes) -> None:
        """Always redact ``value`` (bytes are registered as hex, as they would be logged)."""
        text = value.hex() if isinstance(value, bytes) else value
        if len(text) >= 6 and text not in self._secrets:
            self._secrets = (*self._secrets, text)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MARK)
        text = _PEM.sub(MARK, text)
        text = _BEARER.sub(lambda m: f"{m.group(1)} {MARK}", text)
        if _may_name_a_secret(text):
            text = _PAIR.sub(lambda m: m.group(1) + MARK, text)
        text = _LONG_HEX.sub(MARK, text)
        return _LONG_B64.sub(_b64_secret, text)


def _may_name_a_secret(text: str) -> bool:
    """False only when ``_PAIR`` cannot match: ASCII text naming none of the secrets.

    Non-ASCII text always goes to the regex, whose case-insensitive matching also folds
    a few non-ASCII letters (such as the Kelvin sign) that ``str.lower`` keeps apart.
    """
    if not text.isascii():
        return True
    lowered = text.lower()
    return any(part in lowered for part in _NAME_PARTS)


class RedactingFilter(logging.Filter):
    """A handler filter that replaces the record's message, traceback and stack redacted.

    The service log files redact their fully formatted lines themselves
    (:func:`switchgeard.telemetry.logs.open_service_logs`); this filter is for handlers
    outside them (e.g. the daemon's stderr handler).
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.redact(record.stack_info)
        return True


_TRACEBACKS = logging.Formatter()
