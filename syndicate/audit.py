"""The admin audit log: one JSON line per change made through the admin API.

JSON Lines so that ``grep``, ``tail -f`` and ``jq`` all work on it; appended with
one write per line so concurrent writers cannot interleave within a line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import os
from pathlib import Path

from syndicate.ads.store import Change

MAX_DIFF_LINES = 200


def audit_path(data_dir: Path) -> Path:
    return data_dir / "admin" / "audit.log"


def _digest(data: bytes | None) -> str | None:
    return None if data is None else "sha256:" + hashlib.sha256(data).hexdigest()


def _diff(change: Change, shown: str) -> list[str]:
    before = (change.before or b"").decode("utf-8", "replace").splitlines()
    after = (change.after or b"").decode("utf-8", "replace").splitlines()
    lines = list(difflib.unified_diff(before, after, f"a/{shown}", f"b/{shown}", lineterm="", n=1))
    return lines[:MAX_DIFF_LINES] + (
        [f"... {len(lines) - MAX_DIFF_LINES} more lines"] if len(lines) > MAX_DIFF_LINES else []
    )


def record(
    log_path: Path, root: Path, *, actor: str, remote: str, action: str, change: Change, outcome: str, generation: int
) -> dict[str, object]:
    """Append one entry for ``change`` and return it."""
    shown = str(change.path.relative_to(root)) if change.path.is_relative_to(root) else str(change.path)
    entry: dict[str, object] = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "actor": actor,
        "remote": remote,
        "action": action,
        "space": change.space_id,
        "path": shown,
        "outcome": outcome,
        "generation": generation,
        "before": _digest(change.before),
        "after": _digest(change.after),
        "backup": str(change.backup) if change.backup else None,
        "diff": _diff(change, shown),
    }
    log_path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
    return entry
