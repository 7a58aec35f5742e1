"""Running the server: one process, or N workers sharing the port (SO_REUSEPORT).

Each worker builds its own Snapshot and cache; rate limits and the replay filter
are shared by all of them (``fleet/workers.py``, or the shared store's fleet
mechanism). The parent only supervises:
it forwards SIGTERM/SIGINT (stop) and SIGHUP (reload) and restarts a worker
that dies unexpectedly. A worker whose supervisor is gone (killed with SIGKILL) stops itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

from aiohttp import web

from syndicate import collector
from syndicate.fleet.workers import WORKERS_ENV
from syndicate.memory import release_freed_soon
from syndicate.metrics import MULTIPROC_ENV
from syndicate.snapshot import BuildCache, Snapshot
from syndicate.web import fastlane
from syndicate.web.accesslog import AccessLog, KeylessAccessLogger
from syndicate.web.state import SNAPSHOTS

log = logging.getLogger("syndicate")
access = logging.getLogger("syndicate.access")
#: How long an idle keep-alive connection is kept open (``web.run_app``'s default).
KEEPALIVE_SECONDS = 75.0
#: Seconds a thread may hold the GIL while another waits (Python's default: 5 ms). Each step of a request
#: on the loop (its read, its answer, its write) may wait this long for a render thread: at 100,000
#: articles, /healthz probes during cold 1,000-item partner renders had a p99 of 7.3-9.6 ms at 1 ms and
#: 5.0-6.5 ms at 0.5 ms (idle 2.6-3.0). Without a second thread wanting the GIL it costs nothing.
SWITCH_INTERVAL = 0.0005


def tune_for_serving(app: web.Application) -> None:
    """Keep the event loop responsive while renders and reloads run in threads.

    A full garbage collection walks every object of the Snapshot (tens of ms at 10,000 articles)
    and stalls the loop; the Snapshot is immutable and acyclic, so after each build its objects are
    moved out of the collector's sight (``gc.freeze``); they are still freed by reference counting
    when a newer Snapshot replaces them. At start everything is collected first. A swap, which runs
    on the loop while requests wait, only freezes: any collection there walks the build's new
    objects, and a young one took 16-24 ms at 100,000 articles and found nothing to free. The
    reload collected the young generations as it began (``Reloader.reload_locked``), and collections
    stay off from then to the swap (``collector.paused``), so what is frozen is what the build made
    and what requests kept meanwhile. A shorter thread switch interval (``SWITCH_INTERVAL``) lets
    the loop run between a render thread's steps.
    """

    def freeze(*_: object) -> None:
        gc.freeze()
        release_freed_soon()  # the build's transient memory, and the old Snapshot's, back to the system

    sys.setswitchinterval(SWITCH_INTERVAL)
    gc.collect()
    freeze()
    gc.enable()  # off since the first build began (``collector.paused`` in ``cmd_serve`` and ``_worker``)
    app[SNAPSHOTS].listeners.append(freeze)


def serve_one(
    config: Path | Snapshot, host: str, port: int, reuse_port: bool = False, reuse: BuildCache | None = None
) -> None:
    """Build the app and serve until SIGTERM/SIGINT (``reuse``: the cache a given Snapshot was built
    with). Raises ``LoadError`` on a broken config."""
    from syndicate.web.app import create_app

    app = create_app(config, watch=True, host=host, port=port, reuse=reuse)
    tune_for_serving(app)
    KeylessAccessLogger.sink = sink = AccessLog(sys.stderr)

    async def flush_access_log(_: web.Application) -> None:
        sink.flush()

    app.on_cleanup.append(flush_access_log)
    run(app, host, port, reuse_port)


async def _serve(app: web.Application, host: str, port: int, reuse_port: bool) -> None:
    """``web.run_app``'s own steps (signals stop it gracefully), with the fast lane in front of the app."""
    runner = web.AppRunner(
        app,
        handle_signals=True,
        keepalive_timeout=KEEPALIVE_SECONDS,
        access_log=access,
        access_log_class=KeylessAccessLogger.serving(app),
    )
    await runner.setup()
    fastlane.install(runner)
    try:
        await web.TCPSite(runner, host, port, reuse_port=reuse_port).start()
        await asyncio.Event().wait()  # until a signal raises GracefulExit
    finally:
        await runner.cleanup()


def run(app: web.Application, host: str, port: int, reuse_port: bool = False) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, then stop it gracefully: open requests finish, cleanup hooks
    (the tracker's last flush) run, and every task left is cancelled before the loop closes."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(_serve(app, host, port, reuse_port))
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            if not main.done():
                main.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    loop.run_until_complete(main)
        finally:
            left = asyncio.all_tasks(loop)
            for task in left:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


def stop_when_orphaned(parent: int, every: float = 0.5) -> threading.Thread:
    """Stop this worker (SIGTERM to itself: a graceful stop) once its supervisor is gone.

    A supervisor killed with SIGKILL forwards nothing; without this its workers would keep the
    port and serve on, unsupervised and beyond ops' reach.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        log.error("supervisor %d is gone; stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, name="orphan-watch", daemon=True)
    thread.start()
    return thread


def _worker(config_path: Path, host: str, port: int, parent: int) -> None:
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s %(levelname)s [worker {os.getpid()}] %(name)s: %(message)s"
    )
    stop_when_orphaned(parent)
    with collector.paused():  # until tune_for_serving freezes the first Snapshot
        serve_one(config_path, host, port, reuse_port=True, reuse=BuildCache(persist=True))


class Supervisor:
    """Keeps N workers running until told to stop."""

    def __init__(self, config_path: Path, host: str, port: int, workers: int) -> None:
        self.args = (config_path, host, port)
        self.count = workers
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[BaseProcess] = []
        self.stopping = False

    def start_worker(self) -> BaseProcess:
        process = self.context.Process(target=_worker, args=(*self.args, os.getpid()), daemon=False)
        process.start()
        return process

    def forward(self, signum: int, frame: FrameType | None) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT):
            self.stopping = True
        for process in self.workers:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGINT if signum == signal.SIGINT else signum)

    def run(self) -> int:
        """Run the workers until told to stop, their metrics shared through a folder of their own."""
        given = os.environ.get(MULTIPROC_ENV)
        folder = given or tempfile.mkdtemp(prefix="syndicate-metrics-")
        os.environ[MULTIPROC_ENV] = folder  # spawned workers inherit it: multiprocess metrics
        os.environ[WORKERS_ENV] = str(self.count)  # and this: one rate limit and replay filter for all
        try:
            return self._supervise()
        finally:
            del os.environ[WORKERS_ENV]
            if not given:
                shutil.rmtree(folder, ignore_errors=True)
                del os.environ[MULTIPROC_ENV]

    def _supervise(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self.forward)
        self.workers = [self.start_worker() for _ in range(self.count)]
        log.info("started %d workers: %s", self.count, ", ".join(str(p.pid) for p in self.workers))
        restarts = 0
        while not self.stopping:
            time.sleep(0.2)
            for index, process in enumerate(self.workers):
                if not process.is_alive() and not self.stopping:
                    restarts += 1
                    if restarts > 10 * self.count:
                        log.error("workers keep dying (exit code %s); stopping", process.exitcode)
                        self.stopping = True
                        self.forward(signal.SIGTERM, None)
                        break
                    log.error("worker %s exited with %s; restarting", process.pid, process.exitcode)
                    self.workers[index] = self.start_worker()
        for process in self.workers:
            process.join(timeout=15)
            if process.is_alive():
                process.kill()
        log.info("all workers stopped")
        return 0
