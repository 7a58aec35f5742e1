"""Article files written by importers and pollers: one text per article, atomic, byte-identical on repeat.

Whatever brings an article in (a WordPress export, an upstream feed) ends as an
ordinary file under ``feeds/``, so ``check``, reload, preview and git treat it like
one written by hand. The same input always gives the same bytes, so a repeated
import rewrites nothing and git shows no change; a file is only ever replaced
whole (a temporary file renamed over it), so the watcher never loads half of one.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from syndicate.content.loader import FEED_FILE
from syndicate.files import atomic_write

_SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def article_text(meta: dict[str, Any], body: str) -> str:
    """Front matter (YAML, in the given key order) and an HTML body, as the loader reads them."""
    front = yaml.dump(
        meta, Dumper=_SAFE_DUMPER, sort_keys=False, allow_unicode=True, width=10**6, default_flow_style=False
    )
    return f"---\n{front}---\n{body.rstrip()}\n"


def feed_text(title: str, description: str = "", link: str = "") -> str:
    meta: dict[str, Any] = {"title": title or "Untitled"}
    if description:
        meta["description"] = description
    if link:
        meta["link"] = link
    return yaml.dump(meta, Dumper=_SAFE_DUMPER, sort_keys=False, allow_unicode=True, width=10**6)


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    outcome: str  # "imported" (a new file), "updated", "unchanged"


class ArticleFiles:
    """The files one source owns under ``feeds/``, found by a file name pattern holding the source's key.

    ``pattern`` must have one group, the key (e.g. ``wp-(\\d+)(?:-.*)?\\.html``); ``name`` makes a
    file name from a key and a slug.
    """

    def __init__(self, feeds_dir: Path, pattern: str, *, durable: bool = True) -> None:
        self.feeds_dir = feeds_dir
        self.durable = durable  # False: rename without fsync per file; the caller syncs once at the end
        self.pattern = re.compile(pattern)
        self.existing: dict[str, Path] = {}
        if feeds_dir.is_dir():
            for folder in sorted(p for p in feeds_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
                for path in sorted(folder.iterdir()):
                    match = self.pattern.fullmatch(path.name)
                    if match and path.is_file():
                        self.existing.setdefault(match.group(1), path)

    def write(self, key: str, folder: str, file_name: str, text: str) -> Written:
        """Write ``text`` as the file of ``key``; a file of the same key elsewhere (renamed, moved feed) goes."""
        target = self.feeds_dir / folder / file_name
        data = text.encode("utf-8")
        previous = self.existing.get(key)
        if previous == target and _same(target, data):
            return Written(target, "unchanged")
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.durable:
            atomic_write(target, data, 0o644)
        else:
            replace_file(target, data)
        self.existing[key] = target
        if previous is not None and previous != target:
            previous.unlink(missing_ok=True)
            return Written(target, "updated")
        return Written(target, "updated" if previous is not None else "imported")

    def missing(self, keys: Iterable[str]) -> list[Path]:
        """Files of this source whose key is not in ``keys``: gone from the source, kept on disk."""
        wanted = set(keys)
        return [path for key, path in sorted(self.existing.items()) if key not in wanted]


def ensure_feed(feeds_dir: Path, folder: str, text: str) -> bool:
    """Write ``_feed.yaml`` for ``folder`` when it has none; True when written."""
    path = feeds_dir / folder / FEED_FILE
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.encode("utf-8"), 0o644)
    return True


def replace_file(path: Path, data: bytes) -> None:
    """``atomic_write`` without its fsyncs: still never half a file for a reader, durable after ``os.sync``.

    For bulk imports, where one fsync per file made 10,000 posts take minutes instead of seconds.
    """
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _same(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except OSError:
        return False
