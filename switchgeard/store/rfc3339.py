"""RFC 3339 timestamps as the admin API writes and reads them (always UTC, ``Z`` suffix)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from switchgeard.errors import InvalidInput

_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})"
    r"(?:\.(?P<fraction>\d{1,9}))?(?P<offset>[Zz]|[+-]\d{2}:\d{2})"
)


def parse_rfc3339(field: str, value: object) -> datetime:
    """Parse an RFC 3339 timestamp with an explicit offset; return it in UTC.

    Fractions finer than a microsecond are truncated (the stores keep microseconds).
    """
    if not isinstance(value, str):
        raise InvalidInput(field, "must be an RFC 3339 timestamp string")
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise InvalidInput(field, f"not an RFC 3339 timestamp with an offset: {value!r}")
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    offset = match["offset"].upper().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}{offset}")
    except ValueError as exc:
        raise InvalidInput(field, f"not a valid date or time: {value!r}") from exc
    return parsed.astimezone(UTC)


def format_rfc3339(value: datetime) -> str:
    """Render as ``YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]Z`` (the fraction only when non-zero)."""
    utc = value.astimezone(UTC)
    text = utc.replace(tzinfo=None, microsecond=0).isoformat()
    if utc.microsecond % 1000 == 0 and utc.microsecond:
        text += f".{utc.microsecond // 1000:03d}"
    elif utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def require_aware(field: str, value: datetime) -> datetime:
    """Refuse naive datetimes (their time zone is a guess); return the value in UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "must carry a time zone")
    return value.astimezone(UTC)
