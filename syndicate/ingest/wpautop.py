"""WordPress's ``wpautop``: classic-editor text given paragraphs as WordPress shows it.

The classic editor stores text with blank lines for paragraphs and single newlines
for line breaks; WordPress adds the ``<p>`` and ``<br />`` only when it displays the
post. An import must do the same, or every classic post would arrive as one
paragraph. This is a step-by-step port of ``wpautop`` in ``wp-includes/formatting.php``
(WordPress 6.1), so that the output matches WordPress's byte for byte; the tests
compare it with the PHP function itself where PHP is installed.
"""

from __future__ import annotations

import re


def _compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """PCRE without the ``u`` flag: ``\\s`` is ASCII whitespace only, so a no-break space is text."""
    return re.compile(pattern, flags | re.ASCII)


ALL_BLOCKS = (
    "(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|area|blockquote"
    "|address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|hgroup|header|footer|nav|figure"
    "|figcaption|details|menu|summary)"
)

# get_html_split_regex(): an element, a comment (to its end, or the end of input) or CDATA.
_COMMENT = r"!(?:-(?!->)[^\-]*+)*+(?:-->)?"
_CDATA = r"!\[CDATA\[[^\]]*+(?:](?!]>)[^\]]*+)*+(?:]]>)?"
_HTML_SPLIT = _compile(rf"(<(?:(?=!--){_COMMENT}|(?=!\[CDATA\[){_CDATA}|[^>]*>?))")

_BR_PAIR = _compile(r"<br\s*/?>\s*<br\s*/?>")
_BLOCK_OPEN = _compile(rf"(<{ALL_BLOCKS}[\s/>])")
_BLOCK_CLOSE = _compile(rf"(</{ALL_BLOCKS}>)")
_HR = _compile(r"(<hr\s*?/?>)")
_OPTION_BEFORE = _compile(r"\s*<option")
_OPTION_AFTER = _compile(r"</option>\s*")
_OBJECT_OPEN = _compile(r"(<object[^>]*>)\s*")
_OBJECT_CLOSE = _compile(r"\s*</object>")
_PARAM = _compile(r"\s*(</?(?:param|embed)[^>]*>)\s*")
_MEDIA_OPEN = _compile(r"([<\[](?:audio|video)[^>\]]*[>\]])\s*")
_MEDIA_CLOSE = _compile(r"\s*([<\[]/(?:audio|video)[>\]])")
_SOURCE = _compile(r"\s*(<(?:source|track)[^>]*>)\s*")
_FIGCAPTION_OPEN = _compile(r"\s*(<figcaption[^>]*>)")
_FIGCAPTION_CLOSE = _compile(r"</figcaption>\s*")
_MANY_BREAKS = _compile(r"\n\n+")
_PARAGRAPH_SPLIT = _compile(r"\n\s*\n")
_EMPTY_P = _compile(r"<p>\s*</p>")
_UNCLOSED_P = _compile(r"<p>([^<]+)</(div|address|form)>")
_WRAPPED_BLOCK = _compile(rf"<p>\s*(</?{ALL_BLOCKS}[^>]*>)\s*</p>")
_WRAPPED_LI = _compile(r"<p>(<li.+?)</p>")
_WRAPPED_QUOTE = _compile(r"<p><blockquote([^>]*)>", re.IGNORECASE)
_P_BEFORE_BLOCK = _compile(rf"<p>\s*(</?{ALL_BLOCKS}[^>]*>)")
_P_AFTER_BLOCK = _compile(rf"(</?{ALL_BLOCKS}[^>]*>)\s*</p>")
_PRESERVE = _compile(r"<(script|style|svg).*?</\1>", re.DOTALL)
_NEWLINE = _compile(r"(?<!<br />)\s*\n")
_BR_AFTER_BLOCK = _compile(rf"(</?{ALL_BLOCKS}[^>]*>)\s*<br />")
_BR_BEFORE_BLOCK = _compile(r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)")
_LAST_NEWLINE = _compile(r"\n</p>$")
_PRESERVED_NEWLINE = "<WPPreserveNewline />"
_TAG_NEWLINE = " <!-- wpnl --> "


