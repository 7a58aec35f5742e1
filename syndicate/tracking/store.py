"""Where counts are kept: a small ``Store`` interface and its embedded SQLite implementation.

Handlers never see the store; the tracker calls it from one worker thread, so
every method here may block. The PostgreSQL store (``syndicate.storage.pgstore``)
implements the same methods.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple, Protocol

from syndicate.tracking.events import CountKey

log = logging.getLogger("syndicate.tracking")

Grouping = Literal["total", "day", "space", "unit", "partner"]
#: The columns each grouping keys on (a unit id is unique within its space only).
GROUP_COLUMNS: dict[Grouping, tuple[str, ...]] = {
    "total": (),
    "day": ("day",),
    "space": ("space",),
    "unit": ("space", "unit"),
    "partner": ("partner",),
}
FILE_NAME = "tracking.sqlite3"
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS counts (
    day     TEXT    NOT NULL,  -- UTC date, YYYY-MM-DD
    space   TEXT    NOT NULL,  -- ad space id ('' for fetch and dropped rows)
    unit    TEXT    NOT NULL,  -- ad unit id ('' for fetch and dropped rows)
    partner TEXT    NOT NULL,  -- audience id: a partner, or 'public'
    kind    TEXT    NOT NULL,  -- served | fetch | rendered | click | dropped
    class   TEXT    NOT NULL,  -- partner | browser | feed | proxy | bot | other
    n       INTEGER NOT NULL,
    PRIMARY KEY (day, space, unit, partner, kind, class)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS counts_by_unit ON counts (space, unit, kind);  -- for caps (Store.lifetime)
-- the replay filter of the workers of one `serve --workers N`: keyed digests, for a few seconds
CREATE TABLE IF NOT EXISTS recent_events (digest BLOB PRIMARY KEY, seen REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS recent_events_seen ON recent_events (seen);
PRAGMA user_version = 1;
"""
REMEMBER = """
INSERT INTO recent_events (digest, seen) VALUES (?, ?)
ON CONFLICT (digest) DO UPDATE SET seen = excluded.seen WHERE recent_events.seen < excluded.seen - ?
RETURNING digest
"""
UPSERT = """
INSERT INTO counts (day, space, unit, partner, kind, class, n) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (day, space, unit, partner, kind, class) DO UPDATE SET n = n + excluded.n
"""


@dataclass(frozen=True, slots=True)
class Group:
    """One row of a grouped query: the key columns' values, then a kind, an agent class and a sum."""

    key: tuple[str, ...]
    kind: str
    agent: str
    n: int


#: Classes counted apart from the headline figures (docs/tracking.md); caps are judged on the headline.
NOT_HEADLINE = ("bot", "proxy")
#: The kinds caps are judged on.
CAP_KINDS = ("served", "click")
_LIFETIME_CHUNK = 400  # units per query: two SQL variables each, well under SQLite's limit


class UniqueEvent(NamedTuple):
    """A click or pixel load to count once across replicas or workers: its replay digest, when, its counter."""

    digest: bytes
    seen: float  # epoch seconds
    key: CountKey


def first_of_each(events: Sequence[UniqueEvent]) -> list[UniqueEvent]:
    """One event per digest (the first), in digest order: one lock order for every writer."""
    first: dict[bytes, UniqueEvent] = {}
    for event in events:
        first.setdefault(event.digest, event)
    return sorted(first.values(), key=lambda e: e.digest)


def fresh_counts(events: Sequence[UniqueEvent], fresh: set[bytes]) -> dict[CountKey, int]:
    """The counts of the events whose digest the store had not seen within the window."""
    counts: dict[CountKey, int] = {}
    for event in events:
        if event.digest in fresh:
            counts[event.key] = counts.get(event.key, 0) + 1
    return counts


class Lifetime(NamedTuple):
    """Headline events of one unit for one audience over every day: what caps are judged on."""

    space: str
    unit: str
    partner: str
    kind: str  # served | click
    n: int


class Store(Protocol):
    """Aggregated counts. Blocking; called from a single worker thread."""

    def open(self) -> None: ...

    def add(self, counts: Mapping[CountKey, int]) -> None:
        """Add ``counts`` to what is stored, all or nothing."""

    def add_unique(self, events: Sequence[UniqueEvent], window: float) -> None:
        """Count each event whose digest was not stored within ``window`` seconds (by this store or another
        on the same data), all or nothing: the replay filter shared by replicas or workers."""

    def grouped(self, by: Grouping, since: dt.date | None, until: dt.date | None) -> list[Group]:
        """Sums per ``by`` key, kind and class, for days from ``since`` to ``until`` inclusive."""

    def lifetime(self, units: Collection[tuple[str, str]]) -> list[Lifetime]:
        """For the (space id, unit id) pairs in ``units`` only: sums over every day per (space, unit, partner,
        kind) of kinds ``served`` and ``click``, classes ``bot`` and ``proxy`` left out. Nothing when
        ``units`` is empty. The tracker calls it after every flush while some unit has a cap, so it should
        use an index on (space, unit, kind)."""

    def close(self) -> None: ...


class CorruptStore(sqlite3.DatabaseError):
    """The file is not a usable database."""


def is_corrupt(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, CorruptStore) or (
        code is not None and code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    )


