"""Running the web app with uvicorn, for `goodwill serve` and for anyone embedding goodwill.

With more than one worker, uvicorn starts that many processes sharing the listening socket; each
builds its own app with :func:`app_from_environment`, from the same configuration file and
database URL that the serving process was given (handed down as GOODWILL_CONFIG and
GOODWILL_DATABASE_URL).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

import uvicorn
from fastapi import FastAPI

from goodwill.engine.heap import settle
from goodwill.settings import ENV_CONFIG, ENV_DATABASE_URL, Settings, load_settings
from goodwill.web.app import create_app
from goodwill.web.secret import secret_key

__all__ = ["app_from_environment", "secret_key", "serve"]


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    clock: Callable[[], datetime] | None = None,
    workers: int = 1,
) -> None:
    """Serve the dashboard and the API until interrupted; loopback only unless ``host`` says so.

    ``workers`` above 1 runs that many processes; they read their settings from the same file and
    database as ``settings`` (so ``settings`` must be what that file says) and use the real clock.
    """
    if workers <= 1:
        app = create_app(settings, clock=clock)
        settle()
        uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, proxy_headers=False, server_header=False)
        ).run()
        return
    if clock is not None:
        raise ValueError("several workers read the real clock; serve with one worker to set it")
    secret_key(settings)  # generate the signing key once, before the workers race to
    os.environ[ENV_DATABASE_URL] = settings.database_url
    if settings.config_path is not None:
        os.environ[ENV_CONFIG] = str(settings.config_path)
    uvicorn.run(
        f"{__name__}:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        server_header=False,
    )


def app_from_environment() -> FastAPI:
    """The app of one worker process, from the settings the environment names."""
    app = create_app(load_settings())
    settle()  # what start-up made is left out of the collector's full walks (engine/heap.py)
    return app
