"""Hot reload: build a new Snapshot off the event loop and swap it in only when it is acceptable.

Whatever triggers a reload (file watcher, SIGHUP, admin API) ends up in ``Reloader.reload``,
so there is one acceptance rule and one place that swaps. The rule (docs/ops.md): a
candidate is rejected when it has an error the current Snapshot does not already have;
the server then keeps serving the last good Snapshot and reports the errors until fixed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from syndicate import collector
from syndicate.content.parsecache import ChangeLog
from syndicate.metrics import count_reload
from syndicate.problems import Level, LoadError, Problem
from syndicate.snapshot import Snapshot, build_snapshot

log = logging.getLogger("syndicate.reload")
WATCH = "watch"  # the trigger of reloads the file watcher asks for
#: The one full check the watcher asks for once its watch has settled, so its later reloads may trust it.
SETTLED = "watch settled"


class Holder(Protocol):
    """Where the current Snapshot lives (``web.state.SnapshotHolder``)."""

    @property
    def current(self) -> Snapshot: ...

    def replace(self, snapshot: Snapshot) -> None: ...


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """One reload attempt, as shown on /admin/status and returned by POST /admin/reload."""

    trigger: str  # "watch", "SIGHUP", "admin", "adspace PUT 4", ...
    at: dt.datetime
    accepted: bool
    generation: int  # the generation served after this attempt
    seconds: float
    errors: tuple[Problem, ...] = ()  # why it was rejected; empty when accepted


def _identity(problem: Problem) -> tuple[Path, str]:
    """Errors are compared without their line: editing above a known error moves it, it is the same error."""
    return (problem.path, problem.message)


def blocking_errors(current: Snapshot, candidate: Snapshot) -> list[Problem]:
    """The errors that keep ``candidate`` from replacing ``current``."""
    known = {_identity(p) for p in current.problems if p.level is Level.ERROR}
    blocking = [p for p in candidate.problems if p.level is Level.ERROR and _identity(p) not in known]
    folder = candidate.config.adspaces_dir
    if current.spaces and not candidate.spaces and not folder.is_dir():
        # At startup a site without ads is fine; on reload a vanished folder is a mistake.
        blocking.append(Problem(folder, 0, Level.ERROR, "ad spaces folder is gone; every ad would disappear"))
    blocking += cut_short(current, candidate)
    return blocking


def cut_short(current: Snapshot, candidate: Snapshot) -> list[Problem]:
    """Spaces that lost every unit, or their if_empty, without the file saying so: what a file cut short
    looks like (still valid YAML). ``units: []`` and ``if_empty: null`` say it is meant; deleting the
    file removes the space."""
    found: list[Problem] = []
    for space_id, before in sorted(current.spaces.items()):
        after = candidate.spaces.get(space_id)
        if after is None:
            continue
        if before.units and not after.units and not after.units_written:
            found.append(
                Problem(
                    after.path,
                    0,
                    Level.ERROR,
                    f"units: the space had {len(before.units)} units and this file has none "
                    "(half-written?); write 'units: []' to empty it on purpose",
                )
            )
        if before.if_empty and not after.if_empty and not after.if_empty_written:
            found.append(
                Problem(
                    after.path,
                    0,
                    Level.ERROR,
                    f"if_empty: the space fell back to {before.if_empty!r} and this file no longer "
                    "says (half-written?); write 'if_empty: null' to drop the fallback on purpose",
                )
            )
    return found


#: A file as a build read it: (inode, size, modification time in ns); None when there was none.
FileState = tuple[int, int, int] | None


def file_state(path: Path) -> FileState:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True, slots=True)
class _Built:
    snapshot: Snapshot | None
    errors: tuple[Problem, ...]


class Reloader:
    """Serialises reloads; ``lock`` is also held by admin writes so a write and its reload are one step."""

    def __init__(
        self, holder: Holder, build: Callable[[Path], Snapshot] = build_snapshot, changes: ChangeLog | None = None
    ) -> None:
        self.holder = holder
        self.build = build
        self.changes = changes  # the build's change log: trusted only by reloads that may trust the watcher
        self.lock = asyncio.Lock()
        self.started = time.monotonic()
        self.attempts = 0
        self.last: ReloadOutcome | None = None
        self.rejected: ReloadOutcome | None = None  # the latest rejection, until a reload is accepted
        self._queued: asyncio.Future[ReloadOutcome] | None = None
        #: The files callers wrote, as the reload after each write read them: the watcher's later report of
        #: the same write needs no second reload.
        self.written: dict[Path, FileState] = {}
        self.skipped = 0  # the watcher's reports found already applied
        #: Awaited with (current, new) before each swap: the app renders its busiest pages for ``new`` there.
        self.before_swap: Callable[[Snapshot, Snapshot], Awaitable[object]] | None = None

    @property
    def uptime(self) -> float:
        return time.monotonic() - self.started

    async def reload(self, trigger: str, written: Sequence[Path] = ()) -> ReloadOutcome:
        """Reload now; callers arriving while a reload waits for the lock share that reload,
        which starts after their call and so sees every change made before it."""
        joined = self._queued
        if joined is not None:
            try:
                return await asyncio.shield(joined)
            except asyncio.CancelledError:
                if not joined.cancelled():
                    raise  # this caller was cancelled
                # the reload we joined was abandoned before it ran: run one ourselves
        queued: asyncio.Future[ReloadOutcome] = asyncio.get_running_loop().create_future()
        self._queued = queued
        try:
            async with self.lock:
                if self._queued is queued:
                    self._queued = None
                outcome = await self.reload_locked(trigger, written)
        except BaseException:
            if self._queued is queued:
                self._queued = None
            queued.cancel()
            raise
        queued.set_result(outcome)
        return outcome

    async def reload_locked(self, trigger: str, written: Sequence[Path] = ()) -> ReloadOutcome:
        """Reload while the caller already holds ``lock``. ``written``: the files the caller just wrote.

        Only a reload the watcher triggered, or one after writes to ad spaces alone, trusts the watcher's
        change log to skip article folders it saw no change in: a caller that wrote an article, or asked
        for a reload (SIGHUP, POST /admin/reload), gets every file checked."""
        assert self.lock.locked(), "reload_locked needs the reload lock"
        current = self.holder.current
        begun = time.monotonic()
        for path in written:  # before the build reads them: a write after this point differs
            self.written[path.resolve()] = file_state(path)
        collector.young()  # what requests left, while it is little: the swap freezes the rest unwalked
        with collector.paused():  # from the build to the swap (see collector.py)
            return await self._build_and_swap(trigger, written, current, begun)

    async def _build_and_swap(
        self, trigger: str, written: Sequence[Path], current: Snapshot, begun: float
    ) -> ReloadOutcome:
        if self.changes is not None:
            self.changes.trusted = trigger == WATCH or _ad_spaces_only(written, current.config.adspaces_dir)
        try:
            built = await asyncio.get_running_loop().run_in_executor(None, self._candidate, current)
        finally:
            if self.changes is not None:
                self.changes.trusted = False
        self.attempts += 1
        seconds = time.monotonic() - begun
        root = current.config.root
        if built.snapshot is None:
            outcome = ReloadOutcome(trigger, dt.datetime.now(dt.UTC), False, current.generation, seconds, built.errors)
            self.rejected = outcome
            for problem in built.errors:
                log.error("%s", problem.format(root))
            log.error(
                "reload (%s) rejected with %d error(s); still serving generation %d",
                trigger,
                len(built.errors),
                current.generation,
            )
        else:
            new = built.snapshot
            await self.swap(new)
            outcome = ReloadOutcome(trigger, dt.datetime.now(dt.UTC), True, new.generation, seconds)
            self.rejected = None
            _warn_restart_settings(current, new)
            log.info(
                "reload (%s): generation %d, %d articles (%d parsed), %d ad spaces, %.0f ms",
                trigger,
                new.generation,
                new.article_count,
                new.parsed,
                len(new.spaces),
                seconds * 1000,
            )
        self.last = outcome
        count_reload(trigger, outcome.accepted, seconds)
        return outcome

    def applied(self, paths: Sequence[Path]) -> bool:
        """Whether every path is as the last reload that wrote it read it: nothing new to load."""
        return bool(paths) and all(
            (path := changed.resolve()) in self.written and file_state(path) == self.written[path] for changed in paths
        )

    def skip(self, paths: Sequence[Path]) -> bool:
        """``applied``, counted in ``skipped``: the watcher asks before reloading for changes it saw."""
        if not self.applied(paths):
            return False
        self.skipped += 1
        log.debug("changes to %s already applied by the reload that wrote them", ", ".join(map(str, paths)))
        return True

    async def swap(self, new: Snapshot) -> None:
        """Make ``new`` current (the caller holds ``lock``), after ``before_swap`` prepared for it; a failure
        there is logged and the swap happens all the same."""
        assert self.lock.locked(), "swap needs the reload lock"
        if self.before_swap is not None:
            try:
                await self.before_swap(self.holder.current, new)
            except Exception:
                log.exception("preparing generation %d failed; swapping it in unprepared", new.generation)
        self.holder.replace(new)

    def _candidate(self, current: Snapshot) -> _Built:
        """Runs in a worker thread: the build is synchronous CPU and disk work."""
        try:
            candidate = self.build(current.config.path)
        except LoadError as exc:
            return _Built(None, tuple(exc.problems))
        except Exception:
            log.exception("reload failed")
            error = Problem(current.config.path, 0, Level.ERROR, "reload failed with an internal error (logged)")
            return _Built(None, (error,))
        blocking = blocking_errors(current, candidate)
        return _Built(None, tuple(blocking)) if blocking else _Built(candidate, ())


def _ad_spaces_only(written: Sequence[Path], folder: Path) -> bool:
    """Whether every written file is an ad space: a build reads all of those anyway."""
    spaces = folder.resolve()
    return bool(written) and all(path.resolve().is_relative_to(spaces) for path in written)


def _warn_restart_settings(old: Snapshot, new: Snapshot) -> None:
    """Settings read once at start: say so instead of silently ignoring the edit."""
    if (old.config.server.host, old.config.server.port) != (new.config.server.host, new.config.server.port):
        log.warning("server.host/server.port changed in %s: restart to listen there", new.config.path.name)


def problem_dicts(problems: Sequence[Problem], root: Path, limit: int = 500) -> list[dict[str, object]]:
    """Problems as JSON-ready dicts, at most ``limit`` of them."""
    return [p.as_dict(root) for p in problems[:limit]]
