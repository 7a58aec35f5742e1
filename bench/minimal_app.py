"""The baseline server: the least aiohttp can do to answer like Syndicate's cached feeds.

Run as ``python bench/minimal_app.py FIXTURE.json PORT``. FIXTURE maps each feed path to the three
responses captured from Syndicate for it (identity 200, gzip 200, 304) with their bodies and headers;
this app replays them with the same negotiation (If-None-Match first, then Accept-Encoding), in one
process like ``syndicate serve``. The gzip body is the one Syndicate made, so nothing is compressed here.
The ratio of Syndicate to this is the cost of Syndicate's own request path, not of aiohttp or the machine.
No access log, as in a bare ``web.run_app(..., access_log=None)``.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

Replay = tuple[int, bytes, dict[str, str]]


def load(fixture: Path) -> dict[str, dict[str, Replay]]:
    data = json.loads(fixture.read_text())
    return {
        path: {name: (r["status"], base64.b64decode(r["body"]), r["headers"]) for name, r in kinds.items()}
        for path, kinds in data.items()
    }


def replayer(fixtures: dict[str, dict[str, Replay]]) -> Callable[[web.BaseRequest], web.Response | None]:
    """The replay as a function of the request: the captured answer for a fixture path, None for any other."""
    tables = {
        path: (
            {kinds["plain"][2]["ETag"], kinds["gzip"][2]["ETag"]},
            kinds["plain"],
            kinds["gzip"],
            kinds["not_modified"],
        )
        for path, kinds in fixtures.items()
    }

    def replay(request: web.BaseRequest) -> web.Response | None:
        found = tables.get(request.path)
        if found is None:
            return None
        etags, plain, gzipped, not_modified = found
        if request.headers.get("If-None-Match") in etags:
            return web.Response(status=304, headers=not_modified[2])
        chosen = gzipped if "gzip" in request.headers.get("Accept-Encoding", "") else plain
        return web.Response(body=chosen[1], headers=chosen[2])

    return replay


def make_app(fixtures: dict[str, dict[str, Replay]]) -> web.Application:
    replay = replayer(fixtures)

    async def feed(request: web.Request) -> web.Response:
        answered = replay(request)
        if answered is None:
            raise web.HTTPNotFound()
        return answered

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "generation": 1})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/{path:.*}", feed)
    return app


if __name__ == "__main__":
    web.run_app(make_app(load(Path(sys.argv[1]))), host="127.0.0.1", port=int(sys.argv[2]), print=None, access_log=None)
