"""Ad spaces written through the admin API with a shared store: kept in PostgreSQL, applied on every replica.

The one rule for files and the store: **a file wins.** ``adspaces/`` holds what
ops manage in git; the store holds only what the admin API wrote. An id defined
by a file cannot be written through the API (a 422 naming the file), and when
both define one anyway (a file added later for an id the store holds) the file
is served, and ``check`` and ``/admin/status`` warn about the overlap.

Each replica keeps its copy of the store's spaces as files under
``<data>/shared/adspaces/`` (written only by this module), so a Snapshot is
still built from files alone and the acceptance rule applies unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from syndicate.ads.loader import load_spaces
from syndicate.ads.model import AdSpace
from syndicate.config import Config
from syndicate.problems import ProblemList
from syndicate.storage.url import database_url

KIND = "adspace"


def shared_folder(config: Config) -> Path:
    return config.data_dir / "shared" / "adspaces"


def overlap_message(space_id: str) -> str:
    return (f"ad space {space_id!r} is also in the shared store (written through the admin API): this file wins; "
            "delete one of them")


def file_of(config: Config, space_id: str) -> Path | None:
    """The file in ``adspaces/`` defining ``space_id``, if any."""
    for suffix in (".yaml", ".yml"):
        candidate = config.adspaces_dir / f"{space_id}{suffix}"
        if candidate.exists():
            return candidate
    return None


def merge_shared(config: Config, spaces: dict[str, AdSpace], problems: ProblemList,
                 absolute: Callable[[str], str], sanitize: Callable[[str], str]) -> Iterable[Path]:
    """Add the store's spaces (this replica's copy) to the files' ``spaces``; files win. Returns their files."""
    folder = shared_folder(config)
    if not folder.is_dir() or database_url(config) is None:
        return ()
    found = ProblemList()
    shared = load_spaces(folder, found, absolute, sanitize)
    known = set(spaces) | set(shared)
    # the loader checked if_empty against the store's spaces alone: a file's space is a valid target too
    resolved = {(space.path, f"if_empty: no ad space {space.if_empty!r}") for space in shared.values()
                if space.if_empty in known}
    problems.extend(p for p in found if (p.path, p.message) not in resolved)
    for space_id, space in shared.items():
        if space_id in spaces:
            problems.warning(spaces[space_id].path, 0, overlap_message(space_id))
        else:
            spaces[space_id] = space
    return list(folder.glob("*.y*ml"))
