"""Ad space files on a replica with a shared store: the admin API's store, and the copy of the store's spaces.

The rule for files and the store is in ``fleet/spaces.py``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from syndicate.ads.store import SpaceStore
from syndicate.config import Config
from syndicate.files import atomic_write
from syndicate.fleet.spaces import file_of, shared_folder
from syndicate.problems import ProblemList
from syndicate.snapshot import Snapshot


class SharedSpaceStore(SpaceStore):
    """The admin API's ``SpaceStore`` when a shared store is on: writes go to this replica's copy of the store
    (then to the store itself), and ids defined by files are refused."""

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.folder = shared_folder(config)
        self.backups = config.data_dir / "admin" / "backups" / "shared-adspaces"

    def validate(self, space_id: str, data: bytes, snapshot: Snapshot) -> ProblemList:
        problems = super().validate(space_id, data, snapshot)
        defined = file_of(self.config, space_id)
        if defined is not None:
            problems.error(defined, 0, f"ad space {space_id!r} is defined by this file, which wins over the shared "
                                       "store: change the file (in git), or delete it to manage the space here")
        return problems


class Copy:
    """This replica's files of the store's spaces: what a change does to them, and how to undo it."""

    def __init__(self, config: Config) -> None:
        self.folder = shared_folder(config)

    def path(self, space_id: str) -> Path:
        return self.folder / f"{space_id}.yaml"

    def read(self, space_id: str) -> bytes | None:
        try:
            return self.path(space_id).read_bytes()
        except FileNotFoundError:
            return None

    def ids(self) -> set[str]:
        return {p.stem for p in self.folder.glob("*.yaml")} if self.folder.is_dir() else set()

    def put(self, space_id: str, body: bytes | None) -> None:
        path = self.path(space_id)
        if body is None:
            path.unlink(missing_ok=True)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.read(space_id) != body:
            atomic_write(path, body, 0o644)

    def apply(self, changes: dict[str, bytes | None]) -> dict[str, bytes | None]:
        """Write ``changes`` (None: delete); returns what was there before, to undo with ``apply`` again."""
        before = {space_id: self.read(space_id) for space_id in changes}
        for space_id, body in changes.items():
            with contextlib.suppress(FileNotFoundError):
                self.put(space_id, body)
        return before
