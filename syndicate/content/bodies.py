"""Article bodies: Markdown or HTML in, sanitised HTML segments with shortcode calls out.

Runs once per Snapshot build, never per request. The order matters:
registered shortcodes are swapped for inert placeholders first, so that neither
the Markdown renderer nor the sanitiser can mangle their quotes and brackets;
after sanitising, a placeholder alone in its paragraph takes the paragraph's
place (WordPress's ``shortcode_unautop``) and the body is split at placeholders.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape, unescape
from urllib.parse import urljoin, urlsplit

import lxml.html
import nh3
from lxml import etree
from markdown_it import MarkdownIt

from syndicate import shortcodes
from syndicate.content.adtags import case_variants, guard_pattern, move_out_of_links, unpaired_openers
from syndicate.content.model import Call, Segment
from syndicate.content.nesting import MAX_DEPTH, too_deep
from syndicate.content.srcset import rewrite_srcset
from syndicate.shortcodes import Shortcode
from syndicate.textclean import clean_text

ALLOWED_TAGS = (set(nh3.ALLOWED_TAGS) - {"area", "map", "nav", "header", "footer", "center"}) | {"picture", "source"}
URL_ATTRIBUTES = frozenset({"href", "src", "cite", "srcset"})
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "a": {"href", "hreflang", "title", "rel"},
    "img": {"src", "srcset", "sizes", "alt", "title", "width", "height"},
    "source": {"srcset", "sizes", "media", "type"},
    "abbr": {"title"},
    "time": {"datetime"},
    "*": {"lang", "dir"},
}
_HTML_SPACES = "\t\n\f\r"  # HTML white space besides the space itself (U+00A0 is not white space to HTML)
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_MARKER_PREFIX = "SYNDSC"  # how every placeholder starts (a nonce and its number follow)
_KEPT_URLS = 50_000  # URL attribute values remembered as checked and made absolute (links repeat across a site)
SUMMARY_CHARS = 280  # a derived summary's length at most, before its ellipsis

_markdown = MarkdownIt("commonmark", {"typographer": False, "html": True}).enable("table").enable("strikethrough")


class BodyError(ValueError):
    """A body that cannot be published; ``line`` is in the article's file."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class RenderedBody:
    segments: tuple[Segment, ...]
    calls: tuple[Call, ...]
    notes: tuple[tuple[int, str], ...] = ()  # (line, warning) for check: shortcodes that are probably mistakes


