"""Short, specific error responses; never a traceback in a response."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger("syndicate.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def text_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """A one-line plain-text error body with the given status."""
    return web.Response(status=status, text=message + "\n", headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.text not in (None, "", f"{exc.status}: {exc.reason}"):
            raise
        kept = {k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")}
        return text_error(exc.status, f"{exc.status} {exc.reason}", headers=kept)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return text_error(500, "500 Internal Server Error: the error was logged")
