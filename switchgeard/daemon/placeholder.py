"""Stand-in apps served until the LNURL and admin apps are plugged into ``compose.py``.

Delete this module once ``create_lnurl_app`` and ``create_admin_app`` are wired in.
"""

from __future__ import annotations

from quart_trio import QuartTrio


def create_placeholder_public_app() -> QuartTrio:
    """The public listener's app: only ``GET /health``."""
    app = QuartTrio("switchgeard.public")

    @app.get("/health")
    async def health() -> tuple[dict[str, str], int]:
        return {"status": "ok"}, 200

    return app


def create_placeholder_admin_app() -> QuartTrio:
    """The admin socket's app: only ``GET /health``."""
    app = QuartTrio("switchgeard.admin")

    @app.get("/health")
    async def health() -> tuple[dict[str, str], int]:
        return {"status": "ok"}, 200

    return app
