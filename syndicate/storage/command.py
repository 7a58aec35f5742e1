"""``syndicate db upgrade|status``: the shared database's schema, outside any server.

Servers upgrade at start too; running ``db upgrade`` first (a deploy step) keeps
the first replica's start short and shows a failure before any traffic moves.
"""

from __future__ import annotations

import argparse
import sys

from syndicate.config import config_path, load_config
from syndicate.problems import LoadError
from syndicate.storage.url import database_url, redacted


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=("upgrade", "status"),
        help="upgrade: apply missing schema migrations; status: show the schema version",
    )


def cmd_db(args: argparse.Namespace) -> int:
    try:
        url = database_url(load_config(config_path(args.config)))
    except LoadError as exc:
        for problem in exc.problems:
            print(problem.format(), file=sys.stderr)
        return 1
    if url is None:
        print("no shared store: set $SYNDICATE_DATABASE_URL or store.url (SQLite needs no migrations)", file=sys.stderr)
        return 2
    import psycopg

    from syndicate.storage.migrations import LATEST, MIGRATIONS, NewerSchema, current_version, upgrade
    from syndicate.storage.pgstore import connection_options

    try:
        with psycopg.connect(url, **connection_options(30.0)) as conn:  # type: ignore[arg-type]
            if args.action == "upgrade":
                applied = upgrade(conn)
                print(
                    f"{redacted(url)}: schema version {LATEST}"
                    + (f" (applied {', '.join(map(str, applied))})" if applied else " (already up to date)")
                )
                return 0
            version = current_version(conn)
    except (psycopg.Error, NewerSchema) as exc:
        print(f"{redacted(url)}: {str(exc).strip()}", file=sys.stderr)
        return 1
    missing = [m for m in MIGRATIONS if m.version > version]
    print(f"{redacted(url)}: schema version {version} of {LATEST}")
    for migration in missing:
        print(f"  pending: {migration.version} {migration.name}")
    return 0 if not missing else 3
