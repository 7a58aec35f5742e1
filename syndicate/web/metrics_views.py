"""``/metrics`` for Prometheus: behind the admin token, on a listener of its own, or nowhere.

``metrics.expose: admin`` (the default) serves ``/admin/metrics`` in the /admin/ sub-application,
behind its one token check (and, like the rest of /admin/, nowhere without an admin token).
``metrics.expose: port`` serves ``/metrics`` with no token on ``metrics.host:metrics.port`` only,
never on the public port. Under ``serve --workers N`` every worker binds that port (SO_REUSEPORT)
and each answers with the sum over all workers (``syndicate.metrics``). Routed in ``web/routes.py``;
the listener of its own is started by ``web/ops.py``.
"""

from __future__ import annotations

from aiohttp import web

from syndicate.metrics import exposition


async def metrics(request: web.Request) -> web.Response:
    body, content_type = exposition()
    response = web.Response(body=body, headers={"Cache-Control": "no-store"})
    response.headers["Content-Type"] = content_type
    return response