class BodyRenderer:
    """Turns article sources into segments, for one site base URL and one set of tags.

    ``tags`` are the shortcodes that get resolved per request; ``guarded`` are tags
    that must never appear in output, even as text (ad shortcodes).
    """

    def __init__(self, base_url: str, tags: Iterable[str], guarded: Iterable[str]) -> None:
        self.base = base_url.rstrip("/") + "/"
        self.tags = frozenset(tags)
        self.guarded = frozenset(guarded)
        self.guard = guard_pattern(self.guarded)
        self.guard_with_spaces = (
            re.compile(rf"[ \t\r\n]*(?:(?:{self.guard.pattern})[ \t\r\n]*)+", re.IGNORECASE) if self.guard else None
        )
        # Remembered by value, one bounded cache each: resolving and checking a URL (``urljoin``, ``urlsplit``)
        # cost more than sanitising the rest of a body, and links, images and authors repeat across a site.
        self._kept_url = functools.lru_cache(maxsize=_KEPT_URLS)(self._url_attribute)
        self.absolute = functools.lru_cache(maxsize=_KEPT_URLS)(self._absolute)
        nonce = secrets.token_hex(6)
        self.marker = re.compile(rf"{_MARKER_PREFIX}{nonce}N(\d+)E")
        self.marker_format = f"{_MARKER_PREFIX}{nonce}N{{}}E"
        self.unautop = re.compile(rf"<p>(?:\s|\xa0|&nbsp;)*({_MARKER_PREFIX}{nonce}N(\d+)E)(?:\s|\xa0|&nbsp;)*</p>\n?")
        self.cleaner = nh3.Cleaner(
            tags=ALLOWED_TAGS,
            clean_content_tags={
                "script",
                "style",
                "template",
                "iframe",
                "object",
                "embed",
                "noscript",
                "svg",
                "math",
                "textarea",
                "select",
                "title",
            },
            attributes=ALLOWED_ATTRIBUTES,
            attribute_filter=self._filter_attribute,
            url_schemes=URL_SCHEMES,
            link_rel=None,
            strip_comments=True,
        )

    def _filter_attribute(self, tag: str, attribute: str, value: str) -> str | None:
        """The sanitiser's attribute hook; URL attributes are remembered by value (``_kept_url``)."""
        if attribute not in URL_ATTRIBUTES:
            return self.marker.sub("", value) if _MARKER_PREFIX in value else value
        return self._kept_url(attribute, value)

    def _url_attribute(self, attribute: str, value: str) -> str | None:
        return self._filter_url(attribute, self.marker.sub("", value))

    def _filter_url(self, attribute: str, value: str) -> str | None:
        if attribute == "srcset":  # not a URL attribute to the sanitiser: each candidate is checked here
            return rewrite_srcset(value, self._safe_absolute)
        url = self.absolute(value)
        return url if _safe_url(url) else None

    def _safe_absolute(self, url: str) -> str | None:
        url = self.absolute(url)
        return url if url and _safe_url(url) else None

    def _absolute(self, url: str) -> str:
        """``url`` resolved against the site; fragments and mailto links stay as they are (``absolute``,
        remembered by value)."""
        stripped = url.strip()
        return stripped if not stripped or stripped.startswith("#") else urljoin(self.base, stripped)

    def render(self, source: str, is_markdown: bool, first_line: int = 1) -> RenderedBody:
        """``source`` as segments; ``first_line`` is the body's line in its file, for call lines.

        Raises ``BodyError`` when the markup nests too deeply to sanitise in reasonable time."""
        source = clean_text(source)
        parts = shortcodes.split(source, self.tags, self.guarded)
        found = [p for p in parts if isinstance(p, Shortcode)]
        lines = _lines_at(source, [shortcode.start for shortcode in found], first_line)
        numbered = iter(range(len(found)))
        marked = "".join(p if isinstance(p, str) else self.marker_format.format(next(numbered)) for p in parts)
        html = _markdown.render(marked) if is_markdown else marked
        deep = too_deep(html)
        if deep is not None:
            line = first_line if is_markdown else first_line + html.count("\n", 0, deep.offset)
            raise BodyError(
                line,
                f"markup nests deeper than {MAX_DEPTH} elements; the article is skipped "
                "(deep nesting makes sanitising it take quadratic time)",
            )
        html = move_out_of_links(self.clean(html), self.marker)
        alone: set[int] = set()

        def unwrap(match: re.Match[str]) -> str:
            alone.add(int(match.group(2)))
            return match.group(1)

        html = self.unautop.sub(unwrap, html)
        segments: list[Segment] = []
        calls: list[Call] = []
        position = 0
        layout = _Layout(html)
        for match in self.marker.finditer(html):
            segments.append(self.scrub(html[position : match.start()]))
            number = int(match.group(1))
            block = layout.alone_outside_paragraph(match.start(), match.end()) or number in alone
            shortcode = found[number]
            text = self.enclosed_text(shortcode.content, is_markdown) if shortcode.content else ""
            call = Call(shortcode, len(calls), block, lines[number], text)
            calls.append(call)
            segments.append(call)
            position = match.end()
        segments.append(self.scrub(html[position:]))
        notes = (
            *case_variants(source, self.guarded, first_line),
            *unpaired_openers(source, found, lines, self.guarded),
        )
        return RenderedBody(tuple(s for s in segments if s != ""), tuple(calls), tuple(sorted(notes)))

    def enclosed_text(self, content: str, is_markdown: bool) -> str:
        """A call's enclosed content as one line of plain text: it is article text, so it must survive.

        Content too deeply nested to sanitise only loses its tags (the words are all that is kept anyway)."""
        html = _markdown.renderInline(content) if is_markdown else content
        tag = _RAW_TAG
        if too_deep(html) is None:
            html, tag = self.clean(html), _SANITISED_TAG
        text = unescape(tag.sub(" ", html))
        return _SPACES.sub(" ", self.scrub(text)).strip(" ")

    def sanitize(self, html: str) -> str:
        """Sanitised HTML (the body allow-list), for markup that is not an article body."""
        return self.clean(clean_text(html))

    def clean(self, html: str) -> str:
        """The sanitiser's output, with entities like ``&#1;`` that decoded to XML-illegal characters removed."""
        return clean_text(str(self.cleaner.clean(html))).replace("&nbsp;", "\xa0")

    def scrub(self, text: str) -> str:
        """Remove any guarded shortcode that survived as text (an escape, a malformed tag)."""
        return self.guard.sub("", text) if self.guard else text

    def scrub_line(self, text: str) -> str:
        """A title or summary without guarded shortcodes: only the spaces around each removed one close up
        (to one space between words, none at either end); every other run of spaces stays as written."""
        if self.guard_with_spaces is None:
            return text
        return self.guard_with_spaces.sub(lambda m: "" if m.start() == 0 or m.end() == len(text) else " ", text)

    def plain_text(self, segments: Iterable[Segment]) -> str:
        """The body as plain text without any shortcode output (enclosed text is kept): for derived summaries."""
        return collapse_spaces(_text_content(segments)).strip(" ")  # U+00A0 is not white space to HTML

    def summary(self, segments: Iterable[Segment], limit: int = SUMMARY_CHARS) -> str:
        """``summarize(self.plain_text(segments), limit)``, with only the start of the text's spaces collapsed:
        collapsing the whole of a long body cost more than the rest of its summary."""
        text = _text_content(segments)
        reach = 4 * (limit + 2)
        if len(text) > reach:
            head = collapse_spaces(text[:reach]).lstrip(" ")
            if len(head) >= limit + 2:  # the whole text collapsed starts with these limit + 1 characters
                return summarize(head, limit)
        return summarize(collapse_spaces(text).strip(" "), limit)


