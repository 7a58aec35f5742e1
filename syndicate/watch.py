"""Reload when ops edit files or send SIGHUP.

watchfiles (a Rust watcher, run off the event loop) reports changes under
``feeds/`` and ``adspaces/`` recursively, and to ``config.yaml`` and the content
folders themselves through a non-recursive watch on their parents: the config
folder may hold anything (a virtualenv, a git checkout) and must not be walked.
Changes are debounced: a batch ends after ``step_ms`` without a change, so an
editor saving in two steps causes one reload of the finished file. A batch holding
only files the admin API wrote, still as the reload after the write read them, causes
none: that reload made them live already.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import watchfiles

from syndicate.config import Config
from syndicate.content.parsecache import ChangeLog
from syndicate.reload import SETTLED, WATCH

log = logging.getLogger("syndicate.watch")

#: Editor droppings and our own temporary files: never a reason to reload.
_IGNORED_SUFFIXES = (".tmp", ".swp", ".swx", ".bak", "~")


@dataclass(frozen=True, slots=True)
class Targets:
    """What to watch for one config; compared after each reload to follow moved or re-created folders."""

    config_file: Path
    folders: tuple[Path, ...]  # feeds/ and adspaces/
    trees: tuple[Path, ...]  # the folders that exist: watched recursively
    parents: tuple[Path, ...]  # watched without their subfolders, for config.yaml and the folders themselves

    @classmethod
    def of(cls, config: Config) -> Targets:
        folders = (config.feeds_dir.resolve(), config.adspaces_dir.resolve())
        parents = {config.path.parent, *(folder.parent for folder in folders)}
        return cls(
            config.path,
            folders,
            tuple(f for f in folders if f.is_dir()),
            tuple(sorted(p for p in parents if p.is_dir())),
        )

    def wanted(self, path_text: str) -> bool:
        """Whether a change to ``path_text`` can change the Snapshot."""
        path = Path(path_text)
        if path == self.config_file or path in self.folders:
            return True
        tree = next((t for t in self.trees if path.is_relative_to(t)), None)
        if tree is None:
            return False
        parts = path.relative_to(tree).parts
        return not any(part.startswith((".", "#")) for part in parts) and not _scratch(path.name)


def _scratch(name: str) -> bool:
    return name.endswith(_IGNORED_SUFFIXES) or name == "4913" or "___jb_" in name  # vim's probe, JetBrains


class Watcher:
    """Runs ``reload(trigger)`` after file changes and on SIGHUP, until ``close``."""

    def __init__(
        self,
        config: Callable[[], Config],
        reload: Callable[[str], Awaitable[object]],
        step_ms: int = 100,
        debounce_ms: int = 2000,
        changes: ChangeLog | None = None,
        applied: Callable[[Sequence[Path]], bool] | None = None,
    ) -> None:
        self.config = config
        self.reload = reload
        #: Whether changes seen are already live (the admin API wrote and reloaded them): no reload then.
        self.applied = applied
        self.changes = changes  # told of every change seen, so a reload can skip folders without one
        self.step_ms = step_ms
        self.debounce_ms = debounce_ms
        self.sighup = False  # True once the SIGHUP handler is installed
        self._dirty = asyncio.Event()
        self._closing = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        logging.getLogger("watchfiles").setLevel(logging.WARNING)  # it logs every batch at INFO; we log reloads
        self._spawn(self._supervise())
        if self.changes is not None:
            self._spawn(self._settle(self.changes))
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._on_sighup)
            self.sighup = True
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):
            log.warning("SIGHUP reload is not available here; use POST /admin/reload")

    async def close(self) -> None:
        self._closing.set()
        if self.changes is not None:
            self.changes.stopped()
        if self.sighup:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            self.sighup = False
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coroutine: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _on_sighup(self) -> None:
        log.info("SIGHUP: reloading")
        self._spawn(self._reload("SIGHUP"))

    async def _reload(self, trigger: str) -> None:
        try:
            await self.reload(trigger)
        except Exception:
            log.exception("reload (%s) failed", trigger)

    async def _settle(self, changes: ChangeLog, limit: float = 60.0) -> None:
        """Once the watch has settled, one reload that checks every file (the start-up build ran before any
        watch, so nothing vouches for its scans): from then on an edit reads only its own folder, not the
        whole site (at 100,000 articles, a stat of every file on the first edit)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while changes.live_since is None or time.monotonic() < changes.live_since:
            if loop.time() > deadline or self._closing.is_set():
                return
            await asyncio.sleep(0.1)
        await self._reload(SETTLED)

    async def _supervise(self) -> None:
        """Watch, reload on each batch, and restart the watches when what to watch has changed."""
        while not self._closing.is_set():
            targets = Targets.of(self.config())
            stop = asyncio.Event()
            streams = [self._spawn(self._stream(targets.trees, True, targets, stop))] if targets.trees else []
            streams.append(self._spawn(self._stream(targets.parents, False, targets, stop)))
            try:
                while Targets.of(self.config()) == targets:
                    await self._dirty.wait()
                    self._dirty.clear()
                    await self._reload(WATCH)
            finally:
                stop.set()
                await asyncio.gather(*streams, return_exceptions=True)

    async def _stream(self, paths: tuple[Path, ...], recursive: bool, targets: Targets, stop: asyncio.Event) -> None:
        """Set ``_dirty`` for every batch of relevant changes; retries after a watcher failure."""
        while not stop.is_set():
            if self.changes is not None:
                self.changes.watching()
            try:
                async for changes in watchfiles.awatch(
                    *paths,
                    recursive=recursive,
                    stop_event=stop,
                    step=self.step_ms,
                    debounce=self.debounce_ms,
                    watch_filter=None,
                    ignore_permission_denied=True,
                ):
                    wanted = [Path(path) for _, path in changes if targets.wanted(path)]
                    if wanted:
                        if self.changes is not None:
                            for path in wanted:
                                self.changes.mark(path)
                        if self.applied is None or not self.applied(wanted):
                            self._dirty.set()
            except Exception as exc:  # a watched folder vanished, inotify limits, ...
                if self.changes is not None:
                    self.changes.stopped()
                log.warning("file watcher stopped (%s); retrying", exc)
                self._dirty.set()  # the reload after it notices what changed, and retargets
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
