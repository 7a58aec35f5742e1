"""Changes to adspaces/<id>.yaml made through the admin API: checked, atomic, backed up, undoable.

A body is checked exactly as the loader would read the file, before anything is
written. A write goes to a temporary file in the same folder and is renamed over
the old one, so a reader (the loader, an editor, git) never sees half a file. The
previous version is copied to ``<data>/admin/backups/adspaces/`` first, and
``undo`` puts it back when the reload after the change is rejected.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from syndicate.ads.loader import MAX_SPACE_BYTES, SPACE_ID, parse_space
from syndicate.config import Config
from syndicate.content.bodies import BodyRenderer
from syndicate.files import atomic_write, decoded_text, read_regular_file
from syndicate.problems import ProblemList
from syndicate.snapshot import Snapshot

KEEP_BACKUPS = 20  # per ad space; older ones are removed


@dataclass(frozen=True, slots=True)
class Change:
    """One file change, with what it takes to undo it."""

    space_id: str
    path: Path
    before: bytes | None  # None: the file did not exist
    after: bytes | None  # None: the file was deleted
    backup: Path | None


class SpaceStore:
    """Reads and changes the ad space files of one config."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.folder = config.adspaces_dir
        self.backups = config.data_dir / "admin" / "backups" / "adspaces"

    def path_for(self, space_id: str) -> Path:
        """The file of ``space_id``: the existing one (``.yaml`` or ``.yml``), else a new ``.yaml``."""
        for suffix in (".yaml", ".yml"):
            candidate = self.folder / f"{space_id}{suffix}"
            if os.path.lexists(candidate):  # a link counts as there: it is refused, not written around
                return candidate
        return self.folder / f"{space_id}.yaml"

    def read(self, space_id: str) -> bytes | None:
        """The file's bytes, None when there is none; raises ``NotAFile`` for a link or a non-file."""
        return read_regular_file(self.path_for(space_id), MAX_SPACE_BYTES + 1)

    def validate(self, space_id: str, data: bytes, snapshot: Snapshot) -> ProblemList:
        """Every error the loader would report for ``data`` as ``space_id``'s file, plus its if_empty target."""
        problems = ProblemList()
        path = self.path_for(space_id)
        if not SPACE_ID.fullmatch(space_id):
            problems.error(path, 0, "ad space ids are letters, digits, '-' and '_' (at most 64)")
            return problems
        text = decoded_text(path, data, MAX_SPACE_BYTES, problems)
        if text is None:
            return problems
        renderer = BodyRenderer(self.config.site.base_url, (), ())
        space = parse_space(text, path, problems, renderer.absolute, renderer.sanitize)
        if space is not None and space.if_empty and space.if_empty not in snapshot.spaces:
            problems.error(path, space.if_empty_line, f"if_empty: no ad space {space.if_empty!r}")
        return problems

    def write(self, space_id: str, data: bytes) -> Change:
        """Back up the current file, then replace it atomically with ``data``."""
        path = self.path_for(space_id)
        before = self.read(space_id)  # raises NotAFile before anything is written
        backup = self._backup(path, before)
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.lstat().st_mode & 0o777 if before is not None else 0o644
        atomic_write(path, data, mode)
        return Change(space_id, path, before, data, backup)

    def delete(self, space_id: str) -> Change | None:
        """Back up and remove the file; None when there is none."""
        path = self.path_for(space_id)
        before = self.read(space_id)
        if before is None:
            return None
        backup = self._backup(path, before)
        path.unlink()
        return Change(space_id, path, before, None, backup)

    def undo(self, change: Change) -> None:
        """Put the file back as it was before ``change``."""
        if change.before is None:
            change.path.unlink(missing_ok=True)
        else:
            change.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(change.path, change.before, 0o644)

    def _backup(self, path: Path, before: bytes | None) -> Path | None:
        if before is None:
            return None
        self.backups.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        backup = self.backups / f"{path.name}.{stamp}"
        atomic_write(backup, before, 0o600)
        old = sorted(self.backups.glob(f"{path.name}.*"))[:-KEEP_BACKUPS]
        for stale in old:
            stale.unlink(missing_ok=True)
        return backup
