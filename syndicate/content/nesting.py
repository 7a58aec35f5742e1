"""How deep HTML nests, measured before the sanitiser sees it.

The sanitiser's HTML parser checks element scopes by walking its stack of open
elements, so its time grows with the square of the nesting depth: 240 KB of
nested lists took seconds on every reload. Bodies deeper than ``MAX_DEPTH`` are
refused instead. The estimate follows the HTML parser where it matters for depth
(void elements, the end tags that close several elements, ``<p>``, ``<li>``,
``<dt>``/``<dd>`` closed by their siblings) and runs in time linear in the text
times the depth bound.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

#: Real articles stay far below this; it still bounds the sanitiser's work to a small multiple of linear.
MAX_DEPTH = 100

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*+)[^<>]*+>")
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "image",
    }
)
# Start tags that close an open <p> (the parser's "close a p element" steps).
_CLOSES_P = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "li",
        "dd",
        "dt",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "listing",
        "search",
        "section",
        "summary",
        "table",
        "ul",
        "xmp",
        "plaintext",
    }
)
# An element that closes the nearest open sibling of these names, unless a list or other container is in between.
_SIBLINGS = {
    "li": frozenset({"li"}),
    "dt": frozenset({"dt", "dd"}),
    "dd": frozenset({"dt", "dd"}),
    "p": frozenset({"p"}),
}
_PERMEABLE = frozenset(
    {
        "address",
        "div",
        "p",
        "a",
        "b",
        "big",
        "code",
        "em",
        "font",
        "i",
        "nobr",
        "s",
        "small",
        "strike",
        "strong",
        "tt",
        "u",
        "span",
    }
)


@dataclass(frozen=True, slots=True)
class TooDeep:
    depth: int
    offset: int  # where in the text the bound was passed


def _close_sibling(stack: list[str], open_names: Counter[str], names: frozenset[str]) -> None:
    if not any(open_names[name] for name in names):
        return
    for index in range(len(stack) - 1, -1, -1):
        if stack[index] in names:
            for name in stack[index:]:
                open_names[name] -= 1
            del stack[index:]
            return
        if stack[index] not in _PERMEABLE:
            return


def too_deep(html: str, limit: int = MAX_DEPTH) -> TooDeep | None:
    """Where ``html`` first nests deeper than ``limit`` elements, or None."""
    if html.count("<") <= limit:
        return None
    stack: list[str] = []
    open_names: Counter[str] = Counter()
    for match in _TAG.finditer(html):
        closing, name = match.group(1), match.group(2).lower()
        if closing:
            if open_names[name]:
                index = len(stack) - 1 - stack[::-1].index(name)
                for dropped in stack[index:]:
                    open_names[dropped] -= 1
                del stack[index:]
            continue
        if name in _VOID:
            continue
        if name in _CLOSES_P:
            _close_sibling(stack, open_names, _SIBLINGS["p"])
        if name in _SIBLINGS and name != "p":
            _close_sibling(stack, open_names, _SIBLINGS[name])
        stack.append(name)
        open_names[name] += 1
        if len(stack) > limit:
            return TooDeep(len(stack), match.start())
    return None
