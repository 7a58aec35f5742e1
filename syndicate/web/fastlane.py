"""The fast lane: a repeat feed request answered before aiohttp routes it.

Pollers send the very same request again and again. Once ``views.feed`` has checked one (key, feed,
format, page, permissions: ``web/wanted.py``) and its variant is cached, the answer is a charge, a
count and a prepared response (``views.cached_answer``). Routing it and passing it through the
middleware chain costs more than all of that, so the server's request handler looks the request up
first and routes only what it does not know: every other request, every first request, every
refusal and every render. The lane answers exactly what the routed handler would, through the same
function; a Snapshot swap empties the table it reads, so after a reload every request is routed
and checked again.

The lane sits in front of the application's own handler (``install``), on every server that
``syndicate serve`` runs; the test suite installs it on its test servers too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from syndicate.web.errors import answer_error
from syndicate.web.state import SERVING
from syndicate.web.views import cached_answer

log = logging.getLogger("syndicate.web")

RequestHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


class FastLane:
    """The server's request handler: a known feed request with a cached variant answered here, the rest
    handed to ``routed`` (the application's own handler)."""

    def __init__(self, app: web.Application, routed: RequestHandler) -> None:
        self.app = app
        self.routed = routed
        self.serving = app.get(SERVING)  # set as the app started; None for an app with no feeds: all routed

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        method = request.method
        if method == "GET" or method == "HEAD":  # the feed route's methods; it is GET-only
            answered = self.answer(request)
            if answered is not None:
                return answered
        return await self.routed(request)

    def answer(self, request: web.BaseRequest) -> web.StreamResponse | None:
        serving = self.serving
        if serving is None:
            return None
        snapshot = serving.snapshots.current
        wanted = serving.known.get(request, snapshot.generation)
        if wanted is None:
            return None
        try:
            answered = cached_answer(serving, request, snapshot, wanted, checked=False)
        except Exception:  # as the error middleware would answer it
            log.exception("unhandled error on %s %s", request.method, request.path)
            answered = answer_error(request, 500, "500 Internal Server Error: the error was logged")
        return answered


def install(runner: web.AppRunner) -> FastLane:
    """Put the fast lane in front of ``runner``'s application, after ``runner.setup()`` (which starts the app)
    and before its sites start: every connection accepted from then on is served through it."""
    server = runner.server
    if server is None:
        raise RuntimeError("install the fast lane after runner.setup()")
    lane = FastLane(runner.app, server.request_handler)
    server.request_handler = lane
    return lane
