"""``GET /status`` carries the LDAP syncer's statistics when ``[ldap]`` is configured."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import httpx
import pytest

from switchgeard.admin.ports import AdminDeps
from switchgeard.ldap_sync import EntryProblem, LdapStatistics

AT = datetime(2026, 1, 2, 5, 0, tzinfo=UTC)
LDAP_STATS = LdapStatistics(
    state="unavailable",
    mode="syncrepl",
    uri="ldap://127.0.0.1:389",
    addresses=12,
    last_synced_at=AT,
    last_full_sync_at=AT,
    last_full_sync_seconds=0.25,
    last_error="cannot reach ldap://127.0.0.1:389",
    last_error_at=AT,
    failures=2,
    retry_at=AT,
    resumed_from_cookie=True,
    invalid=(EntryProblem("uid=x y,ou=people,dc=example", "not a valid user name"),),
    invalid_count=1,
    duplicates=(),
    duplicate_count=0,
)


class FakeSyncer:
    """What ``LdapSyncer`` offers the admin API: a statistics snapshot."""

    def __init__(self) -> None:
        self.stats = LDAP_STATS

    def statistics(self) -> LdapStatistics:
        return self.stats


@pytest.fixture
def syncer() -> FakeSyncer:
    return FakeSyncer()


@pytest.fixture
def deps(deps: AdminDeps, syncer: FakeSyncer) -> AdminDeps:
    return dataclasses.replace(deps, ldap=syncer)


@pytest.mark.usefixtures("admin_socket")
async def test_status_shows_the_ldap_sync(client: httpx.AsyncClient, syncer: FakeSyncer) -> None:
    assert (await client.get("/status")).json()["ldap"] == {
        "state": "unavailable",
        "mode": "syncrepl",
        "uri": "ldap://127.0.0.1:389",
        "addresses": 12,
        "lastSyncedAt": "2026-01-02T05:00:00Z",
        "lastFullSyncAt": "2026-01-02T05:00:00Z",
        "lastFullSyncSeconds": 0.25,
        "lastError": "cannot reach ldap://127.0.0.1:389",
        "lastErrorAt": "2026-01-02T05:00:00Z",
        "failures": 2,
        "retryAt": "2026-01-02T05:00:00Z",
        "resumedFromCookie": True,
        "invalid": [{"dn": "uid=x y,ou=people,dc=example", "reason": "not a valid user name"}],
        "invalidCount": 1,
        "duplicates": [],
        "duplicateCount": 0,
    }
    syncer.stats = dataclasses.replace(LDAP_STATS, state="synced", last_error=None)
    assert (await client.get("/status")).json()["ldap"]["state"] == "synced"
