"""``syndicate serve`` with the minimal app's replay answering its feed requests: the cached path's floor.

Run as ``python bench/replay_in_syndicate.py CONFIG PORT FIXTURE.json``. The server is Syndicate's own
process in every respect (its Snapshot, threads, access log, switch interval, collector settings) but for
one thing: a request for a fixture path is answered by ``bench/minimal_app.py``'s replay, in front of the
fast lane; everything else (``/healthz``, first requests) goes through the fast lane as usual. Next to
``syndicate serve`` and the minimal app (``bench/cached_path.py --floor``) it splits the cached path's
cost in two: what Syndicate's process and access log cost aiohttp's own work, and what the fast lane's
own steps (known request, variant key, cache lookup, rate limit, conditional answer) cost live.
"""

from __future__ import annotations

import sys
from pathlib import Path

import minimal_app
from aiohttp import web

from syndicate import cli
from syndicate.web import fastlane


def replaying_install(fixture: Path) -> None:
    """Make ``fastlane.install`` (called by ``syndicate serve``) put the replay in front of the lane."""
    replay = minimal_app.replayer(minimal_app.load(fixture))
    install = fastlane.install

    def with_replay(runner: web.AppRunner) -> fastlane.FastLane:
        lane = install(runner)

        async def handler(request: web.BaseRequest) -> web.StreamResponse:
            answered = replay(request)
            return answered if answered is not None else await lane(request)

        assert runner.server is not None  # set up by install
        runner.server.request_handler = handler
        return lane

    fastlane.install = with_replay


if __name__ == "__main__":
    config, port, fixture = sys.argv[1:4]
    replaying_install(Path(fixture))
    raise SystemExit(cli.main(["serve", "--config", config, "--port", port]))
