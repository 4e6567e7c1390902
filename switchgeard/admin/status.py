"""``/status``, ``/reload`` and ``/health``: what the daemon is doing and how to nudge it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from quart import Response
from quart_trio import QuartTrio

from switchgeard import __version__
from switchgeard.admin import protocol
from switchgeard.admin.ports import AdminDeps, BackendHealth, DaemonInfo, ReloadView
from switchgeard.admin.wire import ApiError, bool_query, json_response
from switchgeard.config.model import Config, LnurlConfig
from switchgeard.store.records import Backend, ClnGrpc


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def reload_json(view: ReloadView | None) -> dict[str, object] | None:
    if view is None:
        return None
    return {"at": _time(view.at), "ok": view.ok, "error": view.error, "changed": list(view.changed)}


def backend_status_json(backend: Backend, view: BackendHealth | None) -> dict[str, object]:
    """One row of ``GET /status``: the stored backend joined with its live state."""
    partitions = sorted(backend.partitions)
    if view is None:
        return _row(backend, partitions) | {"selectable": {p: False for p in partitions}}
    latency = None if view.latency is None else round(view.latency * 1000, 3)
    return _row(backend, partitions) | {
        "health": view.health,
        "healthSince": _time(view.health_since),
        "lastCheck": _time(view.last_check),
        "latencyMs": latency,
        "lastError": view.last_error,
        "inboundCapacityMsat": view.inbound_capacity,
        "invoices": {
            "created": view.invoices_issued,
            "failed": view.invoices_failed,
            "settled": view.invoices_settled,
        },
        "selectable": {p: p in view.selectable_in for p in partitions},
    }


def _row(backend: Backend, partitions: list[str]) -> dict[str, object]:
    impl = backend.implementation
    return {
        "publicKey": backend.public_key,
        "name": backend.name,
        "kind": "cln" if isinstance(impl, ClnGrpc) else "lnd",
        "url": impl.url,
        "partitions": partitions,
        "weight": backend.weight,
        "enabled": backend.enabled,
        "health": "unknown",
        "healthSince": None,
        "lastCheck": None,
        "latencyMs": None,
        "lastError": None,
        "inboundCapacityMsat": None,
        "invoices": {"created": 0, "failed": 0, "settled": 0},
    }


def add_status_routes(app: QuartTrio, deps: AdminDeps) -> None:
    """Register ``/status``, ``/reload`` and ``/health`` on ``app``."""
    info = deps.info

    async def status() -> Response:
        backends = await deps.store.list_backends()
        views = {v.key: v for v in deps.health.statistics()} if deps.health else {}
        lnurl = deps.lnurl() if deps.lnurl else None
        served = info.partitions if lnurl is None else lnurl.partitions
        partitions = set(served).union(*(b.partitions for b in backends))
        health = deps.health
        now = datetime.now(UTC)
        return json_response(
            {
                "version": info.version,
                "startedAt": _time(info.started_at),
                "uptimeSeconds": round((now - info.started_at).total_seconds(), 3),
                "configFile": info.config_file,
                "store": info.store_kind,
                "publicUrl": info.public_url if lnurl is None else public_url(lnurl),
                "lastReload": reload_json(deps.reloader.last_reload() if deps.reloader else None),
                "partitions": {
                    p: (health.selectable(p) if health else False) for p in sorted(partitions)
                },
                "backends": [backend_status_json(b, views.get(b.public_key)) for b in backends],
                "ldap": deps.ldap.statistics().to_json() if deps.ldap else None,
            }
        )

    async def reload() -> Response:
        if deps.reloader is None:
            raise ApiError(protocol.RELOAD_UNAVAILABLE, "this daemon has no config file to reload")
        wait = bool_query("wait", False)
        outcome = await deps.reloader.reload(wait=wait)
        if outcome is None:
            return json_response({"reload": None}, 202)
        if not outcome.ok:
            raise ApiError(protocol.CONFIG_INVALID, outcome.error or "the new config was refused")
        return json_response({"reload": reload_json(outcome)})

    async def health() -> Response:
        return json_response({"status": "ok"})

    app.add_url_rule(protocol.STATUS, "status", status, methods=["GET"])
    app.add_url_rule(protocol.RELOAD, "reload", reload, methods=["POST"])
    app.add_url_rule(protocol.HEALTH, "health", health, methods=["GET"])


def daemon_info(config: Config, *, config_file: Path | None, started_at: datetime) -> DaemonInfo:
    """The static ``/status`` facts for a daemon running ``config``.

    Values are those at start-up (the page sizes and the store need a restart anyway);
    give ``AdminDeps.lnurl`` for a public URL and partitions that follow reloads.
    """
    return DaemonInfo(
        version=__version__,
        started_at=started_at,
        config_file=None if config_file is None else str(config_file),
        store_kind="sqlite" if config.store.url.startswith("sqlite") else "postgresql",
        public_url=public_url(config.lnurl),
        partitions=tuple(config.lnurl.partitions),
        page_default=config.store.page_default,
        page_max=config.store.page_max,
    )


def public_url(lnurl: LnurlConfig) -> str | None:
    """``https://`` + the first exact name in ``allowed_hosts`` (the host wallets are sent
    to), or None (unknown) when any host is accepted."""
    hosts = [h for h in lnurl.allowed_hosts if "*" not in h]
    return f"https://{hosts[0]}" if hosts else None
