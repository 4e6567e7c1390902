"""Timestamps: RFC 3339 round trips and SQLite's text form keeping time order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from hypothesis import example, given
from hypothesis import strategies as st

from switchgeard.store.engine import Dialect
from switchgeard.store.rfc3339 import format_rfc3339, parse_rfc3339

SQLITE = Dialect("sqlite")
aware = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
odd_offsets = st.timedeltas(
    min_value=timedelta(hours=-24) + timedelta(microseconds=1),
    max_value=timedelta(hours=24) - timedelta(microseconds=1),
).map(timezone)
any_zone: st.SearchStrategy[tzinfo | None] = st.one_of(
    st.none(), st.just(UTC), offsets, odd_offsets, st.timezones()
)


@given(aware, offsets)
def test_rfc3339_round_trip_in_any_offset(moment: datetime, offset: timezone) -> None:
    text = format_rfc3339(moment.astimezone(offset))
    assert text.endswith("Z")
    assert parse_rfc3339("timestamp", text) == moment
    local = moment.astimezone(offset).isoformat()
    assert parse_rfc3339("timestamp", local) == moment


@given(aware, aware)
def test_sqlite_text_sorts_like_time(first: datetime, second: datetime) -> None:
    a, b = SQLITE.to_db_time(first), SQLITE.to_db_time(second)
    assert isinstance(a, str) and isinstance(b, str)
    assert (a < b) == (first < second)
    assert SQLITE.from_db_time(a) == first


def test_fraction_is_shown_only_when_present() -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    assert format_rfc3339(base) == "2024-01-01T00:00:00Z"
    assert format_rfc3339(base.replace(microsecond=120_000)) == "2024-01-01T00:00:00.120Z"
    assert format_rfc3339(base.replace(microsecond=5)) == "2024-01-01T00:00:00.000005Z"


def isoformat_sqlite_text(value: datetime) -> str:
    """``Dialect("sqlite").to_db_time`` as it was written first, through ``isoformat``."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def outcome_of(convert: Callable[[datetime], object], value: datetime) -> object:
    try:
        return convert(value)
    except Exception as exc:  # the error itself is compared
        return (type(exc), str(exc))


@given(st.datetimes(timezones=any_zone))
@example(datetime.min.replace(tzinfo=timezone(timedelta(hours=1))))  # before year 1 in UTC
@example(datetime.max.replace(tzinfo=timezone(timedelta(hours=-1))))  # after 9999 in UTC
@example(datetime(2024, 3, 31, 2, 30))  # naive
def test_sqlite_text_is_the_isoformat_text(moment: datetime) -> None:
    """Byte for byte, for every datetime: aware in any zone (including ones that cannot
    be moved to UTC within the datetime range, which raise the same error), and naive
    (taken as local time by ``astimezone``)."""
    assert outcome_of(SQLITE.to_db_time, moment) == outcome_of(isoformat_sqlite_text, moment)
