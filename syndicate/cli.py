"""The ``syndicate`` command: serve | check | render | config | stats | db | import.

Errors reach the user as ``file:line: level: message`` lines and exit code 1,
never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from syndicate import __version__, collector
from syndicate.ads.caps import audience_ids, cap_problems
from syndicate.ads.resolver import Links
from syndicate.advice import advice, scheduled
from syndicate.config import config_path, load_config
from syndicate.credentials import secret_from_env_or_file
from syndicate.fleet.check import store_overlaps
from syndicate.fleet.setup import require_signing_keys
from syndicate.formats import FORMATS
from syndicate.ingest.importer import add_arguments as add_import_arguments
from syndicate.ingest.importer import cmd_import
from syndicate.ingest.upstream_check import check_upstreams, summary_line
from syndicate.problems import Level, LoadError, Problem
from syndicate.publish import PageNotFound, PageRequest, ad_resolver, feed_view
from syndicate.snapshot import BuildCache, Snapshot, build_snapshot
from syndicate.storage.command import add_arguments as add_db_arguments
from syndicate.storage.command import cmd_db
from syndicate.tracking.caps import stored_view
from syndicate.tracking.command import add_arguments as add_stats_arguments
from syndicate.tracking.command import cmd_stats
from syndicate.tracking.keys import KEYS_ENV, load_keys, share_dev_key
from syndicate.tracking.links import SignedLinks
from syndicate.web.app import listening

log = logging.getLogger("syndicate")


def _port(text: str) -> int:
    """A port the server can bind and then name in its links: 0 (any free port) would announce ``:0``."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: a port is a whole number from 1 to 65535")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="syndicate", description="Ad-aware RSS, Atom and JSON Feed server.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", help="config file (default: $SYNDICATE_CONFIG or ./config.yaml)")
        return p

    def with_address(p: argparse.ArgumentParser, verb: str) -> argparse.ArgumentParser:
        p.add_argument("--host", help=f"address {verb} (default: server.host)")
        p.add_argument("--port", type=_port, help=f"port {verb} (default: server.port)")
        return p

    serve = with_address(with_config(sub.add_parser("serve", help="serve the feeds over HTTP")), "to listen on")
    serve.add_argument("--workers", type=int, default=1, help="processes sharing the port (default: 1)")

    config = with_address(
        with_config(sub.add_parser("config", help="print the effective settings as YAML, secrets masked")),
        "serve would listen on",
    )
    config.add_argument(
        "--reference",
        action="store_true",
        help="print every setting (type, default, meaning) as the Markdown table of the docs",
    )

    check = with_config(sub.add_parser("check", help="validate config, ad spaces and every article"))
    check.add_argument("--format", choices=("text", "json"), default="text", dest="output")

    render = with_address(
        with_config(sub.add_parser("render", help="print one feed to stdout, as served")), "the server listens on"
    )
    render.add_argument("feed", help="feed name, e.g. world or all")
    render.add_argument("--format", choices=tuple(FORMATS), default="rss", dest="fmt")
    render.add_argument("--page", type=int, default=1)
    render.add_argument("--partner", default="public", help="render as this partner would receive it")

    stats = with_config(sub.add_parser("stats", help="ad counts: served, rendered, clicks, CTR"))
    add_stats_arguments(stats)
    add_db_arguments(with_config(sub.add_parser("db", help="the shared PostgreSQL store's schema")))

    add_import_arguments(sub.add_parser("import", help="write article files from another system's export"))
    return parser


def _print_problems(problems: Sequence[Problem], root: Path | None) -> None:
    for problem in problems:
        print(problem.format(root), file=sys.stderr)


def _load(path: Path, cache: BuildCache | None = None) -> Snapshot | None:
    try:
        return build_snapshot(path, cache=cache)
    except LoadError as exc:
        _print_problems(exc.problems, Path.cwd())
        return None


def _caps(snapshot: Snapshot) -> list[Problem]:
    """Units at or near their caps, from the stored counts (read only; the running server owns the store)."""
    view, trouble = stored_view(snapshot.config, snapshot.spaces)
    found = cap_problems(snapshot.spaces, view, audience_ids(snapshot.config))
    return [trouble, *found] if trouble else found


