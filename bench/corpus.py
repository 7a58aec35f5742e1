"""A synthetic site for the benchmarks: N articles of ~5 KB HTML with 3 ad shortcodes each, in F feed folders.

Generated rather than checked in, so any size can be made on demand (100,000 articles are ~550 MB).
The text is pseudo-random but seeded, so two runs of one size benchmark byte-identical input. Bodies are
HTML (the cheaper path: no Markdown pass) with the markup real articles carry: paragraphs, emphasis,
relative links the build makes absolute, a heading, a list and typographic quotes.

The config is the repository's own ``config.yaml`` with only what a benchmark must change overridden
(port, public URL, rate limits off), so the server runs the settings ops would ship.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
PARTNER_KEY = "partner-a-demo-key"
FEED_PAGE = 50  # items_per_page of every feed folder
BIG_PAGE = 1000  # items_per_page of the "all" feed: the 1,000-item page
BODY_BYTES = 5000
SHORT_BODY = 1500
SHORTCODES = ("[bsa_pro_ad_space id=4]", "[bsa_pro_ad_space id=5]", "[bsa_pro_ad_space id=4]")

_WORD_TEXT = (
    "minister talks trade border agreement exporters rail freight tariff markets bank loan election "
    "opposition summit delegation ports shipments currency rate analysts ministry figures estimate "
    "government parliament capital region companies contract energy pipeline grain harvest inflation "
    "budget reform court ruling protest vote coalition envoy sanctions treaty investment growth"
)
_WORDS = tuple(_WORD_TEXT.split())
_TAGS = (
    "Politics",
    "Trade",
    "Economy",
    "Energy",
    "Belarus",
    "Baltics",
    "Markets",
    "Transport",
    "Agriculture",
    "Finance",
    "Diplomacy",
    "Elections",
    "Courts",
    "Industry",
    "Ports",
    "Banking",
)
_AUTHORS = ("Ann Author", "Boris Byline", "Chloé Correspondent", "Dmitri Desk", "Syndicate Newsroom")


@dataclass(frozen=True, slots=True)
class Corpus:
    """Where a generated site lives and what a benchmark needs to address it."""

    root: Path
    config: Path
    articles: int
    feeds: tuple[str, ...]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(8, 18))
    words[0] = words[0].capitalize()
    if rng.random() < 0.3:
        words.insert(rng.randrange(1, len(words)), f"“{rng.choice(_WORDS)} {rng.choice(_WORDS)}”")
    return " ".join(words) + "."


def _paragraph(rng: random.Random, slug_pool: list[str]) -> str:
    sentences = [_sentence(rng) for _ in range(rng.randint(3, 6))]
    if rng.random() < 0.5:
        i = rng.randrange(len(sentences))
        sentences[i] = f'<a href="/world/{rng.choice(slug_pool)}/">{sentences[i]}</a>'
    if rng.random() < 0.4:
        i = rng.randrange(len(sentences))
        sentences[i] = f"<em>{sentences[i]}</em>"
    return "<p>" + " ".join(sentences) + "</p>"


def article_body(rng: random.Random, slug_pool: list[str], body_bytes: int = BODY_BYTES) -> str:
    """~``body_bytes`` of HTML with the three ad shortcodes: one inline, two alone in their paragraph
    (below SHORT_BODY, a short news item: one paragraph with one inline ad)."""
    parts = [_paragraph(rng, slug_pool)]
    parts[0] = parts[0].replace("</p>", f" {SHORTCODES[0]}</p>", 1)
    if body_bytes >= SHORT_BODY:
        parts += [
            "<h2>" + _sentence(rng).rstrip(".") + "</h2>",
            "<ul>" + "".join(f"<li>{_sentence(rng)}</li>" for _ in range(3)) + "</ul>",
        ]
    else:
        return parts[0] + "\n"
    parts.append(f"<p>{SHORTCODES[1]}</p>")
    while sum(map(len, parts)) < body_bytes - 400:
        parts.append(_paragraph(rng, slug_pool))
    parts.insert(len(parts) - 1, f"<p>{SHORTCODES[2]}</p>")
    return "\n".join(parts) + "\n"


def article_text(
    rng: random.Random,
    index: int,
    feed: str,
    published: dt.datetime,
    slug_pool: list[str],
    body_bytes: int = BODY_BYTES,
) -> str:
    tags = rng.sample(_TAGS, k=rng.randint(1, 3))
    title = _sentence(rng).rstrip(".")[:90].replace('"', "'")
    front = {
        "title": title,
        "date": published.isoformat(),
        "author": {"name": rng.choice(_AUTHORS), "url": "/about/"},
        "tags": tags,
    }
    if index % 4 == 0:
        front["image"] = {"url": f"/images/{feed}/{index}.jpg", "width": 1200, "height": 675, "alt": title[:40]}
    meta = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{meta}---\n{article_body(rng, slug_pool, body_bytes)}"


def write_articles(
    feeds_dir: Path, feed_names: tuple[str, ...], count: int, seed: int = 1, body_bytes: int = BODY_BYTES
) -> None:
    """``count`` articles spread round-robin over the feed folders, one a minute going back from 2024."""
    rng = random.Random(seed)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    slug_pool = [f"story-{i}" for i in range(200)]
    for name in feed_names:
        folder = feeds_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "_feed.yaml").write_text(
            yaml.safe_dump(
                {
                    "title": f"Section {name}",
                    "description": f"Synthetic section {name}.",
                    "language": "en",
                    "link": f"/{name}/",
                    "items_per_page": FEED_PAGE,
                }
            ),
            encoding="utf-8",
        )
    for i in range(count):
        feed = feed_names[i % len(feed_names)]
        published = start - dt.timedelta(minutes=i)
        path = feeds_dir / feed / f"{published:%Y-%m-%d}-a{i:06d}.html"
        path.write_text(article_text(rng, i, feed, published, slug_pool, body_bytes), encoding="utf-8")


def write_config(root: Path, port: int) -> Path:
    """The repo's config.yaml with only the benchmark's overrides; returns its path."""
    data: dict[str, Any] = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    data["server"] = {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"}
    data["paths"] = {"feeds": "feeds", "adspaces": "adspaces", "data": "data"}
    data["feeds"] = {"items_per_page": BIG_PAGE, "max_page_size": BIG_PAGE}
    http = dict(data.get("http") or {})
    http["rate_limits"] = {"public": {"off": True}, "partners": {"off": True}}
    data["http"] = http
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def build_corpus(root: Path, articles: int, feeds: int, port: int, body_bytes: int = BODY_BYTES) -> Corpus:
    """Write a complete site under ``root``: config.yaml, the repo's adspaces/, and feeds/."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "adspaces", root / "adspaces", dirs_exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    names = tuple(f"section-{i:02d}" for i in range(feeds))
    write_articles(root / "feeds", names, articles, body_bytes=body_bytes)
    return Corpus(root, write_config(root, port), articles, names, port)
