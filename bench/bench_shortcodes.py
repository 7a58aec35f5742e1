"""Throughput of syndicate.shortcodes.render, against WordPress's own regular expression as the baseline.

Run: python bench/bench_shortcodes.py [--runs N]

Prints median MB/s per input. The regex baseline (get_shortcode_regex and get_shortcode_atts_regex through
Python's `re`, driven like do_shortcode) is quadratic on hostile input, so it only runs on the smaller sizes.
The hostile scaling line compares 1 MB with 100 KB: about 10 means linear time, about 100 quadratic.

Then the whole body pipeline (shortcodes, Markdown, sanitiser, segments) on one body holding 10k, 20k and
40k shortcodes, and on nested lists up to the nesting bound: each doubling should about double the time
(ratio 2 = linear, 4 = quadratic).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syndicate.content.bodies import BodyRenderer
from syndicate.content.nesting import MAX_DEPTH
from syndicate.shortcodes import render

Handler = Callable[[dict[str, str], str, str], str]
KB = 1000
MB = 1000 * KB

# --- baseline: WordPress's expressions -------------------------------------------------------------------------

_TOKEN = re.compile(r"\[([^<>&/\[\]\x00-\x20=]++)")
_ATTS = re.compile(
    r"""([\w-]+)\s*=\s*"([^"]*)"(?:\s|$)|([\w-]+)\s*=\s*'([^']*)'(?:\s|$)|([\w-]+)\s*=\s*([^\s'"]+)(?:\s|$)"""
    r"""|"([^"]*)"(?:\s|$)|'([^']*)'(?:\s|$)|(\S+)(?:\s|$)""",
    re.ASCII,
)


def regex_parse_atts(text: str) -> dict[str, str]:
    """Close enough for timing: PHP key numbering and stripcslashes are left out."""
    atts: dict[str, str] = {}
    for m in _ATTS.finditer(re.sub("[\xa0\u200b]+", " ", text)):
        g = m.groups()
        for key, value in ((g[0], g[1]), (g[2], g[3]), (g[4], g[5])):
            if key:
                atts[key.lower()] = value
                break
        else:
            value = g[6] or g[7] or g[8]
            if value:
                atts[str(len(atts))] = value
    return atts


def regex_render(content: str, handlers: Mapping[str, Handler]) -> str:
    if "[" not in content:
        return content
    present = set(_TOKEN.findall(content))
    names = [name for name in handlers if name in present]
    if not names:
        return content
    pattern = re.compile(
        r"\[(\[?)(" + "|".join(map(re.escape, names)) + r")(?![\w-])([^\]\/]*(?:\/(?!\])[^\]\/]*)*?)"
        r"(?:(\/)\]|\](?:([^\[]*+(?:\[(?!\/\2\])[^\[]*+)*+)\[\/\2\])?)(\]?)",
        re.ASCII,
    )

    def call(m: re.Match[str]) -> str:
        if m.group(1) == "[" and m.group(6) == "]":
            return m.group(0)[1:-1]
        tag = m.group(2)
        return m.group(1) + handlers[tag](regex_parse_atts(m.group(3)), m.group(5) or "", tag) + m.group(6)

    return pattern.sub(call, content)


# --- inputs -----------------------------------------------------------------------------------------------------

HANDLERS: dict[str, Handler] = {
    "bsa_pro_ad_space": lambda a, c, t: f'<div class="ad" data-id="{a.get("id", "")}"></div>',
    "box": lambda a, c, t: f"<aside>{c}</aside>",
    "caption": lambda a, c, t: f"<figure>{c}</figure>",
}

PARAGRAPH = (
    "<p>Regional councils met on Tuesday to discuss the new transit plan, which would add three bus lines and "
    "extend evening service on the busiest routes. Residents raised concerns about parking [sic] and about the "
    "cost of the project, estimated at 4.2 million over five years.</p>\n"
)


def article() -> str:
    """About 5 KB of prose with three ad slots, the common case."""
    parts = []
    for i in range(18):
        parts.append(PARAGRAPH)
        if i % 6 == 2:
            parts.append(f"[bsa_pro_ad_space id={i}]\n")
    return "".join(parts)