def cmd_check(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    try:
        snapshot = build_snapshot(path, keep_going=True)  # config errors too, and everything after them
        upstreams, upstream_problems = check_upstreams(snapshot)  # each followed feed fetched once
        problems: Sequence[Problem] = [*snapshot.problems, *advice(snapshot), *_caps(snapshot), *upstream_problems]
        known = {(p.path, p.message) for p in problems}
        problems = [*problems, *(p for p in store_overlaps(snapshot.config) if (p.path, p.message) not in known)]
        root = snapshot.config.root
        later = scheduled(snapshot)
    except LoadError as exc:
        problems, root, later, upstreams = exc.problems, path.resolve().parent, [], []
    errors = sum(1 for p in problems if p.level is Level.ERROR)
    if args.output == "json":
        print(
            json.dumps(
                {
                    "errors": errors,
                    "warnings": len(problems) - errors,
                    "problems": [p.as_dict(root) for p in problems],
                    "scheduled": later,
                    "upstreams": upstreams,
                },
                indent=2,
            )
        )
    else:
        for problem in problems:
            print(problem.format(root))
        for entry in later:
            print(f"{entry['path']}: scheduled: publishes at {entry['at']}")
        for result in upstreams:
            print(summary_line(result))
        print(f"{errors} error(s), {len(problems) - errors} warning(s)", file=sys.stderr)
    return 1 if errors else 0


def _ad_links(snapshot: Snapshot) -> Links | None:
    """The ad links the server writes: signed with the keys it signs with, read from the same place;
    direct when tracking is off (as the server's) or when no key is configured (the server then signs
    with a random key of its own that nothing else can know)."""
    tracking = snapshot.config.tracking
    if not tracking.enabled:
        return None
    if secret_from_env_or_file(KEYS_ENV, tracking.keys_file) is None:
        print(
            f"no signing keys (${KEYS_ENV} or tracking.keys_file): ad links are direct and untracked here; "
            "the server signs with a random key of its own",
            file=sys.stderr,
        )
        return None
    return SignedLinks(load_keys(tracking.keys_file), lambda: snapshot.config.server.public_url, tracking.pixel)


def cmd_render(args: argparse.Namespace) -> int:
    """The feed exactly as the server sends it to that partner: same policy, same links, same bytes."""
    snapshot = _load(config_path(args.config))
    if snapshot is None:
        return 1
    snapshot = listening(snapshot, args.host, args.port)
    if args.feed not in snapshot.feeds:
        print(f"unknown feed {args.feed!r}; feeds: {', '.join(sorted(snapshot.feeds))}", file=sys.stderr)
        return 1
    audience = snapshot.audience(args.partner)
    if audience is None:
        known = ", ".join(["public", *(p.id for p in snapshot.config.partners)])
        print(f"unknown partner {args.partner!r}; partners: {known}", file=sys.stderr)
        return 1
    if not audience.may_read(args.feed, args.fmt):
        print(f"partner {audience.id!r} may not read {args.feed}.{args.fmt}: the server answers 403", file=sys.stderr)
        return 1
    try:
        view = feed_view(
            snapshot,
            PageRequest(args.feed, args.fmt, args.page),
            ad_resolver(snapshot, audience, args.fmt, links=_ad_links(snapshot)),
        )
    except PageNotFound as exc:
        print(str(exc), file=sys.stderr)
        return 1
    sys.stdout.buffer.write(FORMATS[args.fmt].render(view))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """The settings ``serve`` would run with (``--host``/``--port`` applied), as YAML; no secret printed."""
    from syndicate.configdump import dump
    from syndicate.settings import reference

    if args.reference:
        print(reference(), end="")
        return 0
    config = load_config(config_path(args.config))
    print(dump(replace(config, server=config.server.listening_on(args.host, args.port))), end="")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from syndicate.serving import Supervisor, serve_one

    path = config_path(args.config)
    with collector.paused():  # until tune_for_serving freezes the first Snapshot; on again if it never serves
        ready = _ready_to_serve(args, path)
        if ready is None:
            return 1
        snapshot, cache = ready
        host, port = snapshot.config.server.host, snapshot.config.server.port
        if args.workers == 1:
            serve_one(snapshot, host, port, reuse=cache)
            return 0
    share_dev_key(snapshot.config.tracking.keys_file)  # else each worker would sign with its own
    return Supervisor(path.resolve(), host, port, args.workers).run()


def _ready_to_serve(args: argparse.Namespace, path: Path) -> tuple[Snapshot, BuildCache] | None:
    """The first Snapshot, its problems logged, and the build cache its reloads start from; None when
    the config cannot be served."""
    cache = BuildCache(persist=True)  # the server's reloads start from this build's articles; so does its next start
    snapshot = _load(path, cache)
    if snapshot is None:
        return None
    for problem in snapshot.problems:
        level = logging.ERROR if problem.level is Level.ERROR else logging.WARNING
        log.log(level, "%s", problem.format(snapshot.config.root))
    snapshot = listening(snapshot, args.host, args.port)
    server = snapshot.config.server
    host, port = server.host, server.port
    log.info(
        "serving %d articles (%d parsed) in %d feeds on %s:%d; public URL %s (self links, OPML, ad links)",
        snapshot.article_count,
        snapshot.parsed,
        len(snapshot.feeds) - 1,
        host,
        port,
        server.public_url,
    )
    if not server.public_url_given and host in ("0.0.0.0", "::", ""):
        log.warning(
            "listening on every interface with no server.public_url: feeds name %s, which other "
            "machines cannot reach; set server.public_url",
            server.public_url,
        )
    require_signing_keys(snapshot.config)  # a replica with a shared store: never on a random key
    return snapshot, cache


COMMANDS = {
    "serve": cmd_serve,
    "check": cmd_check,
    "render": cmd_render,
    "config": cmd_config,
    "stats": cmd_stats,
    "db": cmd_db,
    "import": cmd_import,
}


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except LoadError as exc:  # e.g. malformed signing keys or admin token, found when the app is built
        _print_problems(exc.problems, Path.cwd())
        return 1
