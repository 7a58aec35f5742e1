"""The one way into /admin/: the admin token, as a Bearer token or as a Basic password (read by ``web/auth.py``).

Scripts send ``Authorization: Bearer <token>``; a person opening /admin/stats in a
browser types any user name and the token as password, so the browser sends Basic.
A refusal carries one ``WWW-Authenticate`` header per scheme: browsers read only the
first scheme of a combined header, and Chromium asks for nothing when that is Bearer.
"""

from __future__ import annotations

import logging

from aiohttp import web
from multidict import CIMultiDict

from syndicate.web.accesslog import logged_address
from syndicate.web.auth import admin_token
from syndicate.web.errors import Handler
from syndicate.web.state import ADMIN_TOKEN

log = logging.getLogger("syndicate.admin")

#: One challenge per header line, Bearer first (the API's own scheme), then Basic for browsers.
CHALLENGES = ('Bearer realm="admin"', 'Basic realm="admin", charset="UTF-8"')


def refusal() -> web.Response:
    """401 with a challenge per scheme, so both scripts and browsers know how to answer."""
    headers: CIMultiDict[str] = CIMultiDict()
    for challenge in CHALLENGES:
        headers.add("WWW-Authenticate", challenge)
    return web.json_response({"error": "admin token required"}, status=401, headers=headers)


@web.middleware
async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every /admin/ request: the token compared in constant time; admin answers are never cached."""
    presented = admin_token(request)
    if not presented or not request.app[ADMIN_TOKEN].matches(presented):
        log.warning("admin: refused %s %s from %s", request.method, request.path, logged_address(request))
        response: web.StreamResponse = refusal()
    else:
        response = await handler(request)
    response.headers["Cache-Control"] = "no-store"
    return response
