"""The baseline server: the least aiohttp can do to answer like Syndicate's cached feed.

Run as ``python bench/minimal_app.py FIXTURE.json PORT``. FIXTURE holds the three responses captured
from Syndicate (identity 200, gzip 200, 304) with their bodies and headers; this app replays them with
the same negotiation (If-None-Match first, then Accept-Encoding), in one process like ``syndicate serve``.
The ratio of Syndicate to this is the cost of Syndicate's own request path, not of aiohttp or the machine.
Logging is left unconfigured, as in a bare ``web.run_app``.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

from aiohttp import web


def load(fixture: Path) -> dict[str, tuple[int, bytes, dict[str, str]]]:
    data = json.loads(fixture.read_text())
    return {name: (r["status"], base64.b64decode(r["body"]), r["headers"]) for name, r in data.items()}


def make_app(responses: dict[str, tuple[int, bytes, dict[str, str]]]) -> web.Application:
    etags = {responses["plain"][2]["ETag"], responses["gzip"][2]["ETag"]}
    plain, gzipped, not_modified = responses["plain"], responses["gzip"], responses["not_modified"]

    async def feed(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") in etags:
            return web.Response(status=304, headers=not_modified[2])
        chosen = gzipped if "gzip" in request.headers.get("Accept-Encoding", "") else plain
        return web.Response(body=chosen[1], headers=chosen[2])

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "generation": 1})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/{path:.*}", feed)
    return app


if __name__ == "__main__":
    web.run_app(make_app(load(Path(sys.argv[1]))), host="127.0.0.1", port=int(sys.argv[2]), print=None)
