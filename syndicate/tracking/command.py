"""``syndicate stats``: the same report as /admin/stats.json, read straight from the store file.

It opens the store without repairing it (the running server owns the file), and
reads in WAL mode, so it never blocks the server's writes.
"""

from __future__ import annotations

import argparse
import json
import sys

from syndicate.config import config_path, load_config
from syndicate.problems import LoadError
from syndicate.storage.backend import is_shared, store_for
from syndicate.tracking import stats
from syndicate.tracking.store import FILE_NAME


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=stats.parse_day, metavar="DATE", help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument("--until", type=stats.parse_day, metavar="DATE", help="last day, YYYY-MM-DD (UTC)")
    parser.add_argument("--by", choices=stats.BY_CHOICES, default="space", help="one row per (default: space)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table", dest="output")


def cmd_stats(args: argparse.Namespace) -> int:
    try:
        config = load_config(config_path(args.config))
    except LoadError as exc:
        for problem in exc.problems:
            print(problem.format(), file=sys.stderr)
        return 1
    if args.since and args.until and args.since > args.until:
        print("--since is after --until", file=sys.stderr)
        return 2
    path = config.data_dir / FILE_NAME
    try:
        store = store_for(config, server=False)
    except LoadError as exc:
        for problem in exc.problems:
            print(problem.format(), file=sys.stderr)
        return 1
    try:
        report = (
            stats.report(store, args.by, args.since, args.until)
            if is_shared(store) or path.exists()
            else stats.Report(args.by, args.since, args.until)
        )
    except Exception as exc:  # sqlite3, OSError, psycopg: one line either way
        where = store if is_shared(store) else path
        print(f"{where}: cannot read the tracking store: {str(exc).strip()}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if args.output == "json":
        print(json.dumps(report.as_json(), indent=2))
    elif args.output == "csv":
        sys.stdout.write(stats.as_csv(report))
    else:
        sys.stdout.write(stats.as_table(report))
    return 0
