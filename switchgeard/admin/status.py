"""``/status``, ``/reload`` and ``/health``: what the daemon is doing and how to nudge it."""

from __future__ import annotations

from datetime import UTC, datetime

from quart import Response
from quart_trio import QuartTrio

from switchgeard.admin import protocol
from switchgeard.admin.ports import AdminDeps, HealthView, ReloadView
from switchgeard.admin.wire import ApiError, bool_query, json_response
from switchgeard.store.records import Backend, ClnGrpc


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def reload_json(view: ReloadView | None) -> dict[str, object] | None:
    if view is None:
        return None
    return {"at": _time(view.at), "ok": view.ok, "error": view.error, "changed": list(view.changed)}


def backend_status_json(backend: Backend, view: HealthView | None) -> dict[str, object]:
    """One row of ``GET /status``: the stored backend joined with its live state."""
    impl = backend.implementation
    health = view.health if view is not None else "unknown"
    usable = backend.enabled and health == "healthy"
    latency = None if view is None or view.latency_s is None else round(view.latency_s * 1000, 3)
    return {
        "publicKey": backend.public_key,
        "name": backend.name,
        "kind": "cln" if isinstance(impl, ClnGrpc) else "lnd",
        "url": impl.url,
        "partitions": sorted(backend.partitions),
        "weight": backend.weight,
        "enabled": backend.enabled,
        "health": health,
        "healthSince": _time(view.since) if view else None,
        "lastCheck": _time(view.last_check) if view else None,
        "latencyMs": latency,
        "lastError": view.last_error if view else None,
        "inboundCapacityMsat": view.inbound_capacity_msat if view else None,
        "invoices": {
            "created": view.invoices_created if view else 0,
            "failed": view.invoices_failed if view else 0,
            "settled": view.invoices_settled if view else 0,
        },
        "selectable": {p: usable for p in sorted(backend.partitions)},
    }


def add_status_routes(app: QuartTrio, deps: AdminDeps) -> None:
    """Register ``/status``, ``/reload`` and ``/health`` on ``app``."""
    info = deps.info

    async def status() -> Response:
        backends = await deps.store.list_backends()
        views = {v.key: v for v in deps.health.health()} if deps.health else {}
        partitions = set(info.partitions).union(*(b.partitions for b in backends))
        health = deps.health
        now = datetime.now(UTC)
        return json_response(
            {
                "version": info.version,
                "startedAt": _time(info.started_at),
                "uptimeSeconds": round((now - info.started_at).total_seconds(), 3),
                "configFile": info.config_file,
                "store": info.store_kind,
                "publicUrl": info.public_url,
                "lastReload": reload_json(deps.reloader.last_reload() if deps.reloader else None),
                "partitions": {
                    p: (health.selectable(p) if health else False) for p in sorted(partitions)
                },
                "backends": [backend_status_json(b, views.get(b.public_key)) for b in backends],
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
