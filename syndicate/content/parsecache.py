"""Parsed articles kept from one Snapshot build to the next, so a reload costs what changed.

An article's parse depends on its text, its path (slug, default id, feed folder) and
``ArticleInputs``: the site URL fields and the body renderer's tags. A file whose stat
(inode, size, modification and change times) is what it was when it was read is not read
again. One whose stat changed, or that was written so close to its reading that an edit
could have kept its stat (the "racy" case: timestamps are coarse), is read and hashed, and
parsed again only when its text or the inputs differ. The problems a parse reported are
kept with it and reported again, in the same order, so a reused parse is indistinguishable
from a fresh one.

A folder none of whose files changed is taken whole: its articles already sorted, its
problems, its ids. Symbolic links are never cached (their target can change under an
unchanged stat of their own), nor is a folder that holds one.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from syndicate.content.model import Article, changes, newest_first
from syndicate.problems import Problem, ProblemList

#: A file modified less than this before it was read may have been written again within one
#: timestamp tick (FAT's is 2 s): such a file is hashed on the next build instead of trusted.
RACY_NS = 2_000_000_000

StatKey = tuple[int, int, int, int]  # inode, size, mtime_ns, ctime_ns


@dataclass(frozen=True, slots=True)
class ArticleInputs:
    """Everything besides the file that an article's parse reads: a change to any of it re-parses all."""

    base_url: str
    host: str
    tag_date: str
    article_url: str
    feeds_root: Path
    shortcode_tags: frozenset[str]
    guarded_tags: frozenset[str]


@dataclass(frozen=True, slots=True)
class Parsed:
    """One file's parse, and the stat and hash of the text it came from."""

    stat: StatKey
    read_ns: int  # when the text was read: judges whether the stat can be trusted next time
    text_hash: bytes
    inputs: ArticleInputs
    feed: str
    article: Article | None  # None: skipped (a draft, or an error that is among ``problems``)
    problems: tuple[Problem, ...]

    @property
    def settled(self) -> bool:
        """Whether the file was modified long enough before its reading for its stat to be trusted: a later
        write can only leave the stat as it was by giving the file the very same mtime, which means one
        within a timestamp tick of that reading."""
        return self.stat[2] < self.read_ns - RACY_NS


@dataclass(frozen=True, slots=True)
class FolderOutcome:
    """What walking a feed folder gave: the part of a build a folder with no change can skip."""

    articles: tuple[Article, ...]  # newest first
    problems: tuple[Problem, ...]  # its articles' problems and the duplicate-id errors, in order
    uids: dict[str, Path]  # the accepted articles' tag URIs


@dataclass(frozen=True, slots=True)
class FolderParses:
    names: tuple[str, ...]  # the article files, sorted
    stats: tuple[StatKey, ...]  # theirs, in that order
    inputs: ArticleInputs
    records: dict[str, Parsed]  # by file name
    outcome: FolderOutcome | None  # None: walk it again (a file was unreadable, a link, or an id clashed)
    scan: ScanToken | None = None  # when its files were last listed and stat-ed, as the change log counts
    uids: dict[str, Path] = field(default_factory=dict)  # its accepted articles' tag URIs (``content/uids.py``)


