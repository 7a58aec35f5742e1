"""Parsed articles kept from one Snapshot build to the next, so a reload costs what changed.

An article's parse depends on its text, its path (slug, default id, feed folder) and
``ArticleInputs``: the site URL fields and the body renderer's tags. A file whose size
and mtime are what they were when it was read is not read again; one whose stat changed,
or that was written so close to its reading that an edit could have kept both (the
"racy" case: timestamps are coarse), is read and hashed, and re-parsed only when its
text or the inputs differ. The problems a parse reported are kept with it and reported
again, in the same order, so a reused parse is indistinguishable from a fresh one.

Symbolic links and folders that resolve outside the content folder are never cached:
their target can change without their own stat changing.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from syndicate.content.model import Article
from syndicate.problems import Problem, ProblemList

#: A file modified less than this before it was read may have been edited again within one
#: timestamp tick (FAT's is 2 s): such a file is hashed on the next build instead of trusted.
RACY_NS = 2_000_000_000


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

    size: int
    mtime_ns: int
    read_ns: int  # when the text was read: judges whether the stat can be trusted next time
    text_hash: bytes
    inputs: ArticleInputs
    feed: str
    article: Article | None  # None: skipped (a draft, or an error that is among ``problems``)
    problems: tuple[Problem, ...]

    def trusted(self, size: int, mtime_ns: int, inputs: ArticleInputs, feed: str) -> bool:
        """Whether the file can be taken as unchanged without reading it."""
        return (size == self.size and mtime_ns == self.mtime_ns and self.mtime_ns < self.read_ns - RACY_NS
                and inputs == self.inputs and feed == self.feed)


def hash_of(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


#: Reads a file's text (None, with problems recorded, when it cannot be used).
ReadText = Callable[[Path, ProblemList], "str | None"]
#: Parses an article's text, recording its problems.
Parse = Callable[[str, ProblemList], "Article | None"]


class ParseCache:
    """The parses of the latest build, by path. One build at a time (the Reloader serialises them)."""

    def __init__(self) -> None:
        self._kept: dict[Path, Parsed] = {}
        self._next: dict[Path, Parsed] = {}
        self.parsed = 0  # parses run, over this cache's life
        self.reused = 0  # parses taken from an earlier build
        self.hashed = 0  # files read to compare their hash, stat unchanged or not

    def __len__(self) -> int:
        return len(self._kept)

    def begin(self) -> None:
        """Start a build: what it does not load is forgotten when it finishes."""
        self._next = {}

    def finish(self) -> None:
        """The build read every file: its parses are the ones to keep."""
        self._kept, self._next = self._next, {}

    def load(self, path: Path, feed: str, inputs: ArticleInputs, problems: ProblemList,
             read: ReadText, parse: Parse) -> Article | None:
        """The article at ``path``, parsed again only when its text or ``inputs`` changed."""
        try:
            info = os.lstat(path)
        except OSError:
            info = None
        if info is None or not stat.S_ISREG(info.st_mode):  # gone, or a link: let ``read`` report or follow it
            return self._uncached(path, problems, read, parse)
        prior = self._kept.get(path)
        if prior is not None and prior.trusted(info.st_size, info.st_mtime_ns, inputs, feed):
            return self._reuse(path, prior, prior, problems)
        read_ns = time.time_ns()
        local = ProblemList()
        text = read(path, local)
        if text is None:
            problems.extend(local)
            return None
        self.hashed += 1
        text_hash = hash_of(text)
        if prior is not None and prior.text_hash == text_hash and prior.inputs == inputs and prior.feed == feed:
            record = Parsed(info.st_size, info.st_mtime_ns, read_ns, text_hash, inputs, feed, prior.article,
                            prior.problems)
            return self._reuse(path, record, prior, problems)
        self.parsed += 1
        article = parse(text, local)
        self._next[path] = Parsed(info.st_size, info.st_mtime_ns, read_ns, text_hash, inputs, feed, article,
                                  tuple(local))
        problems.extend(local)
        return article

    def _reuse(self, path: Path, record: Parsed, prior: Parsed, problems: ProblemList) -> Article | None:
        self.reused += 1
        self._next[path] = record
        problems.extend(prior.problems)
        return prior.article

    def _uncached(self, path: Path, problems: ProblemList, read: ReadText, parse: Parse) -> Article | None:
        text = read(path, problems)
        if text is None:
            return None
        self.parsed += 1
        return parse(text, problems)
