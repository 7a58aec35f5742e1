"""Articles pushed through the admin API: checked as the loader reads them, then written as files.

A push ends as ``feeds/<feed>/<id>.md`` or ``.html``, so files stay the one model
of an article: ``check``, reload, preview and git see it like any other. The body is
checked exactly as the loader would read that file (every problem reported, nothing
written when there is one); the write goes through ``atomic_write``, the same checked,
atomic path ad space files take, with a backup so a rejected reload can be undone.
``write`` is the one place a pushed article reaches disk.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

from syndicate.ads.store import Change
from syndicate.config import Config
from syndicate.content.loader import FEED_FILE, FEED_NAME, MAX_ARTICLE_BYTES, ContentLoader
from syndicate.files import atomic_write, decoded_text, read_regular_file
from syndicate.ingest.writer import article_text
from syndicate.problems import ProblemList
from syndicate.snapshot import body_renderer

ARTICLE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
SUFFIXES = {"text/markdown": ".md", "text/x-markdown": ".md", "text/html": ".html"}
KEEP_BACKUPS = 20


def json_article(body: bytes) -> tuple[str, str]:
    """A JSON push (front matter fields plus ``body`` and ``format``) as (file text, suffix).

    Raises ``ValueError`` with the reason.
    """
    data: Any = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    fields = dict(data)
    text = fields.pop("body", None)
    if not isinstance(text, str):
        raise ValueError("'body' is required: the article's Markdown or HTML, as a string")
    kind = fields.pop("format", "markdown")
    if kind not in ("markdown", "html"):
        raise ValueError("'format' is 'markdown' (default) or 'html'")
    return article_text(fields, text), ".md" if kind == "markdown" else ".html"


class ArticleStore:
    """Reads and changes the article files of one config's feeds."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.folder = config.feeds_dir  # where the article files are; the feeds themselves are always in feeds/
        self.backups = config.data_dir / "admin" / "backups" / "articles"

    def existing(self, feed: str, article_id: str) -> Path | None:
        """The article's file under any article suffix (a link counts: it is refused, not written around)."""
        folder = self.folder / feed
        for suffix in (".md", ".markdown", ".html", ".htm"):
            candidate = folder / f"{article_id}{suffix}"
            if os.path.lexists(candidate):
                return candidate
        return None

    def path_for(self, feed: str, article_id: str, suffix: str) -> Path:
        return self.existing(feed, article_id) or self.folder / feed / f"{article_id}{suffix}"

    def read(self, path: Path) -> bytes | None:
        """The file's bytes, None when there is none; raises ``NotAFile`` for a link or a non-file."""
        return read_regular_file(path, MAX_ARTICLE_BYTES + 1)

    def validate(self, feed: str, article_id: str, data: bytes, suffix: str) -> ProblemList:
        """Every error the loader would report for ``data`` as this article's file."""
        problems = ProblemList()
        path = self.path_for(feed, article_id, suffix)
        if not FEED_NAME.fullmatch(feed) or not (self.config.feeds_dir / feed / FEED_FILE).is_file():
            problems.error(path.parent, 0, f"no feed {feed!r}: a feed is a folder under feeds/ with a {FEED_FILE}")
            return problems
        if (path.suffix.lower() in (".md", ".markdown") and suffix != ".md") or (
            path.suffix.lower() in (".html", ".htm") and suffix != ".html"
        ):
            problems.error(path, 0, f"this article is a {path.suffix} file: send it in that format, or DELETE it first")
            return problems
        text = decoded_text(path, data, MAX_ARTICLE_BYTES, problems)
        if text is None:
            return problems
        ContentLoader(self.config, body_renderer(self.config), problems).parse_article(text, path, feed)
        return problems

    def write(self, feed: str, article_id: str, data: bytes, suffix: str) -> Change:
        """Back up the current file, then replace it atomically with ``data`` (checked by ``validate`` first)."""
        path = self.path_for(feed, article_id, suffix)
        before = self.read(path)  # raises NotAFile before anything is written
        backup = self._backup(path, before)
        mode = path.lstat().st_mode & 0o777 if before is not None else 0o644
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data, mode)
        return Change(f"{feed}/{article_id}", path, before, data, backup)

    def delete(self, feed: str, article_id: str) -> Change | None:
        """Back up and remove the article's file; None when there is none."""
        path = self.existing(feed, article_id)
        if path is None:
            return None
        before = self.read(path)
        if before is None:
            return None
        backup = self._backup(path, before)
        path.unlink()
        return Change(f"{feed}/{article_id}", path, before, None, backup)

    def undo(self, change: Change) -> None:
        if change.before is None:
            change.path.unlink(missing_ok=True)
        else:
            change.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(change.path, change.before, 0o644)

    def _backup(self, path: Path, before: bytes | None) -> Path | None:
        if before is None:
            return None
        folder = self.backups / path.parent.name
        folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        backup = folder / f"{path.name}.{stamp}"
        atomic_write(backup, before, 0o600)
        for stale in sorted(folder.glob(f"{path.name}.*"))[:-KEEP_BACKUPS]:
            stale.unlink(missing_ok=True)
        return backup
