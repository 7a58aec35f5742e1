"""``syndicate import wordpress``: a whole export in, one file per published post out, and a report.

Everything is read and converted before the first file is written, so a broken
export leaves ``feeds/`` untouched. Each file is keyed by the WordPress post id
(``wp-<id>-<slug>.html``), which makes a second import of the same export a no-op
and lets a changed post update its own file. Posts gone from the export are
reported, never deleted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from syndicate.ads.resolver import AD_TAGS
from syndicate.config import Config, config_path, load_config
from syndicate.content.loader import FEED_NAME
from syndicate.ingest.wordpress import (
    CAPTION_TAGS,
    DEFAULT_FEED,
    Converted,
    convert,
    feed_name,
    primary_category,
    shortcode_counts,
    skip_reason,
)
from syndicate.ingest.writer import ArticleFiles, article_text, ensure_feed, feed_text
from syndicate.ingest.wxr import Export, ExportError, read_export
from syndicate.problems import LoadError

FILE_PATTERN = r"wp-(\d+)(?:-[a-z0-9-]*)?\.html"


@dataclass
class Report:
    outcomes: Counter[str] = field(default_factory=Counter)  # imported / updated / unchanged
    skipped: Counter[str] = field(default_factory=Counter)  # by reason
    shortcodes: Counter[str] = field(default_factory=Counter)
    handled: frozenset[str] = frozenset()
    feeds_created: list[str] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)

    def lines(self, root: Path) -> list[str]:
        out = [", ".join(f"{self.outcomes[k]} {k}" for k in ("imported", "updated", "unchanged"))]
        if self.skipped:
            out.append("skipped: " + ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items())))
        out += [f"feed created: {name}" for name in self.feeds_created]
        for tag, count in sorted(self.shortcodes.items(), key=lambda kv: (-kv[1], kv[0])):
            mark = "" if tag in self.handled else "  (not handled: add it to ads.aliases or ads.strip_tags)"
            out.append(f"shortcode [{tag}]: {count}{mark}")
        out += [f"not in the export any more (kept): {_shown(p, root)}" for p in self.missing]
        return out


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def handled_tags(config: Config) -> frozenset[str]:
    """Shortcodes Syndicate resolves or removes for this config, plus the captions the import converts."""
    return frozenset(AD_TAGS) | {a.tag for a in config.ads.aliases} | set(config.ads.strip_tags) | set(CAPTION_TAGS)


def plan(export: Export, *, feed: str | None, by_category: bool, pages: bool, report: Report) -> list[Converted]:
    """The articles to write, in export order; skipped items are counted in ``report``."""
    attachments = {item.post_id: item for item in export.items if item.post_type == "attachment"}
    chosen = []
    for item in export.items:
        reason = skip_reason(item, pages)
        if reason is not None:
            report.skipped[reason] += 1
            continue
        chosen.append(item)
    report.shortcodes = shortcode_counts(chosen)
    target = feed or DEFAULT_FEED
    converted: dict[int, Converted] = {}
    for item in chosen:
        folder = feed_name(primary_category(item) or "uncategorized", target) if by_category else target
        converted[item.post_id] = convert(item, export, folder, attachments)  # a repeated id: the last one wins
    return list(converted.values())


def run_import(
    config: Config, export_path: Path, *, feed: str | None = None, by_category: bool = False, pages: bool = False
) -> Report:
    """Import ``export_path`` into ``config.feeds_dir``. Raises ``ExportError`` before writing anything."""
    export = read_export(export_path)
    report = Report(handled=handled_tags(config))
    articles = plan(export, feed=feed, by_category=by_category, pages=pages, report=report)
    files = ArticleFiles(config.feeds_dir, FILE_PATTERN, durable=False)
    titles = {t.slug: t.name for item in export.items for t in item.terms if t.domain == "category"}
    for folder in sorted({a.feed for a in articles}):
        title = (
            export.title
            if not by_category
            else next((name for slug, name in titles.items() if feed_name(slug, "") == folder), folder)
        )
        if ensure_feed(
            config.feeds_dir, folder, feed_text(title, export.description, "" if by_category else export.link)
        ):
            report.feeds_created.append(folder)
    for article in articles:
        name = f"wp-{article.post_id}-{article.slug}.html" if article.slug else f"wp-{article.post_id}.html"
        written = files.write(str(article.post_id), article.feed, name, article_text(article.meta, article.body))
        report.outcomes[written.outcome] += 1
    if report.outcomes["imported"] or report.outcomes["updated"]:
        os.sync()  # one flush for the whole import instead of one per file
    report.missing = files.missing(str(a.post_id) for a in articles)
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="source", required=True)
    wordpress = sub.add_parser("wordpress", help="a WordPress export (Tools → Export, WXR)")
    wordpress.add_argument("export", type=Path, help="the export file (.xml)")
    wordpress.add_argument("--config", help="config file (default: $SYNDICATE_CONFIG or ./config.yaml)")
    group = wordpress.add_mutually_exclusive_group()
    group.add_argument("--feed", help=f"the feed to write into (default: {DEFAULT_FEED})")
    group.add_argument("--feed-by", choices=("category",), help="one feed per primary category")
    wordpress.add_argument("--pages", action="store_true", help="import pages too")


def cmd_import(args: argparse.Namespace) -> int:
    """Print what was done; one line and exit 1 on an unusable export or config."""
    if args.feed is not None and (not FEED_NAME.match(args.feed) or args.feed == "all"):
        print(
            f"--feed {args.feed!r}: feed names are lower-case letters, digits, '-' and '_' (not 'all')", file=sys.stderr
        )
        return 1
    try:
        config = load_config(config_path(args.config))
    except LoadError as exc:
        print(exc.problems[0].format(Path.cwd()) if exc.problems else "config: unusable", file=sys.stderr)
        return 1
    try:
        report = run_import(
            config, args.export, feed=args.feed, by_category=args.feed_by == "category", pages=args.pages
        )
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in report.lines(config.root):
        print(line)
    return 0
