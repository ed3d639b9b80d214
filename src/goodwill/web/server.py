"""Running the web app with uvicorn, for `goodwill serve` and for anyone embedding goodwill."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import uvicorn

from goodwill.settings import Settings
from goodwill.web.app import create_app
from goodwill.web.secret import secret_key

__all__ = ["secret_key", "serve"]


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    clock: Callable[[], datetime] | None = None,
) -> None:
    """Serve the dashboard and the API until interrupted; loopback only unless ``host`` says so."""
    app = create_app(settings, clock=clock)
    uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, proxy_headers=False, server_header=False)
    ).run()
