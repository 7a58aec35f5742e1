"""Every error answer, in one place: one line of text for feeds and pages, a JSON object for /admin/.

Never a traceback in a response. Which form an answer takes is decided here, by where the request
went (``answer_error``): the admin API's clients parse JSON, feed readers show text.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger("syndicate.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: The admin sub-application's prefix: its errors are JSON.
ADMIN_PREFIX = "/admin"


def text_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """A one-line plain-text error body with the given status."""
    return web.Response(status=status, text=message + "\n", headers=headers)


def json_error(
    status: int, message: str, problems: list[dict[str, object]] | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    """``{"error": message}`` (with ``problems`` when given) and the given status."""
    body: dict[str, object] = {"error": message}
    if problems is not None:
        body["problems"] = problems
    return web.json_response(body, status=status, headers=headers)


def is_admin(request: web.BaseRequest) -> bool:
    path = request.path
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def answer_error(
    request: web.BaseRequest, status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """The error answer for ``request``: JSON under /admin/, one line of text everywhere else."""
    if is_admin(request):
        return json_error(status, message, headers=headers)
    return text_error(status, message, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.text not in (None, "", f"{exc.status}: {exc.reason}"):
            raise
        kept = {k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")}
        return answer_error(request, exc.status, f"{exc.status} {exc.reason}", headers=kept)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return answer_error(request, 500, "500 Internal Server Error: the error was logged")
