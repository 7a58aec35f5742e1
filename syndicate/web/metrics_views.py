"""``/metrics`` for Prometheus: behind the admin token, on a listener of its own, or nowhere.

``metrics.expose: admin`` (the default) serves ``/admin/metrics`` in the /admin/ sub-application,
behind its one token check (and, like the rest of /admin/, nowhere without an admin token).
``metrics.expose: port`` serves ``/metrics`` with no token on ``metrics.host:metrics.port`` only,
never on the public port. Under ``serve --workers N`` every worker binds that port (SO_REUSEPORT)
and each answers with the sum over all workers (``syndicate.metrics``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator

from aiohttp import web

from syndicate.metrics import MULTIPROC_ENV, exposition
from syndicate.web.state import SNAPSHOTS

log = logging.getLogger("syndicate.metrics")


async def metrics(request: web.Request) -> web.Response:
    body, content_type = exposition()
    response = web.Response(body=body, headers={"Cache-Control": "no-store"})
    response.headers["Content-Type"] = content_type
    return response


def metrics_app() -> web.Application:
    """The listener of its own: ``/metrics`` and nothing else."""
    app = web.Application()
    app.router.add_get("/metrics", metrics, name="metrics")
    return app


async def metrics_listener(app: web.Application) -> AsyncIterator[None]:
    """With ``expose: port``: start the metrics listener with the app, stop it with the app."""
    settings = app[SNAPSHOTS].current.config.metrics
    if settings.expose != "port":
        yield
        return
    runner = web.AppRunner(metrics_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_port=bool(os.environ.get(MULTIPROC_ENV)))
    await site.start()
    log.info("metrics on http://%s:%d/metrics", settings.host, settings.port)
    try:
        yield
    finally:
        await runner.cleanup()
