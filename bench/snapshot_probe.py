"""Builds one Snapshot and prints its cost as JSON; run as ``python bench/snapshot_probe.py CONFIG``.

A fresh interpreter per measurement, because resident memory only means something in a process that
has built nothing before: allocator arenas and caches from an earlier build would hide the real cost.
``rss_import`` is measured after importing syndicate, so ``rss_after - rss_import`` is the Snapshot's
own footprint and not the interpreter's.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def vm_kib(field: str) -> int:
    """A ``/proc/self/status`` memory line (VmRSS, VmHWM) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def main(config: str) -> None:
    from syndicate.snapshot import build_snapshot

    gc.collect()
    rss_import = vm_kib("VmRSS")
    begun = time.perf_counter()
    snapshot = build_snapshot(Path(config))
    seconds = time.perf_counter() - begun
    gc.collect()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "articles": snapshot.article_count,
                "problems": len(snapshot.problems),
                "rss_import_kib": rss_import,
                "rss_after_kib": vm_kib("VmRSS"),
                "hwm_kib": vm_kib("VmHWM"),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