class ChangeLog:
    """The folders the file watcher saw change, so a build it triggers can skip the others unread.

    Every reported path marks itself and its folder with a rising number. A folder scanned while the
    watcher was running, with no mark since that scan began, cannot have changed: a build that trusts the
    log (``trusted``) takes it as it was without listing or stat-ing its files. A change not reported yet
    when a build starts is reported later, marks its folder and triggers the reload that reads it.
    Written on the event loop, read by the build thread: single dict operations, atomic under the GIL."""

    #: How long a watch must have run before it is trusted to report every change (setting up takes ms).
    SETTLING = 1.0

    def __init__(self) -> None:
        self.seq = 0
        self.epoch = 0  # bumped whenever a watch (re)starts or fails: scans before it are not covered
        self.live_since: float | None = None  # monotonic time from which every change is reported
        self.trusted = False  # set per build by the Reloader: may this build skip unmarked folders?
        self._marks: dict[Path, int] = {}  # a path, or a path in it
        self._direct: dict[Path, int] = {}  # the path itself (a folder renamed, replaced, ...)
        self._names: dict[Path, dict[str, int]] = {}  # by folder, its entries by name

    def mark(self, path: Path) -> None:
        self.seq += 1
        self._marks[path] = self._marks[path.parent] = self._direct[path] = self.seq
        self._names.setdefault(path.parent, {})[path.name] = self.seq

    def watching(self) -> None:
        """A watch (re)started: nothing it did not see can be trusted."""
        self.epoch += 1
        self.live_since = time.monotonic() + self.SETTLING

    def stopped(self) -> None:
        self.epoch += 1
        self.live_since = None

    def token(self) -> ScanToken:
        """Taken as a folder's scan begins."""
        return ScanToken(self.epoch, self.seq, time.monotonic())

    def _covers(self, scan: ScanToken | None) -> bool:
        live = self.live_since
        return (
            self.trusted and scan is not None and live is not None and scan.started >= live and scan.epoch == self.epoch
        )

    def unchanged_since(self, folder: Path, scan: ScanToken | None) -> bool:
        return self._covers(scan) and scan is not None and self._marks.get(folder, 0) <= scan.seq

    def changed_since(self, folder: Path, scan: ScanToken | None) -> set[str] | None:
        """The names in ``folder`` reported changed since ``scan``; None when the log cannot tell (not
        trusted, or the folder itself was replaced: its files could all differ with none reported)."""
        if not self._covers(scan) or scan is None or self._direct.get(folder, 0) > scan.seq:
            return None
        return {name for name, seq in self._names.get(folder, {}).items() if seq > scan.seq}


@dataclass(frozen=True, slots=True)
class ScanToken:
    epoch: int
    seq: int
    started: float


