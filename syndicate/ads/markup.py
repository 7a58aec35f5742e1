"""Feed-safe ad markup: plain links and images with a visible label, nothing a reader strips.

Readers drop scripts, styles, classes and often divs; they send no Referer and
strip tracking parameters. So an ad is an ``<a rel="sponsored noopener">`` around
an ``<img>`` or text, with absolute URLs and a disclosure label beside it.
"""

from __future__ import annotations

import functools
import re
from html import escape, unescape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from syndicate.ads.model import AdUnit, UnitType


@functools.lru_cache(maxsize=8192)
def with_query(url: str, params: tuple[tuple[str, str], ...]) -> str:
    """``url`` with ``params`` added (replacing same-named ones): a partner's UTM tags.

    Cached: a render asks for the same (unit, audience) pair for every slot it fills."""
    if not params:
        return url
    parts = urlsplit(url)
    names = {name for name, _ in params}
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
    return urlunsplit(parts._replace(query=urlencode(query + list(params))))


_TAG = re.compile(r"<[^>]*>")


def plain(text: str) -> str:
    """Enclosed shortcode content as one line of plain text."""
    return " ".join(unescape(_TAG.sub(" ", text)).split())


def _size(unit: AdUnit, max_width: int | None) -> str:
    width, height = unit.width, unit.height
    if max_width and width and width > max_width:
        if height:
            height = max(1, round(height * max_width / width))
        width = max_width
    out = f' width="{width}"' if width else ""
    return out + (f' height="{height}"' if height else "")


def unit_tail(unit: AdUnit, content: str, max_width: int | None) -> str:
    """A unit's markup after its link target: the same for every slot it fills, so callers may keep it.

    ``content`` (the shortcode's enclosed text) becomes a text ad's link text."""
    if unit.type is UnitType.IMAGE:
        alt = escape(unit.alt or unit.title)
        return f'" rel="sponsored noopener"><img src="{escape(unit.src)}"{_size(unit, max_width)} alt="{alt}"></a>'
    text = escape(plain(content) or unit.title)
    body = f" {escape(unit.body)}" if unit.body else ""
    return f'" rel="sponsored noopener">{text}</a>{body}'


def unit_html(unit: AdUnit, href: str, content: str, max_width: int | None, tail: str | None = None) -> str:
    """One unit's markup: a link around an image or text, or a sanitised html unit as it is."""
    if unit.type is UnitType.HTML:
        return unit.html
    return f'<a href="{escape(href)}{tail if tail is not None else unit_tail(unit, content, max_width)}'


def pixel_html(url: str | None) -> str:
    """A 1x1 impression pixel: extra signal only, since many readers strip such images."""
    return f'<img src="{escape(url)}" width="1" height="1" alt="">' if url else ""


def ads_html(label: str, units: tuple[AdUnit, ...], block: bool, pieces: list[str]) -> str:
    """The whole slot: the label, then each unit's piece. Block slots get their own paragraph."""
    label_html = f"<small>{escape(label)}</small>"
    if not block:
        return f"{label_html} " + " ".join(pieces)
    if any(unit.type is UnitType.HTML for unit in units):
        return f"<div>{label_html}<br>" + "".join(pieces) + "</div>\n"
    return f"<p>{label_html}<br>" + "<br>".join(pieces) + "</p>\n"
