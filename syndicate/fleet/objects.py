"""What the admin API writes with a shared store: ad spaces and pushed articles, kept in PostgreSQL.

The one rule for files and the store: **a file wins.** ``adspaces/`` and
``feeds/`` hold what ops manage in git; the store holds only what the admin API
wrote. An id a file defines cannot be written through the API (a 422 naming the
file), and when both define one anyway (a file added later for an id the store
holds) the file is served, and ``check`` and ``/admin/status`` warn about it.

Each replica keeps its copy of the store's objects as files under
``<data>/shared/`` (written only here), so a Snapshot is still built from files
alone and the acceptance rule applies unchanged. An object's id in the store is
its file's path in that copy, relative to its kind's folder.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from syndicate.config import Config
from syndicate.files import atomic_write
from syndicate.problems import ProblemList
from syndicate.storage.url import database_url

ARTICLE_SUFFIXES = (".md", ".markdown", ".html", ".htm")


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of admin-written object: its name in the store, its folder, and the files that win over it."""

    name: str  # admin_objects.kind
    noun: str  # in messages
    folder_name: str  # under <data>/shared/
    suffix: str  # a copy's file name is its id and this
    pattern: str  # the copy's files, relative to its folder
    valid: re.Pattern[str]  # an id the admin API could have written (anything else in the store is ignored)
    site_files: Callable[[Config, str], list[Path]]  # the site's files for a stored id (one of them wins)

    def folder(self, config: Config) -> Path:
        return config.data_dir / "shared" / self.folder_name

    def file_of(self, config: Config, object_id: str) -> Path | None:
        """The site's file defining ``object_id`` (it wins over the store), if any."""
        return next((path for path in self.site_files(config, object_id) if path.exists()), None)

    def overlap(self, object_id: str) -> str:
        return (
            f"{self.noun} {_shown(object_id)!r} is also in the shared store (written through the admin API): "
            "this file wins; delete one of them"
        )

    def refusal(self, object_id: str) -> str:
        return (
            f"{self.noun} {_shown(object_id)!r} is defined by this file, which wins over the shared store: "
            "change the file (in git), or delete it to manage it here"
        )


def _shown(object_id: str) -> str:
    """An id as people name it: an article without its file's suffix."""
    return object_id.rsplit(".", 1)[0] if "/" in object_id else object_id


def _space_files(config: Config, object_id: str) -> list[Path]:
    return [config.adspaces_dir / f"{object_id}{suffix}" for suffix in (".yaml", ".yml")]


def _article_files(config: Config, object_id: str) -> list[Path]:
    feed, name = object_id.split("/", 1)
    return [config.feeds_dir / feed / f"{Path(name).stem}{suffix}" for suffix in ARTICLE_SUFFIXES]


#: An ad space is stored by its id; an article by ``<feed>/<file name>`` (``news/launch.md``).
ADSPACES = Kind(
    "adspace", "ad space", "adspaces", ".yaml", "*.yaml", re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"), _space_files
)
ARTICLES = Kind(
    "article",
    "article",
    "feeds",
    "",
    "*/*.*",
    re.compile(r"[a-z0-9][a-z0-9_-]{0,63}/[A-Za-z0-9][A-Za-z0-9_-]{0,127}\.(md|html)"),
    _article_files,
)
KINDS = {kind.name: kind for kind in (ADSPACES, ARTICLES)}


Key = tuple[Kind, str]


class Copy:
    """This replica's files of the store's objects: what a change does to them, and how to undo it."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def path(self, key: Key) -> Path:
        kind, object_id = key
        return kind.folder(self.config) / f"{object_id}{kind.suffix}"

    def read(self, key: Key) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def keys(self) -> set[Key]:
        found: set[Key] = set()
        for kind in KINDS.values():
            folder = kind.folder(self.config)
            if folder.is_dir():
                ids = (
                    path.relative_to(folder).as_posix().removesuffix(kind.suffix) for path in folder.glob(kind.pattern)
                )
                found |= {(kind, object_id) for object_id in ids if kind.valid.fullmatch(object_id)}
        return found

    def put(self, key: Key, body: bytes | None) -> None:
        path = self.path(key)
        if body is None:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.read(key) != body:
            atomic_write(path, body, 0o644)

    def apply(self, changes: dict[Key, bytes | None]) -> dict[Key, bytes | None]:
        """Write ``changes`` (None: delete); returns what was there before, to undo with ``apply`` again."""
        before = {key: self.read(key) for key in changes}
        for key, body in changes.items():
            with contextlib.suppress(FileNotFoundError):
                self.put(key, body)
        return before


def shared_articles(config: Config, folder: Path, problems: ProblemList) -> Iterator[Path]:
    """For the loader: the store's articles of the feed in ``folder`` that no file of the feed defines."""
    copy = ARTICLES.folder(config) / folder.name
    if not copy.is_dir() or database_url(config) is None:
        return
    for path in sorted(copy.iterdir()):
        if path.suffix.lower() not in ARTICLE_SUFFIXES or path.name.startswith((".", "_")):
            continue
        object_id = f"{folder.name}/{path.name}"
        defined = ARTICLES.file_of(config, object_id)
        if defined is not None:
            problems.warning(defined, 0, ARTICLES.overlap(object_id))
        else:
            yield path
