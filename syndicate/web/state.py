"""Typed application state: every ``web.AppKey`` lives here, plus the Snapshot holder."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from syndicate.snapshot import Snapshot

log = logging.getLogger("syndicate")


class SnapshotHolder:
    """Owns the current Snapshot. Replacing it is one reference assignment: atomic for
    every request, which reads ``current`` once and keeps using what it got."""

    def __init__(self, snapshot: Snapshot, config_path: Path) -> None:
        self.current = snapshot
        self.config_path = config_path

    def replace(self, snapshot: Snapshot) -> None:
        self.current = snapshot


SNAPSHOTS = web.AppKey("snapshots", SnapshotHolder)
