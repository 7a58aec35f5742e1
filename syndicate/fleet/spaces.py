"""The store's ad spaces (this replica's copy) added to what the site's files define; files win.

The rule and the copy are described in ``fleet/objects.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from syndicate.ads.loader import load_spaces
from syndicate.ads.model import AdSpace
from syndicate.config import Config
from syndicate.fleet.objects import ADSPACES
from syndicate.problems import ProblemList
from syndicate.storage.url import database_url


def merge_shared(
    config: Config,
    spaces: dict[str, AdSpace],
    problems: ProblemList,
    absolute: Callable[[str], str],
    sanitize: Callable[[str], str],
) -> Iterable[Path]:
    """Add the store's spaces to the files' ``spaces``; files win. Returns their files."""
    folder = ADSPACES.folder(config)
    if not folder.is_dir() or database_url(config) is None:
        return ()
    found = ProblemList()
    shared = load_spaces(folder, found, absolute, sanitize)
    known = set(spaces) | set(shared)
    # the loader checked if_empty against the store's spaces alone: a file's space is a valid target too
    resolved = {
        (space.path, f"if_empty: no ad space {space.if_empty!r}")
        for space in shared.values()
        if space.if_empty in known
    }
    problems.extend(p for p in found if (p.path, p.message) not in resolved)
    for space_id, space in shared.items():
        if space_id in spaces:
            problems.warning(spaces[space_id].path, 0, ADSPACES.overlap(space_id))
        else:
            spaces[space_id] = space
    return list(folder.glob("*.y*ml"))
