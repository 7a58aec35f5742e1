"""Advice on a loaded Snapshot: things that are allowed but probably not meant.

The loaders report what is broken; these are warnings that never stop a load or
a reload: shortcode-like text nothing handles, ad spaces nothing uses, ad units
outside their schedule. ``syndicate check`` prints them and /admin/status shows them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from syndicate.ads.resolver import target_of
from syndicate.content.loader import MAX_ARTICLE_BYTES
from syndicate.content.model import Article
from syndicate.files import read_text
from syndicate.problems import Problem, ProblemList
from syndicate.shortcodes import find_tokens
from syndicate.snapshot import Snapshot

#: What a WordPress shortcode name looks like; capitalised words and footnote numbers in brackets do not.
_SHORTCODE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*$")
#: WordPress's own shortcodes, which are plain words.
_WORDPRESS_CORE = frozenset({"audio", "caption", "embed", "gallery", "playlist", "video", "wp_caption"})


def advice(snapshot: Snapshot, now: dt.datetime | None = None) -> list[Problem]:
    """Every warning below, for ``snapshot`` at ``now`` (default: the current time)."""
    problems = ProblemList()
    unhandled_shortcodes(snapshot, problems)
    unused_spaces(snapshot, problems)
    units_out_of_schedule(snapshot, problems, now or dt.datetime.now(dt.UTC))
    return problems


def scheduled(snapshot: Snapshot) -> list[dict[str, str]]:
    """What will be published later, soonest first: path (relative to the config folder), id and time.

    Not a warning: a future ``date`` is how an article is scheduled (docs/ops.md)."""
    root = snapshot.config.root
    return [
        {
            "path": str(a.path.relative_to(root) if a.path.is_relative_to(root) else a.path),
            "id": a.id,
            "at": a.published.isoformat(timespec="seconds"),
        }
        for a in snapshot.scheduled
    ]


def _text_of(article: Article) -> str:
    return "".join(part for part in article.body if isinstance(part, str))


def _looks_like_shortcode(name: str, text: str) -> bool:
    """A bracketed word is a shortcode when its name says so, or it has attributes or a closing tag:
    ``[gallery]``, ``[contact-form-7]``, ``[poll id=3]``, ``[note]...[/note]``, but not ``[sic]``."""
    if not _SHORTCODE_NAME.match(name):
        return False
    if "_" in name or "-" in name or name in _WORDPRESS_CORE or f"[/{name}]" in text:
        return True
    return re.search(rf"\[{re.escape(name)}\s[^\[\]]*=", text) is not None


def unhandled_shortcodes(snapshot: Snapshot, problems: ProblemList) -> None:
    """Shortcode-like tokens left in a rendered body: readers would see them as text.

    The rendered text is scanned first, so Markdown links (``[text](url)``), already
    turned into HTML, are not mistaken for shortcodes; only a body with a finding is
    read again from disk, to name the line.
    """
    for article in snapshot.feeds["all"].articles if "all" in snapshot.feeds else ():
        text = _text_of(article)
        names = {
            name
            for _, name in find_tokens(text)
            if name not in snapshot.shortcode_tags and _looks_like_shortcode(name, text)
        }
        if not names:
            continue
        source = read_text(article.path, snapshot.config.feeds_dir, ProblemList(), MAX_ARTICLE_BYTES) or ""
        lines: dict[str, int] = {}
        for line, name in find_tokens(source):
            lines.setdefault(name, line)
        for name in sorted(names, key=lambda n: (lines.get(n, article.body_line), n)):
            problems.warning(
                article.path,
                lines.get(name, article.body_line),
                f"[{name}] looks like a shortcode that nothing handles; readers see it as text "
                "(list it in ads.strip_tags to remove it)",
            )


def _named_spaces(snapshot: Snapshot) -> Iterator[str]:
    """Every space id that an article, alias, partner override or if_empty points at."""
    aliases = {alias.tag: alias for alias in snapshot.config.ads.aliases}
    for article in snapshot.feeds["all"].articles if "all" in snapshot.feeds else ():
        for call in article.calls:
            target = target_of(call, aliases)
            if target is not None:
                yield from target.space_ids
                if target.if_empty:
                    yield target.if_empty
    for alias in snapshot.config.ads.aliases:
        yield from alias.spaces.values()
        if alias.default:
            yield alias.default
    for audience in (snapshot.config.public, *snapshot.config.partners):
        yield from (override.use for override in audience.overrides.values() if override.use)
    yield from (space.if_empty for space in snapshot.spaces.values() if space.if_empty)


def unused_spaces(snapshot: Snapshot, problems: ProblemList) -> None:
    used = set(_named_spaces(snapshot))
    for space_id, space in sorted(snapshot.spaces.items()):
        if space_id not in used:
            problems.warning(
                space.path,
                0,
                f"ad space {space_id!r} is not used: no article, alias, partner override or if_empty names it",
            )


def units_out_of_schedule(snapshot: Snapshot, problems: ProblemList, now: dt.datetime) -> None:
    for _, space in sorted(snapshot.spaces.items()):
        for index, unit in enumerate(space.units):
            where = f"units[{index}] {unit.id!r}"
            if unit.end is not None and unit.end <= now:
                problems.warning(space.path, unit.line, f"{where}: ended {unit.end.isoformat()}; it is never served")
            elif unit.start is not None and unit.start > now:
                problems.warning(
                    space.path, unit.line, f"{where}: starts {unit.start.isoformat()}; not served before then"
                )