def valid(size: int) -> str:
    """Dense, well-formed shortcodes of every kind between short runs of text."""
    unit = (
        "Text [bsa_pro_ad_space id=7] more [box title=\"Note\" class='wide']Boxed <b>text</b>[/box] "
        '[caption width="300" "positional"]<img src="a.jpg" />[/caption] [[box]] [bsa_pro_ad_space id="8" /]\n'
    )
    return (unit * (size // len(unit) + 1))[:size]


def hostile(size: int) -> str:
    """Unclosed enclosing tags, runs of `[`, quotes, then openings that no `]` ever closes."""
    third = size // 3
    closers_missing = ("[box]\"'" * (third // 7 + 1))[:third]
    brackets = "[" * third
    openings = ("[bsa_pro_ad_space " * (size // 18 + 1))[: size - 2 * third]
    return closers_missing + brackets + openings


# --- timing -----------------------------------------------------------------------------------------------------


def timed(fn: Callable[[str, Mapping[str, Handler]], str], text: str, runs: int) -> tuple[float, str]:
    """Median seconds over runs, and the output (to check both sides did the same work)."""
    times, out = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        out = fn(text, HANDLERS)
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pipeline-only", action="store_true", help="only the body pipeline scaling")
    args = parser.parse_args()
    runs = args.runs
    if args.pipeline_only:
        pipeline(max(1, runs // 2))
        return

    cases = [
        ("article 5 KB, 3 ads", article(), True),
        ("valid 100 KB", valid(100 * KB), True),
        ("valid 1 MB", valid(MB), False),
        ("hostile 10 KB", hostile(10 * KB), True),
        ("hostile 100 KB", hostile(100 * KB), True),
        ("hostile 1 MB", hostile(MB), False),
    ]
    print(f"{'input':24} {'bytes':>9} {'ours MB/s':>10} {'regex MB/s':>11} {'speedup':>8}")
    ours: dict[str, float] = {}
    for name, text, with_regex in cases:
        size = len(text.encode())
        ours[name], out = timed(render, text, runs)
        line = f"{name:24} {size:>9} {size / MB / ours[name]:>10.2f}"
        if with_regex:
            regex_runs = 1 if "hostile 100" in name else runs  # seconds per run: one is enough
            theirs, expected = timed(regex_render, text, regex_runs)
            assert out == expected, f"{name}: outputs differ"
            line += f" {size / MB / theirs:>11.2f} {theirs / ours[name]:>7.1f}x"
        else:
            line += f" {'(skipped)':>11}"
        print(line, flush=True)
    ratio = ours["hostile 1 MB"] / ours["hostile 100 KB"]
    print(f"hostile scaling time(1 MB)/time(100 KB) = {ratio:.1f} (10 = linear, 100 = quadratic)")
    pipeline(max(1, runs // 2))


def timed_body(source: str, is_markdown: bool, runs: int) -> float:
    renderer = BodyRenderer("https://news.example.com", ("bsa_pro_ad_space",), ("bsa_pro_ad_space",))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        renderer.render(source, is_markdown)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def pipeline(runs: int) -> None:
    """BodyRenderer.render on growing bodies: the Snapshot build runs it once per article."""
    half = MAX_DEPTH // 2 - 1  # <ul><li> pairs: just inside the nesting bound
    bodies: list[tuple[str, Callable[[int], str], bool]] = [
        ("shortcodes, Markdown", lambda n: "".join(f"Word {i} [bsa_pro_ad_space id=4]\n" for i in range(n)), True),
        ("shortcodes, HTML", lambda n: "".join(f"Word {i} [bsa_pro_ad_space id=4]\n" for i in range(n)), False),
        ("shortcodes, one line", lambda n: "".join(f"w{i} [bsa_pro_ad_space id=4] " for i in range(n)), False),
        ("nested lists, HTML", lambda n: ("<ul><li>" * half + "x" + "</li></ul>" * half) * (n // 100), False),
    ]
    print(f"\n{'body pipeline':24} {'10k':>8} {'20k':>8} {'40k':>8} {'40k/20k':>8}")
    for name, make, is_markdown in bodies:
        seconds = [timed_body(make(n), is_markdown, runs) for n in (10_000, 20_000, 40_000)]
        cells = " ".join(f"{s:>7.3f}s" for s in seconds)
        print(f"{name:24} {cells} {seconds[2] / seconds[1]:>8.2f}", flush=True)
    print("(10k/20k/40k = shortcodes in one body, or nested-list blocks x100; ratio 2 = linear, 4 = quadratic)")


if __name__ == "__main__":
    main()
