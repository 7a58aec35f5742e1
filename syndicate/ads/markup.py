"""Feed-safe ad markup: plain links and images with a visible label, nothing a reader strips.

Readers drop scripts, styles, classes and often divs; they send no Referer and
strip tracking parameters. So an ad is an ``<a rel="sponsored noopener">`` around
an ``<img>`` or text, with absolute URLs and a disclosure label beside it.
"""

from __future__ import annotations

import functools
import re
import secrets
from html import escape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import lxml.html

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


def _size(unit: AdUnit, max_width: int | None) -> str:
    width, height = unit.width, unit.height
    if max_width and width and width > max_width:
        if height:
            height = max(1, round(height * max_width / width))
        width = max_width
    out = f' width="{width}"' if width else ""
    return out + (f' height="{height}"' if height else "")


_OPEN = '<a href="'
_REL = '" rel="sponsored noopener">'


def _line_text(unit: AdUnit, text: str) -> str:
    """The words of an ad's text link: enclosed article text first, else what the unit says about itself."""
    return text or unit.title or unit.alt or urlsplit(unit.url).hostname or "Advertisement"


def unit_parts(unit: AdUnit, text: str, max_width: int | None, block: bool) -> tuple[str, ...]:
    """A unit's markup cut at every place its click URL goes: ``escape(href).join(parts)`` is the piece.

    The same for every slot the unit fills, so callers may keep it. ``text`` is the call's enclosed article
    text: a text ad's link text, or the text line of the others. Image and html ads get a text link to the
    same URL, because many readers' sanitisers drop images (bleach, sanitize-html) and the ad would vanish."""
    gap = "<br>" if block else " "
    if unit.type is UnitType.IMAGE:
        alt = escape(unit.alt or unit.title)
        image = f'<img src="{escape(unit.src)}"{_size(unit, max_width)} alt="{alt}">'
        return (_OPEN, f"{_REL}{image}</a>{gap}{_OPEN}", f"{_REL}{escape(_line_text(unit, text))}</a>")
    if unit.type is UnitType.HTML:
        return html_unit_parts(unit.html, text, _line_text(unit, ""), gap)
    body = f" {escape(unit.body)}" if unit.body else ""
    return (_OPEN, f"{_REL}{escape(text or unit.title)}</a>{body}")


def _fragment(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(html or "", create_parent="div")


@functools.lru_cache(maxsize=1024)
def html_unit_parts(html: str, text: str, fallback: str, gap: str) -> tuple[str, ...]:
    """An html unit (sanitised at load) as phrasing content, valid inside a paragraph, every link going to
    the click URL with ``rel="sponsored noopener"``; with no link, the whole unit becomes one.

    Block elements give way to their content (a space keeps words apart), so the unit never puts a ``<div>``
    inside a ``<p>``. A text link follows with ``text`` (enclosed article text), or with ``fallback`` when no
    link in the unit has words of its own."""
    root = _fragment(html)
    for element in list(root.iter()):
        if element is not root and isinstance(element.tag, str) and element.tag not in _PHRASING:
            element.tail = " " + (element.tail or "")
            element.drop_tag()
    links = list(root.iter("a"))
    if not links:
        wrapper = lxml.html.Element("a")
        wrapper.text, root.text = root.text, None
        wrapper.extend(list(root))
        root.append(wrapper)
        links = [wrapper]
    for link in links:
        kept = {name: value for name in ("title", "hreflang") if (value := link.get(name)) is not None}
        link.attrib.clear()
        link.attrib.update({"href": _CLICK, **kept, "rel": "sponsored noopener"})
    line = text or ("" if any(link.text_content().strip() for link in links) else fallback)
    inner = escape(root.text or "", quote=False) + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in root
    )
    inner = _LINK_END_SPACE.sub(r"\1 ", _SPACE_RUN.sub(" ", inner)).strip()  # what dropped blocks left between words
    if line:
        inner = f"{inner}{gap}{_OPEN}{_CLICK}{_REL}{escape(line)}</a>"
    return tuple(inner.split(_CLICK))


_SPACE_RUN = re.compile(r"[ \t\r\n]+")
_LINK_END_SPACE = re.compile(r" (</a>)")
_CLICK = "syndicate-click-" + secrets.token_hex(8)  # stands for the click URL until the unit is cut at it
_PHRASING = frozenset(
    {
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "br",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "i",
        "img",
        "ins",
        "kbd",
        "mark",
        "picture",
        "q",
        "s",
        "samp",
        "small",
        "source",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "var",
        "wbr",
    }
)


def unit_html(
    unit: AdUnit, href: str, text: str, max_width: int | None, block: bool, parts: tuple[str, ...] | None = None
) -> str:
    """One unit's markup, its click URL in every link."""
    return escape(href).join(parts if parts is not None else unit_parts(unit, text, max_width, block))


def pixel_html(url: str | None) -> str:
    """A 1x1 impression pixel: extra signal only, since many readers strip such images."""
    return f'<img src="{escape(url)}" width="1" height="1" alt="">' if url else ""


@functools.lru_cache(maxsize=256)
def _label_html(label: str) -> str:
    return f"<small>{escape(label)}</small>"


def ads_html(label: str, block: bool, pieces: list[str]) -> str:
    """The whole slot: the label, then each unit's piece. Block slots get their own paragraph.

    Every piece is phrasing content, so the paragraph is valid HTML whatever the units are."""
    label_html = _label_html(label)
    if not block:
        return f"{label_html} " + " ".join(pieces)
    return f"<p>{label_html}<br>" + "<br>".join(pieces) + "</p>\n"