class SqliteStore:
    """``data_dir/tracking.sqlite3`` in WAL mode: readers (the CLI) never block the writer.

    A corrupt file is moved aside (``*.corrupt-<UTC time>``) and a fresh one started,
    unless ``repair`` is off (the CLI, which must not move the server's file). A file
    deleted or replaced under a running server (``rm data/tracking.sqlite3``, or all of
    ``data/``) is noticed before the next write or read: an open connection would go on
    writing to the unlinked file, and every later count would vanish with it.
    """

    def __init__(self, path: Path, repair: bool = True) -> None:
        self.path = path
        self.repair = repair
        self._conn: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file the connection has open

    def open(self) -> None:
        if self._conn is not None:
            self._same_file()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError as exc:
            if not (self.repair and is_corrupt(exc)):
                raise
            self._set_aside(exc)
            self._conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=5.0)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across a process kill
            check = conn.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise CorruptStore(f"quick_check says {check[0] if check else 'nothing'}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise sqlite3.OperationalError(f"{self.path} has schema {version}, newer than this version's")
            conn.executescript(SCHEMA)
            self._identity = _identity(self.path)
        except BaseException:
            conn.close()
            raise
        return conn

    def _same_file(self) -> None:
        """Reopen when the file on disk is no longer the one the connection writes to."""
        found = _identity(self.path)
        if found == self._identity:
            return
        log.error(
            "tracking store %s was deleted or replaced while serving; counts go to %s from now on "
            "(what was already written went with the old file)",
            self.path,
            "the file now there" if found else "a new one",
        )
        self.close()
        if found is None:  # the old file's WAL and shared memory must not be replayed into a new database
            for suffix in ("-wal", "-shm"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
        self.open()

    def _set_aside(self, exc: BaseException) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = self.path.with_name(self.path.name + suffix)
            if source.exists():
                source.rename(aside.with_name(aside.name + suffix))
        log.error(
            "tracking store %s is not a usable SQLite database (%s): moved it to %s and started a fresh one",
            self.path,
            exc,
            aside.name,
        )

    def add(self, counts: Mapping[CountKey, int]) -> None:
        rows = [(*key, n) for key, n in counts.items() if n]
        if not rows:
            return
        self.open()
        try:
            self._write(rows)
        except sqlite3.DatabaseError as exc:
            if not (self.repair and is_corrupt(exc)):
                raise
            self.close()
            self._set_aside(exc)
            self.open()
            self._write(rows)

    def add_unique(self, events: Sequence[UniqueEvent], window: float) -> None:
        """Count each event whose digest no worker stored within ``window`` seconds, all or nothing
        (the replay filter of the workers of one ``serve --workers N``; ``fleet/replays.py``)."""
        ordered = first_of_each(events)
        if not ordered:
            return
        self.open()
        conn = self._conn
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            fresh = {
                e.digest for e in ordered if conn.execute(REMEMBER, (e.digest, e.seen, window)).fetchone() is not None
            }
            conn.executemany(UPSERT, [(*key, n) for key, n in fresh_counts(ordered, fresh).items()])
            conn.execute("DELETE FROM recent_events WHERE seen < ?", (min(e.seen for e in ordered) - 2 * window,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _write(self, rows: Sequence[tuple[str | int, ...]]) -> None:
        conn = self._conn
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(UPSERT, rows)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already (a full disk does)
                conn.execute("ROLLBACK")
            raise

    def grouped(self, by: Grouping, since: dt.date | None, until: dt.date | None) -> list[Group]:
        self.open()
        assert self._conn is not None
        columns = GROUP_COLUMNS[by]  # from a fixed table: safe to put in the SQL text
        keys = ", ".join(columns)
        select = f"{keys}, " if keys else ""
        order = f" ORDER BY {keys}" if keys else ""
        sql = (
            f"SELECT {select}kind, class, SUM(n) FROM counts WHERE day >= ? AND day <= ? "
            f"GROUP BY {select}kind, class{order}"
        )
        low = since.isoformat() if since else "0000-01-01"
        high = until.isoformat() if until else "9999-12-31"
        width = len(columns)
        return [
            Group(tuple(row[:width]), row[width], row[width + 1], int(row[width + 2]))
            for row in self._conn.execute(sql, (low, high))
        ]

    def lifetime(self, units: Collection[tuple[str, str]]) -> list[Lifetime]:
        if not units:
            return []
        self.open()
        assert self._conn is not None
        pairs = sorted(units)
        found: list[Lifetime] = []
        for start in range(0, len(pairs), _LIFETIME_CHUNK):
            chunk = pairs[start : start + _LIFETIME_CHUNK]
            values = ", ".join("(?, ?)" for _ in chunk)
            sql = (
                f"SELECT space, unit, partner, kind, SUM(n) FROM counts WHERE (space, unit) IN (VALUES {values}) "
                f"AND kind IN ('served', 'click') AND class NOT IN ('bot', 'proxy') "
                "GROUP BY space, unit, partner, kind"
            )
            params = [text for pair in chunk for text in pair]
            found += [Lifetime(row[0], row[1], row[2], row[3], int(row[4])) for row in self._conn.execute(sql, params)]
        return found

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._identity = None


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of ``path``, or None when it is gone."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return (found.st_dev, found.st_ino)
