"""Hostile article bodies: whatever goes in, feeds come out valid and free of active content."""

from __future__ import annotations

import contextlib
import re

import lxml.html
import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from syndicate.config import load_config
from syndicate.content.bodies import BodyRenderer
from syndicate.content.loader import split_front_matter
from syndicate.formats import FORMATS
from syndicate.problems import LoadError
from syndicate.publish import PageRequest, ad_resolver, feed_view
from syndicate.snapshot import build_snapshot
from syndicate.yamlfile import load_yaml
from tests.conftest import FEED_YAML, MINIMAL_CONFIG, SiteFactory, article
from tests.feedcheck import NS, check_any, strict_xml

# Classic sanitiser test cases (OWASP's XSS filter evasion sheet and the html5lib sanitizer tests).
MALICIOUS = [
    "<script>alert('x')</script>",
    "<SCRIPT SRC=https://xss.test/xss.js></SCRIPT>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<a href=\"jav&#x09;ascript:alert('XSS');\">x</a>",
    "<a href=\"jav&#x0A;ascript:alert('XSS');\">x</a>",
    "<a href=\" &#14;  javascript:alert('XSS');\">x</a>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74>",
    '<<SCRIPT>alert("XSS");//<</SCRIPT>',
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>">',
    "<BODY ONLOAD=alert('XSS')>",
    "<img src=x onerror=alert(1)//>",
    "<svg/onload=alert('XSS')>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    '<OBJECT TYPE="text/x-scriptlet" DATA="https://xss.test/scriptlet.html"></OBJECT>',
    '<EMBED SRC="data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH" AllowScriptAccess="always"></EMBED>',
    "<STYLE>@import'https://xss.test/xss.css';</STYLE>",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">x</DIV>",
    '<LINK REL="stylesheet" HREF="javascript:alert(\'XSS\');">',
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    "<BASE HREF=\"javascript:alert('XSS');//\">",
    '<FORM ACTION="javascript:alert(1)"><INPUT TYPE="submit"></FORM>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "text with ]]> inside and <b>]]></b>",
    '<p title="]]><script>alert(1)</script>">x</p>',
    "<template><script>alert(1)</script></template>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<a href="#" onmouseover="alert(1)" onclick=alert(1)>x</a>',
    "<p>unclosed <b>bold <i>nested</p></b> <div><p>broken</div>",
    "&lt;script&gt;alert(1)&lt;/script&gt; &amp;lt; &#0; &#xD800; &#65535; &bogus;",
    "controls \x00\x01\x08\x0b\x0c\x1f\x7f\x80\x9f end",
    "RTL \u202eevil\u202c and emoji 🧨👩‍👩‍👧 and \ufeffBOM",
    '<img src="x.png" srcset="javascript:alert(1) 1x, /ok.png 2x">',
    '[bsa_pro_ad_space id="4" onclick="alert(1)"]',
    '[bsa_pro_ad_space id="<script>alert(1)</script>"]',
    '<a href="[bsa_pro_ad_space id=4]">in an attribute</a>',
]

ACTIVE_TAGS = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "form",
    "input",
    "meta",
    "link",
    "base",
    "template",
    "frame",
    "frameset",
    "applet",
}
RAW_AD_TAG = re.compile(r"\[/?bsa_pro_ad_space(?![\w-])")
BAD_SCHEME = re.compile(r"^(javascript|vbscript|data):", re.IGNORECASE)


def active_content(html: str) -> list[str]:
    """What a browser could execute in ``html``: found in the parsed DOM, not by searching text."""
    found = []
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag.lower() in ACTIVE_TAGS:
            found.append(f"<{element.tag}>")
        for name, value in element.attrib.items():
            if name.lower().startswith("on") or name.lower() == "style":
                found.append(f"{element.tag}@{name}")
            squeezed = re.sub(r"[\x00-\x20]", "", value)
            if name.lower() in {"href", "src", "srcset", "action", "formaction", "xlink:href", "background"} and any(
                BAD_SCHEME.match(part.strip()) for part in squeezed.split(",")
            ):
                found.append(f"{element.tag}@{name}={value}")
    return found


def rendered_all(config_path: object) -> dict[str, bytes]:
    snapshot = build_snapshot(config_path)  # type: ignore[arg-type]
    out = {}
    for fmt in FORMATS:
        view = feed_view(snapshot, PageRequest("news", fmt), ad_resolver(snapshot, snapshot.config.public, fmt))
        out[fmt] = FORMATS[fmt].render(view)
    return out


def content_htmls(fmt: str, data: bytes) -> list[str]:
    if fmt == "json":
        return [i["content_html"] for i in orjson.loads(data)["items"]]
    root = strict_xml(data)
    if fmt == "rss":
        return [i.findtext("content:encoded", namespaces=NS) or "" for i in root.iter("item")]
    return [e.findtext("atom:content", namespaces=NS) or "" for e in root.iterfind("atom:entry", NS)]


