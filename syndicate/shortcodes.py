"""WordPress shortcodes, found by a single linear scan instead of WordPress's regular expression.

Articles arrive with WordPress shortcodes (`[bsa_pro_ad_space id=3]`, `[caption]...[/caption]`) and must come out
exactly as WordPress would render them. The behaviour mirrors WordPress's `get_shortcode_regex`, `do_shortcode`,
`do_shortcode_tag`, `shortcode_parse_atts` (6.5 and later), `strip_shortcodes` and `shortcode_unautop`. Their
backtracking expression needs time quadratic in the input on unclosed tags, so a hostile body could stall the
server; here every search is a `str.find` that the match then consumes, a precomputed index of closing tags, or a
regular expression that cannot backtrack more than once over the same text.

Where this module deliberately differs from WordPress:

* `do_shortcodes_in_html_tags` is not reproduced (the caller handles HTML separately): shortcodes inside HTML
  tags, attributes and comments are treated like any other text, and WordPress's `&#91;`/`&#93;` placeholder
  round trip (which also rewrites a literal `&#91;` to `&#091;`) does not happen.
* No filters (`pre_do_shortcode_tag`, `do_shortcode_tag`, `strip_shortcodes_tagnames`, `wp_spaces_regexp`).
* Attributes are always a dict, as in WordPress 6.5+ (older versions passed `''`, or the trimmed text when
  nothing parsed). Content is `""` without a closing tag, which is also what WordPress passes.
* Tag names that WordPress's `add_shortcode` would refuse (empty, or containing `<>&/[]=`, space or a control
  character) are ignored.
* WordPress returns an empty post when PCRE hits its backtracking limit; this scanner has no such limit.
* `stripcslashes` escapes that spell bytes which are not valid UTF-8 become U+FFFD. Offsets count code points.
* A lone extra bracket (`[[tag]` or `[tag]]`) stays text beside the shortcode, as in WordPress's output, and is
  not part of `Shortcode.start/end/raw`.
* Optionally (`split(..., innermost=...)`), a closing tag pairs with the nearest opening tag of those names
  instead of the first one, so that a plain opening tag never swallows the text after it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

Handler = Callable[[dict[str, str], str, str], str]

_NAME_CHARS = r"[^<>&/\[\]\x00-\x20=]"
_BAD_NAME = re.compile(r"[<>&/\[\]\x00-\x20=]")
_NAME_RUN = re.compile(_NAME_CHARS + "++")
# A `[` followed by a would-be tag name: WordPress only considers registered tags that occur like this.
_TOKEN = re.compile(r"\[(" + _NAME_CHARS + "++)")
_CLOSER = re.compile(r"\[/(" + _NAME_CHARS + r"++)\]")
_WORDISH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_SPACES = re.compile(r"(?:[\r\n\t \xa0]|&nbsp;)*+")

# One attribute per match. Possessive quantifiers keep it linear; `(?!\S)` is WordPress's `(?:\s|$)`.
_ATTR = re.compile(
    r"""(?:([\w-]++)\s*+=\s*+(?:"([^"]*+)"|'([^']*+)'|([^\s"']++))|"([^"]*+)"|'([^']*+)')(?!\S)|(\S++)""",
    re.ASCII,
)
_NBSP = re.compile("[\xa0\u200b]+")
_PHP_INT = re.compile(r"-?[1-9][0-9]*|0")
_INT_MAX = 2**63 - 1
_C_ESCAPE = re.compile(rb"\\(x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|.)", re.DOTALL)
_C_SIMPLE = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"a": b"\a", b"v": b"\v", b"b": b"\b", b"f": b"\f"}


@dataclass(frozen=True, slots=True)
class Shortcode:
    """One shortcode call as WordPress would dispatch it."""

    tag: str
    attrs: dict[str, str] = field(hash=False)  # positional attributes under "0", "1", ... as WordPress numbers them
    content: str  # "" when none
    enclosing: bool  # a closing tag was found
    start: int
    end: int
    raw: str


class _Tags:
    """Registered names in registration order, which decides between names that are prefixes of each other."""

    __slots__ = ("initials", "known", "longest", "rank", "sizes", "subsets")

    def __init__(self, names: Iterable[str]) -> None:
        self.rank: dict[str, int] = {}
        for name in names:
            if name and name not in self.rank and not _BAD_NAME.search(name):
                self.rank[name] = len(self.rank)
        self.sizes = sorted({len(name) for name in self.rank})
        self.longest = self.sizes[-1] if self.sizes else 0
        self.known: dict[str, list[str]] = {}
        self.initials = frozenset(name[0] for name in self.rank)
        self.subsets: dict[frozenset[str], _Tags] = {}  # seen_in's answers, by the names it kept

    def seen_in(self, text: str) -> _Tags:
        """Keep the names that occur right after a `[`, the prefilter do_shortcode applies before matching."""
        present = self.rank.keys() & set(_TOKEN.findall(text))
        key = frozenset(present)
        subset = self.subsets.get(key)
        if subset is None:
            if len(self.subsets) >= _KEPT_TAGS:
                self.subsets.clear()
            subset = self.subsets[key] = _Tags(name for name in self.rank if name in present)
        return subset

    def at(self, text: str, pos: int) -> list[str]:
        """Names that can start at pos (not followed by a word character or hyphen), best first; reads few chars."""
        if text[pos : pos + 1] not in self.initials:
            return []
        run = _NAME_RUN.match(text, pos, pos + self.longest + 1)
        if run is None:
            return []
        word = run.group()
        if word not in self.known:
            if len(self.known) >= _KEPT_WORDS:
                self.known.clear()
            found = [
                word[:size]
                for size in self.sizes
                if size <= len(word) and word[:size] in self.rank and (size == len(word) or word[size] not in _WORDISH)
            ]
            self.known[word] = sorted(found, key=self.rank.__getitem__)
        return self.known[word]


_KEPT_WORDS = 4096  # at()'s answers kept per name set (the set is kept across texts)
_KEPT_TAGS = 64  # name sets remembered, per set and for seen_in: a renderer passes the same set every time
_kept_tags: dict[int, tuple[Iterable[str], _Tags]] = {}


def _tags_of(names: Iterable[str]) -> _Tags:
    """``_Tags(names)``, made once for an immutable collection passed again (by identity: the rank follows
    the very order that object iterates in)."""
    if not isinstance(names, (frozenset, tuple)):
        return _Tags(names)
    kept = _kept_tags.get(id(names))
    if kept is not None and kept[0] is names:
        return kept[1]
    if len(_kept_tags) >= _KEPT_TAGS:
        _kept_tags.clear()
    tags = _Tags(names)
    _kept_tags[id(names)] = (names, tags)
    return tags


def _closers(text: str, tags: _Tags) -> dict[str, list[int]]:
    """Offsets of every `[/name]` per registered name, so finding the next one is a bisect, not a rescan."""
    spots: dict[str, list[int]] = {}
    for m in _CLOSER.finditer(text):
        if m.group(1) in tags.rank:
            spots.setdefault(m.group(1), []).append(m.start())
    return spots


def _closer_after(spots: dict[str, list[int]], tag: str, pos: int) -> int:
    offsets = spots.get(tag, [])
    i = bisect_left(offsets, pos)
    return offsets[i] if i < len(offsets) else -1


def _openers(text: str, tags: _Tags, innermost: frozenset[str]) -> list[int]:
    """Offsets of every `[` that opens one of the ``innermost`` tags, in order."""
    if not innermost:
        return []
    return [m.start() for m in _TOKEN.finditer(text) if innermost.intersection(tags.at(text, m.start(1)))]


def _after(offsets: list[int], pos: int) -> int:
    """The first offset beyond pos, or a number past any text."""
    i = bisect_right(offsets, pos)
    return offsets[i] if i < len(offsets) else 2**63


def _scan(
    text: str, names: Iterable[str], innermost: Iterable[str] = ()
) -> Iterator[tuple[int, int, str | None, str, str | None]]:
    """Matches as do_shortcode's expression finds them: (start, end, tag, attribute text, content or None).

    text[start:end] is what gets replaced. tag is None for an escape (`[[tag]]`), whose replacement is the text
    without its outer brackets. A lone extra bracket beside a call is left outside start:end. A tag in
    ``innermost`` only encloses text that opens none of those tags (see ``split``).
    """
    tags = _tags_of(names) if "[" in text else _Tags(())
    if tags.rank:
        tags = tags.seen_in(text)
    last_bracket = text.rfind("]")
    if not tags.rank or last_bracket < 0:
        return
    spots = _closers(text, tags)
    nested = frozenset(innermost) & tags.rank.keys()
    openers = _openers(text, tags, nested)
    pos = 0
    # A call needs a `]` after its name, so nothing can start at or beyond the last one.
    while (pos := text.find("[", pos, last_bracket)) >= 0:
        lead = text.startswith("[", pos + 1)
        name_at = pos + 1 + lead
        found = tags.at(text, name_at)
        # Every candidate shares the first `]` after the name.
        if not found or last_bracket < name_at + len(found[0]):
            pos += 1
            continue
        tag = found[0]
        after = name_at + len(tag)
        close = text.find("]", after)
        selfclosing = text[close - 1] == "/"
        end, content = close + 1, None
        if (
            not selfclosing
            and tag in spots
            and (closer := _closer_after(spots, tag, close + 1)) >= 0
            and not (tag in nested and _after(openers, close) < closer)
        ):
            end, content = closer + len(tag) + 3, text[close + 1 : closer]
        if lead and text.startswith("]", end):
            yield pos, end + 1, None, "", None
        else:
            yield pos + lead, end, tag, text[after : close - selfclosing], content
        pos = end + text.startswith("]", end)


def _walk(text: str, names: Iterable[str], innermost: Iterable[str] = ()) -> Iterator[str | Shortcode]:
    """The text as literal pieces and Shortcode calls, in order."""
    done = 0
    for start, end, tag, attr_text, content in _scan(text, names, innermost):
        yield text[done:start]
        if tag is None:
            yield text[start + 1 : end - 1]
        else:
            atts = parse_atts(attr_text)
            yield Shortcode(tag, atts, content or "", content is not None, start, end, text[start:end])
        done = end
    yield text[done:]


def parse(text: str, tags: Iterable[str]) -> list[Shortcode]:
    """Every call of a registered shortcode, in order; escaped ones (`[[tag]]`) are text and left out."""
    return [piece for piece in _walk(text, tags) if isinstance(piece, Shortcode)]


def split(text: str, tags: Iterable[str], innermost: Iterable[str] = ()) -> list[str | Shortcode]:
    """Text and shortcode calls in order, text merged and never empty; escapes appear as render shows them.

    A tag named in ``innermost`` encloses content only when that content opens none of the ``innermost``
    tags; otherwise it stands alone, so that `[ad id=4] text [ad id=3]x[/ad]` pairs the closing tag with
    the nearest opening one. WordPress would read `[ad id=4]` as enclosing everything up to `[/ad]`.
    """
    pieces: list[str | Shortcode] = []
    run: list[str] = []  # adjacent text, joined once: adding to a string in a loop copies it each time
    for piece in _walk(text, tags, innermost):
        if isinstance(piece, Shortcode):
            if run:
                pieces.append("".join(run))
                run = []
            pieces.append(piece)
        elif piece:
            run.append(piece)
    if run:
        pieces.append("".join(run))
    return pieces


def render(text: str, handlers: Mapping[str, Handler]) -> str:
    """do_shortcode: replace each call by handler(attrs, content, tag), one pass, escapes unwrapped."""
    out: list[str] = []
    done = 0
    for start, end, tag, attr_text, content in _scan(text, handlers):
        out.append(text[done:start])
        if tag is None:
            out.append(text[start + 1 : end - 1])
        else:
            out.append(handlers[tag](parse_atts(attr_text), content or "", tag))
        done = end
    out.append(text[done:])
    return "".join(out)


def strip(text: str, tags: Iterable[str]) -> str:
    """strip_shortcodes: registered calls vanish with their content; escaped ones become literal text."""
    out: list[str] = []
    done = 0
    for start, end, tag, _, _ in _scan(text, tags):
        out += [text[done:start], "" if tag else text[start + 1 : end - 1]]
        done = end
    out.append(text[done:])
    return "".join(out)


def _unescape_c(m: re.Match[bytes]) -> bytes:
    code = m.group(1)
    if code[:1] == b"x" and len(code) > 1:
        return bytes([int(code[1:], 16)])
    if code[:1].isdigit() and code[:1] < b"8":
        return bytes([int(code, 8) & 0xFF])
    return _C_SIMPLE.get(code, code)


def _stripcslashes(value: str) -> str:
    """PHP's stripcslashes, which works on bytes: `\\n`, `\\x41`, `\\101`, and `\\c` for any other c."""
    if "\\" not in value:
        return value
    return _C_ESCAPE.sub(_unescape_c, value.encode("utf-8", "surrogatepass")).decode("utf-8", "replace")


def parse_atts(text: str) -> dict[str, str]:
    """shortcode_parse_atts: named values keyed in lower case, positional ones numbered like PHP list appends.

    Keys follow PHP array rules, so `2=a b` gives {"2": "a", "3": "b"}. Values holding a `<` that no `>`
    follows become "". Text with nothing to parse gives {} (WordPress 6.5+; earlier versions returned a string).
    """
    atts: dict[str, str] = {}
    if not text.strip(" \t\n\r\f\v\xa0\u200b"):
        return atts
    next_index: int | None = None  # PHP's next free integer key; None until an integer key exists
    if "\xa0" in text or "\u200b" in text:
        text = _NBSP.sub(" ", text)
    for m in _ATTR.finditer(text):
        key, double, single, bare, positional_double, positional_single, word = m.groups()
        if key is not None:
            key = key.lower()
            if _PHP_INT.fullmatch(key) and -_INT_MAX - 1 <= int(key) <= _INT_MAX:
                next_index = int(key) + 1 if next_index is None else max(next_index, int(key) + 1)
            value = double if double is not None else single if single is not None else bare
            atts[key] = _stripcslashes(value or "")
            continue
        value = positional_double or positional_single or word
        index = 0 if next_index is None else next_index
        if value and index <= _INT_MAX:  # WordPress skips empty quoted positionals
            atts[str(index)] = _stripcslashes(value)
            next_index = index + 1
    for key, value in atts.items():
        if value.rfind("<") > value.rfind(">"):  # an HTML tag left open
            atts[key] = ""
    return atts


def unautop(html: str, tags: Iterable[str]) -> str:
    """shortcode_unautop: drop the `<p>...</p>` that wpautop wrapped around a registered shortcode standing alone."""
    known = _Tags(tags)
    if not known.rank or "<p>" not in html:
        return html
    spots = _closers(html, known)
    blank_end: dict[int, int] = {}
    bracket = [len(html) + 1, -1]  # last `]` lookup (from, found); lookups only move forward, so reuse it

    def skip_blank(pos: int) -> int:
        if pos not in blank_end:
            blank = _SPACES.match(html, pos)
            blank_end[pos] = blank.end() if blank else pos
        return blank_end[pos]

    def next_bracket(pos: int) -> int:
        if not (bracket[0] <= pos and (bracket[1] < 0 or pos <= bracket[1])):
            bracket[:] = [pos, html.find("]", pos)]
        return bracket[1]

    def standalone(p: int) -> tuple[int, int, int] | None:
        start = skip_blank(p + 3)
        if not html.startswith("[", start):
            return None
        found = known.at(html, start + 1)
        close = next_bracket(start + 1) if found else -1  # names hold no `]`: one lookup serves them all
        for tag in found if close >= 0 else ():
            ends = [close + 1]
            if html[close - 1] != "/" and (closer := _closer_after(spots, tag, close + 1)) >= 0:
                ends.insert(0, closer + len(tag) + 3)  # the enclosing reading is tried first
            for end in ends:
                tail = skip_blank(end)
                if html.startswith("</p>", tail):
                    return start, end, tail + 4
        return None

    out: list[str] = []
    done = pos = 0
    while (pos := html.find("<p>", pos)) >= 0:
        hit = standalone(pos)
        if hit is None:
            pos += 1
            continue
        out += [html[done:pos], html[hit[0] : hit[1]]]
        done = pos = hit[2]
    out.append(html[done:])
    return "".join(out)


def find_tokens(text: str) -> list[tuple[int, str]]:
    """Every `[name ...]` that would be a shortcode if name were registered, as (1-based line, name).

    Names are what WordPress's prefilter sees after a `[` (escaped `[[name]]` included); a `[name` with no `]`
    anywhere after it cannot become a shortcode and is left out.
    """
    tokens: list[tuple[int, str]] = []
    last_bracket = text.rfind("]")
    line, counted = 1, 0
    for m in _TOKEN.finditer(text):
        if m.end() > last_bracket:
            break
        line += text.count("\n", counted, m.start())
        counted = m.start()
        tokens.append((line, m.group(1)))
    return tokens