def _php_trim(text: str) -> str:
    """PHP's ``trim``: only " \\t\\n\\r\\0\\x0B", unlike ``str.strip``."""
    return text.strip(" \t\n\r\0\x0b")


def _replace_in_html_tags(text: str, needle: str, replacement: str) -> str:
    """``wp_replace_in_html_tags`` for one pair: change ``needle`` only inside tags and comments."""
    parts = _HTML_SPLIT.split(text)
    for i in range(1, len(parts), 2):
        parts[i] = parts[i].replace(needle, replacement)
    return "".join(parts)


def _protect_pre(text: str) -> tuple[str, dict[str, str]]:
    """``<pre>`` blocks swapped for placeholders, exactly as WordPress cuts them (on ``</pre>``)."""
    pre_tags: dict[str, str] = {}
    if "<pre" not in text:
        return text, pre_tags
    *parts, last = text.split("</pre>")
    out: list[str] = []
    for part in parts:
        start = part.find("<pre")
        if start < 0:  # malformed HTML: WordPress drops this "</pre>"
            out.append(part)
            continue
        name = f"<pre wp-pre-tag-{len(pre_tags)}></pre>"
        pre_tags[name] = part[start:] + "</pre>"
        out.append(part[:start] + name)
    out.append(last)
    return "".join(out), pre_tags


def wpautop(text: str, br: bool = True) -> str:
    """Double newlines to paragraphs, remaining newlines to ``<br />`` (when ``br``), as WordPress does."""
    if _php_trim(text) == "":
        return ""
    text, pre_tags = _protect_pre(text + "\n")
    text = _BR_PAIR.sub("\n\n", text)
    text = _BLOCK_OPEN.sub(r"\n\n\1", text)
    text = _BLOCK_CLOSE.sub(r"\1\n\n", text)
    text = _HR.sub(r"\1\n\n", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _replace_in_html_tags(text, "\n", _TAG_NEWLINE)
    if "<option" in text:
        text = _OPTION_AFTER.sub("</option>", _OPTION_BEFORE.sub("<option", text))
    if "</object>" in text:
        text = _OBJECT_CLOSE.sub("</object>", _OBJECT_OPEN.sub(r"\1", text))
        text = _PARAM.sub(r"\1", text)
    if "<source" in text or "<track" in text:
        text = _MEDIA_CLOSE.sub(r"\1", _MEDIA_OPEN.sub(r"\1", text))
        text = _SOURCE.sub(r"\1", text)
    if "<figcaption" in text:
        text = _FIGCAPTION_CLOSE.sub("</figcaption>", _FIGCAPTION_OPEN.sub(r"\1", text))
    text = _MANY_BREAKS.sub("\n\n", text)
    paragraphs = [p for p in _PARAGRAPH_SPLIT.split(text) if p != ""]
    text = "".join("<p>" + p.strip("\n") + "</p>\n" for p in paragraphs)
    text = _EMPTY_P.sub("", text)
    text = _UNCLOSED_P.sub(r"<p>\1</p></\2>", text)
    text = _WRAPPED_BLOCK.sub(r"\1", text)
    text = _WRAPPED_LI.sub(r"\1", text)
    text = _WRAPPED_QUOTE.sub(r"<blockquote\1><p>", text)
    text = text.replace("</blockquote></p>", "</p></blockquote>")
    text = _P_BEFORE_BLOCK.sub(r"\1", text)
    text = _P_AFTER_BLOCK.sub(r"\1", text)
    if br:
        text = _PRESERVE.sub(lambda m: m.group(0).replace("\n", _PRESERVED_NEWLINE), text)
        text = text.replace("<br>", "<br />").replace("<br/>", "<br />")
        text = _NEWLINE.sub("<br />\n", text)
        text = text.replace(_PRESERVED_NEWLINE, "\n")
    text = _BR_AFTER_BLOCK.sub(r"\1", text)
    text = _BR_BEFORE_BLOCK.sub(r"\1", text)
    text = _LAST_NEWLINE.sub("</p>", text)
    for name, original in pre_tags.items():
        text = text.replace(name, original)
    if "<!-- wpnl -->" in text:
        text = text.replace(_TAG_NEWLINE, "\n").replace("<!-- wpnl -->", "\n")
    return text