def stat_key(info: os.stat_result) -> StatKey:
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def hash_of(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


#: Reads a file's text (None, with problems recorded, when it cannot be used).
ReadText = Callable[[Path, ProblemList], "str | None"]
#: Parses an article's text, recording its problems.
Parse = Callable[[str, ProblemList], "Article | None"]
Sections = tuple[tuple[Article, ...], ...]


class ParseCache:
    """The parses of the latest build, by folder and file name. One build at a time (the Reloader
    serialises them); a build that fails half-way leaves the cache as the last complete one left it."""

    def __init__(self, changes: ChangeLog | None = None) -> None:
        self.changes = changes or ChangeLog()
        self._scan: ScanToken | None = None
        self._walk_records: dict[str, Parsed] = {}  # the folder being walked, as the last build left it
        self._walk_changed: set[str] | None = None  # its files the watcher reported changed (None: unknown)
        self._kept: dict[Path, FolderParses] = {}
        self._next: dict[Path, FolderParses] = {}
        self._walking: dict[str, Parsed] = {}
        self._all: tuple[Sections, tuple[Article, ...]] | None = None
        self.parsed = 0  # parses run, over this cache's life
        self.reused = 0  # parses taken from an earlier build, one by one
        self.hashed = 0  # files read to compare their hash
        self.folders_kept = 0  # folders taken whole
        self.folders_unread = 0  # of those, folders taken whole without a stat (the watcher saw no change)
        self.files_unread = 0  # files of other folders taken as they were without a stat, likewise
        self.stat_walks = 0  # folders whose every file was stat-ed to see whether the folder changed

    @property
    def empty(self) -> bool:
        """No build has left parses yet."""
        return not self._kept

    @property
    def kept(self) -> dict[Path, FolderParses]:
        """The latest complete build's parses, by folder."""
        return self._kept

    def seed(self, folders: dict[Path, dict[str, Parsed]], inputs: ArticleInputs) -> None:
        """Start from parses kept elsewhere (on disk): each record is used as the last build's own would be,
        trusted by its stat or its text hash; nothing is taken by folder, every folder is walked."""
        for folder, records in folders.items():
            self._kept.setdefault(folder, FolderParses((), (), inputs, records, None))

    def begin(self) -> None:
        self._next, self._walking = {}, {}

    def finish(self) -> None:
        """The build read every folder: its parses are the ones to keep, the rest are forgotten."""
        self._kept, self._next = self._next, {}

    def unwatched_folder(self, folder: Path, inputs: ArticleInputs) -> FolderOutcome | None:
        """The folder's outcome from the last build when the change log says nothing in it changed."""
        self._scan = self.changes.token()  # before anything in the folder is read
        prior = self._kept.get(folder)
        resolved = folder.resolve()
        same = prior is not None and prior.inputs == inputs
        self._walk_records = prior.records if prior is not None and same else {}
        self._walk_changed = self.changes.changed_since(resolved, prior.scan) if prior is not None and same else None
        if prior is None or prior.outcome is None or not same or not self.changes.unchanged_since(resolved, prior.scan):
            return None
        self._next[folder] = prior
        self.folders_kept += 1
        self.folders_unread += 1
        return prior.outcome

    def unchanged_folder(self, folder: Path, names: list[str], inputs: ArticleInputs) -> FolderOutcome | None:
        """The folder's outcome from the last build when no file in it changed (one ``lstat`` each). Not
        tried when the watcher reported a change in it: the walk that follows stats only what it reported."""
        prior = self._kept.get(folder)
        if (
            self._walk_changed
            or prior is None
            or prior.outcome is None
            or prior.inputs != inputs
            or len(names) != len(prior.names)
            or tuple(names) != prior.names
        ):
            return None
        base = str(folder)
        self.stat_walks += 1
        try:
            stats = tuple(stat_key(os.lstat(os.path.join(base, name))) for name in names)
        except OSError:
            return None
        if stats != prior.stats:
            return None
        self._next[folder] = replace(prior, scan=self._scan)
        self.folders_kept += 1
        return prior.outcome

    def walked(self) -> dict[str, Parsed]:
        """The records of the files loaded since the folder walk began, taken out of the walk (for a
        worker process, which parses a share of a folder and keeps nothing)."""
        records, self._walking = self._walking, {}
        return records

    def folder_done(
        self, folder: Path, names: list[str], inputs: ArticleInputs, outcome: FolderOutcome, independent: bool
    ) -> None:
        """Record a walked folder. ``independent``: no article in it was refused for an id another folder
        holds, so its outcome does not depend on the folders before it."""
        records, self._walking = self._walking, {}
        whole = independent and all(name in records and records[name].settled for name in names)
        stats = tuple(records[name].stat for name in names) if whole else ()
        self._next[folder] = FolderParses(
            tuple(names), stats, inputs, records, outcome if whole else None, self._scan, outcome.uids
        )

    def last_uids(self, folder: Path) -> dict[str, Path]:
        """The tag URIs the last build accepted in ``folder`` (none known: empty)."""
        prior = self._kept.get(folder)
        return prior.uids if prior is not None else {}

    def all_articles(self, sections: Sections, merge: Callable[[Sections], tuple[Article, ...]]) -> tuple[Article, ...]:
        """Every section's articles merged: the last build's merge, with only what changed taken out and
        put in, while the sections are the same ones and few of their articles changed."""
        merged = self._remerged(sections) if self._all is not None else None
        if merged is None:
            merged = merge(sections)
        self._all = (sections, merged)
        return merged

    def _remerged(self, sections: Sections) -> tuple[Article, ...] | None:
        assert self._all is not None
        before, merged = self._all
        if len(before) != len(sections):
            return None
        removed: list[Article] = []
        added: list[Article] = []
        for old, new in zip(before, sections, strict=True):
            if old is not new:
                gone, came = changes(old, new)
                removed += gone
                added += came
        if len(removed) + len(added) > len(merged) // 4 + 16:
            return None
        if not removed and not added:
            return merged
        result = _without(merged, removed)
        if result is None:
            return None
        for article in added:
            bisect.insort(result, article, key=newest_first)
        return tuple(result)

    def unreported(self, name: str, feed: str, inputs: ArticleInputs, problems: ProblemList) -> Parsed | None:
        """The last build's record of file ``name`` when the watcher saw no change to it since (its article
        taken as it was, without a ``stat``); None when the file must be looked at (``load``)."""
        changed = self._walk_changed
        prior = self._walk_records.get(name)
        if (
            prior is None
            or changed is None
            or name in changed
            or not prior.settled
            or (prior.inputs, prior.feed) != (inputs, feed)
        ):
            return None
        self.files_unread += 1
        self.reused += 1
        self._walking[name] = prior
        problems.extend(prior.problems)
        return prior

    def load(
        self, path: Path, feed: str, inputs: ArticleInputs, problems: ProblemList, read: ReadText, parse: Parse
    ) -> Article | None:
        """The article at ``path``, parsed again only when its text or ``inputs`` changed. Call it for the
        files of the folder ``unwatched_folder`` was last asked about."""
        if (record := self.unreported(path.name, feed, inputs, problems)) is not None:
            return record.article
        prior = self._walk_records.get(path.name)
        if prior is not None and (prior.inputs, prior.feed) != (inputs, feed):
            prior = None
        try:
            info = os.lstat(path)
        except OSError:
            info = None
        if info is None or not stat.S_ISREG(info.st_mode):  # gone, or a link: let ``read`` report or follow it
            return self._uncached(path, problems, read, parse)
        key = stat_key(info)
        if prior is not None and prior.stat == key and prior.settled:
            return self._reuse(path, prior, prior, problems)
        read_ns = time.time_ns()
        local = ProblemList()
        text = read(path, local)
        if text is None:
            problems.extend(local)
            return None
        self.hashed += 1
        text_hash = hash_of(text)
        if prior is not None and prior.text_hash == text_hash:
            return self._reuse(
                path, Parsed(key, read_ns, text_hash, inputs, feed, prior.article, prior.problems), prior, problems
            )
        self.parsed += 1
        article = parse(text, local)
        self._walking[path.name] = Parsed(key, read_ns, text_hash, inputs, feed, article, tuple(local))
        problems.extend(local)
        return article

    def _reuse(self, path: Path, record: Parsed, prior: Parsed, problems: ProblemList) -> Article | None:
        self.reused += 1
        self._walking[path.name] = record
        problems.extend(prior.problems)
        return prior.article

    def _uncached(self, path: Path, problems: ProblemList, read: ReadText, parse: Parse) -> Article | None:
        text = read(path, problems)
        if text is None:
            return None
        self.parsed += 1
        return parse(text, problems)


#: Up to this many articles are taken out of a merged feed by their place (a search each); more, by one pass.
FEW_REMOVED = 64


def _without(merged: tuple[Article, ...], removed: list[Article]) -> list[Article] | None:
    """``merged`` (newest first) as a list without ``removed``; None when one is not where its key says.

    A pass over the merged feed is 100,000 steps at 100,000 articles for an edit that removes one article;
    a few are found by a binary search on their sort key instead."""
    if len(removed) > FEW_REMOVED:
        dropped = {id(a) for a in removed}
        return [a for a in merged if id(a) not in dropped]
    result = list(merged)
    for article in removed:
        key = newest_first(article)
        place = bisect.bisect_left(result, key, key=newest_first)
        while place < len(result) and result[place] is not article and newest_first(result[place]) == key:
            place += 1
        if place == len(result) or result[place] is not article:
            return None
        del result[place]
    return result