@pytest.mark.parametrize("name", ["a.md", "a.html"])
def test_malicious_corpus_gives_valid_safe_feeds(make_site: SiteFactory, name: str) -> None:
    files = {
        "feeds/news/_feed.yaml": FEED_YAML + "items_per_page: 100\n",
        "adspaces/4.yaml": "units:\n  - {id: t, type: text, url: 'https://ad.test/', title: Ad}\n",
    }
    for index, snippet in enumerate(MALICIOUS):
        files[f"feeds/news/{index:02d}-{name}"] = article(title=f"Case {index}", body=f"Before.\n\n{snippet}\n\nAfter.")
    outputs = rendered_all(make_site(files))
    for fmt, data in outputs.items():
        check_any(fmt, data)
        htmls = content_htmls(fmt, data)
        assert len(htmls) == len(MALICIOUS)
        for html in htmls:
            assert active_content(html) == [], html
            assert "[bsa_pro_ad_space" not in html
            # The text around the snippet survives, except where an unclosed <svg> swallows the rest of
            # an HTML body, as it does in a browser (and it is then removed with the svg).
            assert "Before." in html
            assert "After." in html or (name == "a.html" and "<svg/onload" in MALICIOUS[htmls.index(html)])
            etree.fromstring(f"<div>{html}</div>", etree.HTMLParser())


SHORTCODE_ALPHABET = st.sampled_from(
    [
        *"[]/=\"' abx\n<>&;",
        "[bsa_pro_ad_space",
        "[/bsa_pro_ad_space]",
        "id=4",
        "]]",
        "[[",
        "&nbsp;",
        "\u00a0",
        "—",
        "<p>",
        "</p>",
        "`",
        "*",
        "#",
        "\x00",
        "]]>",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SHORTCODE_ALPHABET, max_size=60).map("".join), st.booleans())
def test_pipeline_never_fails_and_never_leaks(body: str, markdown: bool) -> None:
    renderer = BodyRenderer("https://news.test", {"bsa_pro_ad_space"}, {"bsa_pro_ad_space"})
    rendered = renderer.render(body, markdown)
    text = "".join(s for s in rendered.segments if isinstance(s, str))
    assert not RAW_AD_TAG.search(text), text  # "[bsa_pro_ad_spacex" is another tag and may stay
    assert "\x00" not in text
    assert len(rendered.calls) <= body.count("[bsa_pro_ad_space")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_front_matter_and_yaml_loaders_only_raise_load_errors(text: str) -> None:
    from pathlib import Path

    for candidate in (text, "---\n" + text + "\n---\nbody", "---\ntitle: " + text + "\n---\n"):
        try:
            split_front_matter(candidate, Path("x.md"))
        except LoadError as exc:
            assert all(p.path == Path("x.md") for p in exc.problems)
    with contextlib.suppress(LoadError):
        load_yaml(text, Path("x.yaml"))


#: Pieces that make YAML build dates, times and numbers, possible or not.
SCALAR_PIECES = [
    "0000-00-00",
    "2020-09-31",
    "2024-02-30",
    "T25:00:00Z",
    "T00:00:00+14:00",
    "0001-01-01",
    "9999-12-31",
    ".nan",
    ".inf",
    "1.0e+999",
    "0x",
    "0o",
    "start: ",
    "end: ",
    "weight: ",
    "width: ",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([*"abc :-[]{}&*!|>'\"\n#0123456789", *SCALAR_PIECES]), max_size=60).map("".join))
@example("units:\n  - {id: a, type: text, url: 'https://a.test/', title: t, start: 0000-00-00}\n")
@example("units:\n  - {id: a, type: text, url: 'https://a.test/', title: t, end: 0001-01-01T00:00:00+14:00}\n")
@example("units:\n  - {id: a, type: text, url: 'https://a.test/', title: t, weight: .nan}\n")
@example("x: 0000-00-00")
def test_ad_space_loader_reports_instead_of_raising(make_site: SiteFactory, text: str) -> None:
    config = make_site({"feeds/news/_feed.yaml": FEED_YAML, "adspaces/9.yaml": text})
    snapshot = build_snapshot(config)  # must not raise, whatever the space file holds
    assert "9" in snapshot.spaces or any(p.path.name == "9.yaml" for p in snapshot.problems) or not text.strip()


def test_config_loader_reports_instead_of_raising(make_site: SiteFactory) -> None:
    for text in (
        "",
        "[]",
        "site: 3",
        "site:\n  title: [x]\n  base_url: {a: 1}\n",
        MINIMAL_CONFIG + "http: 5\n",
        MINIMAL_CONFIG + "partners: {a: 1}\n",
        MINIMAL_CONFIG + "ads: {aliases: [1, 2]}\n",
    ):
        with pytest.raises(LoadError):
            load_config(make_site(config=text))