def collapse_spaces(text: str) -> str:
    """Every run of HTML white space (space, tab, LF, FF, CR) as one space, by ``str.replace``: a regular
    expression took ~15 ns a character (most of a summary's cost), each pass here is a fast scan, and a run
    of n spaces takes log2(n) passes."""
    for space in _HTML_SPACES:
        if space in text:
            text = text.replace(space, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    return text


def _text_content(segments: Iterable[Segment]) -> str:
    """The body's text as the markup holds it (spaces not collapsed), calls replaced by their enclosed text."""
    html = " ".join(s if isinstance(s, str) else escape(s.text) for s in segments)
    if not html.strip():
        return ""
    return html_text(html)


_STRING = etree.XPath("string()", smart_strings=False)
_WHOLE_DOCUMENT = re.compile(r"^\s*<(?:html|!doctype)", re.IGNORECASE)  # what lxml.html parses unwrapped


def html_text(html: str) -> str:
    """``fragment_fromstring(html, create_parent="div").text_content()``, read off the parsed body instead of
    moving its children into a new element one by one (a Python object made for each)."""
    if not _WHOLE_DOCUMENT.match(html):
        bodies = lxml.html.document_fromstring(f"<html><body>{html}</body></html>").findall("body")
        if len(bodies) == 1:
            body = bodies[0]
            text = str(_STRING(body))
            lead = body.text
            return text[len(lead) :] if lead and not lead.strip() else text  # blank leading text is left out
    return str(lxml.html.fragment_fromstring(html, create_parent="div").text_content())


def _safe_url(url: str) -> bool:
    scheme = urlsplit(url).scheme.lower()
    return not scheme or scheme in URL_SCHEMES


def _lines_at(text: str, offsets: list[int], first_line: int) -> list[int]:
    """The line of each offset (ascending), counting newlines once over the whole text."""
    lines: list[int] = []
    line, counted = first_line, 0
    for offset in offsets:
        line += text.count("\n", counted, offset)
        counted = offset
        lines.append(line)
    return lines


_SANITISED_TAG = re.compile(r'<(?:[^"<>]++|"[^"]*+")*+>')  # the sanitiser always quotes with "
_RAW_TAG = re.compile(r"<[^<>]*+>")
_SPACES = re.compile(r"[ \t\r\n]+")
_BLANK_TO_LINE_END = re.compile(r"[^\S\n]*+(?:\n|$)")


class _Layout:
    """Answers, for calls visited in order, whether one stands on a line of its own outside any paragraph.

    Each question only reads the text since the previous one, so a body with many calls stays linear."""

    def __init__(self, html: str) -> None:
        self.html = html
        self.done = 0  # everything before this offset has been read
        self.line_start = 0
        self.content_on_line = False  # non-blank text (or a previous call) between line_start and done
        self.last_open = self.last_close = -1  # the latest "<p" and "</p>" before done

    def alone_outside_paragraph(self, start: int, end: int) -> bool:
        html, gap = self.html, self.html[self.done : start]
        newline = gap.rfind("\n")
        if newline >= 0:
            self.line_start = self.done + newline + 1
            self.content_on_line = bool(html[self.line_start : start].strip())
        else:
            self.content_on_line = self.content_on_line or bool(gap.strip())
        if (opened := gap.rfind("<p")) >= 0:
            self.last_open = self.done + opened
        if (closed := gap.rfind("</p>")) >= 0:
            self.last_close = self.done + closed
        alone = (
            not self.content_on_line
            and _BLANK_TO_LINE_END.match(html, end) is not None
            and self.last_open <= self.last_close
        )
        self.done, self.content_on_line = end, True
        return alone


def summarize(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The first ``limit`` characters of ``text``, cut at a word, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.-–— ")
    return cut + "…"
