"""Ad shortcodes that must never show as text, and the warnings about ones written by mistake.

An ad shortcode that survives the body pipeline as text (an escape ``[[…]]``, a tag
without its ``]``, a stray closing tag, the name in another case) is removed, not
shown; ``check`` names the line of the ones that were probably meant as ads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from syndicate.shortcodes import Shortcode


def guard_pattern(tags: Iterable[str]) -> re.Pattern[str] | None:
    """Any spelling of a guarded tag in any case: a whole escape ``[[tag …]]``, a whole tag, or its opening."""
    names = sorted({re.escape(t) for t in tags}, key=len, reverse=True)
    if not names:
        return None
    name = rf"/?(?:{'|'.join(names)})(?![\w-])"
    return re.compile(rf"\[\[{name}[^\[\]<>]*\]\]|\[{name}(?:[^\[\]<>]*\])?", re.IGNORECASE)


_BRACKETED_NAME = re.compile(r"\[/?([A-Za-z0-9_-]+)")


def case_variants(source: str, tags: Iterable[str], first_line: int) -> list[tuple[int, str]]:
    """``[BSA_PRO_AD_SPACE id=4]``: shortcode names are case-sensitive, so it is no ad; it is removed."""
    known = frozenset(tags)
    lowered = {tag.lower(): tag for tag in sorted(known)}
    notes: list[tuple[int, str]] = []
    seen: set[tuple[str, int]] = set()
    line, counted = first_line, 0
    for match in _BRACKETED_NAME.finditer(source) if lowered else ():
        name = match.group(1)
        if name in known or name.lower() not in lowered:
            continue
        line += source.count("\n", counted, match.start())
        counted = match.start()
        if (name, line) not in seen:
            seen.add((name, line))
            notes.append(
                (
                    line,
                    f"[{name}] is not an ad shortcode: names are case-sensitive, so WordPress shows "
                    f"it as text; it is removed from feeds (write [{lowered[name.lower()]}] for an ad)",
                )
            )
    return notes


def unpaired_openers(
    source: str, found: Sequence[Shortcode], lines: Sequence[int], tags: Iterable[str]
) -> list[tuple[int, str]]:
    """A plain opening tag with a closing tag of its name later on: WordPress would read all the text in
    between as its content (and drop it); here the closing tag pairs with the nearest opening tag."""
    guarded = frozenset(tags)
    last_closer: dict[str, int] = {}
    notes: list[tuple[int, str]] = []
    for shortcode, line in zip(found, lines, strict=True):
        tag = shortcode.tag
        if tag not in guarded or shortcode.enclosing or shortcode.raw.endswith("/]"):
            continue
        if tag not in last_closer:
            last_closer[tag] = source.rfind(f"[/{tag}]")
        if last_closer[tag] > shortcode.end:
            notes.append(
                (
                    line,
                    f"[{tag}] has no closing tag of its own, but a [/{tag}] follows: WordPress would "
                    "take all the text up to it as this shortcode's content; here it stands alone and "
                    f"the text stays (write [{tag} … /] to say so, or close it)",
                )
            )
    return notes


_LINK = re.compile(r'<(/?)(a)(?![\w-])(?:[^"<>]++|"[^"]*+")*+>')


def move_out_of_links(html: str, marker: re.Pattern[str]) -> str:
    """Markers inside a link's text go right after the link, so an ad never nests an ``<a>`` in an ``<a>``.

    ``html`` is sanitised (well-formed, links never nested, attribute values in double quotes)."""
    if "<a" not in html or marker.search(html) is None:
        return html
    out: list[str] = []
    pending: list[str] = []
    done = 0
    inside = False
    for match, is_link in _leftmost(html, _LINK, marker):
        if not is_link:
            if inside:
                out.append(html[done : match.start()])
                pending.append(match.group())
                done = match.end()
            continue
        inside = not match.group(1)
        if not inside and pending:
            out += [html[done : match.end()], *(" " + found for found in pending)]
            pending, done = [], match.end()
    out += [html[done:], *(" " + found for found in pending)]
    return "".join(out)


def _leftmost(text: str, first: re.Pattern[str], second: re.Pattern[str]) -> Iterator[tuple[re.Match[str], bool]]:
    """The matches ``first|second`` would find, each with whether ``first`` made it: at the leftmost place
    either matches, ``first`` before ``second``, then on from the match's end. Searched apart, each
    expression skips ahead on its literal start; joined, the engine would try both at every character."""
    pos = 0
    a = first.search(text)
    b = second.search(text)
    while a is not None or b is not None:
        if a is not None and (b is None or a.start() <= b.start()):
            yield a, True
            pos = a.end()
        else:
            assert b is not None
            yield b, False
            pos = b.end()
        if a is not None and a.start() < pos:
            a = first.search(text, pos)
        if b is not None and b.start() < pos:
            b = second.search(text, pos)
