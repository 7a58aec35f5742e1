"""Which earlier folder of a build already holds an article's tag URI: URIs are unique across the site.

One dict of every folder's URIs, filled as the build goes, costs a dict insert per article (100,000 at
100,000 articles) and a disjointness test per folder taken whole, in C calls of milliseconds each that
hold the GIL against the event loop, for a reload that changed one file. The last build's folders are
known to be disjoint (it refused every clash), so:

- a folder taken whole from the last build can clash only with URIs this build accepted anew, those
  its folder did not hold last build (``fresh``: few, for an edit);
- an article whose URI its folder held last build, likewise;
- only a URI new to its folder is looked up among every earlier folder, in an index built from them,
  folder by folder, when the first such URI comes.
"""

from __future__ import annotations

from pathlib import Path

Uids = dict[str, Path]


class SeenUids:
    """The URIs of the folders a build has taken so far, in folder order."""

    def __init__(self) -> None:
        self._parts: list[Uids] = []
        self._fresh: Uids = {}  # accepted by this build and not held by their folder last build
        self._index: Uids = {}  # every URI of ``_parts[:_indexed]``
        self._indexed = 0

    def add_kept(self, uids: Uids) -> bool:
        """A folder taken whole from the last build (``uids``: what it accepted there). False, and nothing
        taken, when one of them is held already: the folder must be walked."""
        if not uids.keys().isdisjoint(self._fresh.keys()):
            return False
        self._parts.append(uids)
        return True

    def holder(self, uid: str, held_before: bool) -> Path | None:
        """The article of an earlier folder holding ``uid``; ``held_before``: this article's folder held
        ``uid`` last build (so no folder of that build did)."""
        if held_before:
            return self._fresh.get(uid)
        parts, index = self._parts, self._index
        while self._indexed < len(parts):
            index.update(parts[self._indexed])
            self._indexed += 1
        return index.get(uid)

    def add_walked(self, uids: Uids, before: Uids) -> None:
        """A folder walked by this build: ``uids`` accepted now, ``before`` last build."""
        self._parts.append(uids)
        self._fresh.update((uid, path) for uid, path in uids.items() if uid not in before)
