"""Reads feeds/<name>/_feed.yaml and the articles beside it into the model.

A bad article is reported and skipped; the rest of its feed still loads. Only
a missing or unreadable feeds folder fails the whole load.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from syndicate.config import Config
from syndicate.content.bodies import BodyError, BodyRenderer
from syndicate.content.model import Article, Author, Feed, Image, newest_first
from syndicate.content.parsecache import ArticleInputs, FolderOutcome, ParseCache
from syndicate.content.uids import SeenUids
from syndicate.fields import MAX_PIXELS, Fields
from syndicate.files import ResolvedFolder, read_text
from syndicate.fleet.objects import shared_articles
from syndicate.ingest.upstream_config import read_upstream
from syndicate.problems import LoadError, ProblemList
from syndicate.yamlfile import load_yaml

ARTICLE_SUFFIXES = {".md": True, ".markdown": True, ".html": False, ".htm": False}  # suffix -> is Markdown
FEED_FILE = "_feed.yaml"
ALL_FEED = "all"
FEED_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # fullmatch only
MAX_ARTICLE_BYTES = 5 * 1024 * 1024
_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_TAG_URI_SAFE = "/:@!$&'()*+,;=-._~"


@dataclass(frozen=True, slots=True)
class Source:
    """One article file split into its front matter and body."""

    meta: Any
    body: str
    body_line: int


def split_front_matter(text: str, path: Path) -> Source:
    """``---`` YAML ``---`` then the body; raise ``LoadError`` naming the line when malformed."""
    problems = ProblemList()
    if not text.startswith("---"):
        problems.error(path, 1, "no front matter: an article starts with a '---' line, its YAML, then '---'")
        raise LoadError(problems)
    first_break = text.find("\n")
    if first_break < 0 or text[:first_break].strip() != "---":
        problems.error(path, 1, "the first line must be exactly '---'")
        raise LoadError(problems)
    end = _FRONT_MATTER_END.search(text, first_break + 1)
    if end is None:
        problems.error(path, 1, "front matter is not closed by a '---' line")
        raise LoadError(problems)
    meta = load_yaml(text[first_break + 1 : end.start()], path, line_offset=1)
    body_start = text.find("\n", end.end())
    body = "" if body_start < 0 else text[body_start + 1 :]
    return Source(meta, body, text.count("\n", 0, body_start) + 2 if body_start >= 0 else 0)


def _read_image(f: Fields, key: str, renderer: BodyRenderer) -> Image | None:
    value = f.raw(key)
    if value is None:
        return None
    if isinstance(value, str):
        url = f.url(key, renderer.absolute)
        return Image(url) if url else None
    sub = f.section(key)
    if not sub.written:
        return None
    image = Image(
        url=sub.url("url", renderer.absolute, required=True),
        width=sub.integer("width", 0, minimum=1, maximum=MAX_PIXELS) or None,
        height=sub.integer("height", 0, minimum=1, maximum=MAX_PIXELS) or None,
        alt=sub.text("alt"),
    )
    sub.finish()
    return image if image.url else None


@functools.lru_cache(maxsize=4096)
def shared_author(name: str, url: str = "") -> Author:
    """One Author object per name and URL: a site has a few hundred authors and 100,000 articles."""
    return Author(sys.intern(name), sys.intern(url))


def _read_author(f: Fields, renderer: BodyRenderer) -> Author | None:
    value = f.raw("author")
    if value is None:
        return None
    if isinstance(value, str):
        name = f.text("author")
        return shared_author(name) if name.strip() else None
    sub = f.section("author")
    if not sub.written:
        return None
    author = shared_author(sub.text("name", required=True), sub.url("url", renderer.absolute))
    if sub.raw("bio") is not None:  # RSS, Atom and JSON Feed have no field for it: say so, keep the article
        sub.warning("bio", "ignored: no feed format has a field for an author's biography")
    sub.finish()
    return author


def article_inputs(config: Config, renderer: BodyRenderer) -> ArticleInputs:
    """What an article's parse reads besides its file: the key its cached parse is kept under."""
    site = config.site
    return ArticleInputs(
        site.base_url, site.host, site.tag_date, site.article_url, config.feeds_dir, renderer.tags, renderer.guarded
    )


class ContentLoader:
    """Loads every feed folder under ``config.feeds_dir`` with one body renderer.

    With a ``cache``, an article whose file and inputs are unchanged since the cache's last
    build is taken from it instead of parsed again."""

    def __init__(
        self, config: Config, renderer: BodyRenderer, problems: ProblemList, cache: ParseCache | None = None
    ) -> None:
        self.config = config
        self.renderer = renderer
        self.problems = problems
        self.cache = cache
        self.inputs = article_inputs(config, renderer)

    def _plain(self, text: str) -> str:
        """A title or summary as written, without ad shortcodes. Only where one was removed are the
        spaces it leaves behind closed up; every other text keeps its spaces byte for byte."""
        return self.renderer.scrub_line(text)

    def load(self) -> dict[str, Feed]:
        root = self.config.feeds_dir
        if not root.is_dir():
            self.problems.error(root, 0, "feeds folder not found")
            raise LoadError(self.problems)
        feeds: dict[str, Feed] = {}
        seen_uids = SeenUids()
        if self.cache is not None:
            self.cache.begin()
        for folder in feed_folders(root):
            feed = self.load_feed(folder, seen_uids)
            if feed is not None:
                feeds[feed.name] = feed
        feeds[ALL_FEED] = self.all_feed(feeds.values())
        if self.cache is not None:
            self.cache.finish()
        return feeds

    def all_feed(self, feeds: Any) -> Feed:
        site = self.config.site
        sections = tuple(f.articles for f in feeds)
        articles = self.cache.all_articles(sections, _merged) if self.cache is not None else _merged(sections)
        return Feed(
            ALL_FEED,
            site.title,
            site.description or site.title,
            site.language,
            site.base_url + "/",
            None,
            self.config.feed_defaults.items_per_page,
            articles,
        )

    def load_feed(self, folder: Path, seen_uids: SeenUids) -> Feed | None:
        meta_path = folder / FEED_FILE
        if not FEED_NAME.fullmatch(folder.name) or folder.name == ALL_FEED:
            self.problems.error(
                folder,
                0,
                f"feed folder names are lower-case letters, digits, '-' and '_', and not {ALL_FEED!r}; skipped",
            )
            return None
        if not meta_path.is_file():
            self.problems.warning(folder, 0, f"no {FEED_FILE}; folder skipped")
            return None
        text = read_text(meta_path, self.config.feeds_dir, self.problems, MAX_ARTICLE_BYTES)
        if text is None:
            return None
        try:
            data = load_yaml(text, meta_path)
        except LoadError as exc:
            self.problems.extend(exc.problems)
            return None
        f = Fields.of(data, meta_path, self.problems, "", 1)
        if f is None:
            return None
        errors_before = len(self.problems.errors)
        site = self.config.site
        link = f.url("link", self.renderer.absolute, default=f"{site.base_url}/{folder.name}/")
        title = f.text("title", required=True)
        description = f.text("description", "")
        language = f.language("language", site.language)
        image = _read_image(f, "image", self.renderer)
        per_page = f.integer(
            "items_per_page",
            self.config.feed_defaults.items_per_page,
            minimum=1,
            maximum=self.config.feed_defaults.max_page_size,
        )
        upstream = read_upstream(f)
        f.finish()
        if len(self.problems.errors) > errors_before:
            return None
        return Feed(
            folder.name,
            title,
            description or title,
            language,
            link,
            image,
            per_page,
            self.load_articles(folder, seen_uids),
            meta_path,
            upstream,
        )

    def load_articles(self, folder: Path, seen_uids: SeenUids) -> tuple[Article, ...]:
        """The folder's articles, newest first; ``seen_uids`` (every earlier folder's) grows by theirs.

        With a cache, a folder none of whose files changed is taken whole from the last build."""
        shared = list(shared_articles(self.config, folder, self.problems))  # the store's, after the files
        cacheable = self.cache is not None and not folder.is_symlink()  # a link can change target unseen
        kept = self.cache.unwatched_folder(folder, self.inputs) if self.cache is not None and cacheable else None
        if kept is not None and not shared and seen_uids.add_kept(kept.uids):
            self.problems.extend(kept.problems)
            return kept.articles
        names = article_names(folder)
        if self.cache is not None and cacheable and not shared:
            kept = self.cache.unchanged_folder(folder, names, self.inputs)
            if kept is not None and seen_uids.add_kept(kept.uids):
                self.problems.extend(kept.problems)
                return kept.articles
        first_problem = len(self.problems)
        articles: list[Article] = []
        ids: dict[str, Path] = {}
        uids: dict[str, Path] = {}
        before = self.cache.last_uids(folder) if self.cache is not None and cacheable else {}
        independent = not shared  # and no article refused for an id an earlier folder holds
        sources: list[str | Path] = [*names, *shared]
        within = ResolvedFolder.of(folder, self.config.feeds_dir)
        for source in sources:
            article = self._folder_article(folder, source, cacheable, within)
            if article is None:
                continue
            path = article.path
            if article.id in ids:
                self.problems.error(
                    path, 0, f"duplicate article id {article.id!r} (also in {ids[article.id].name}); skipped"
                )
                continue
            holder = uids.get(article.uid) or seen_uids.holder(article.uid, article.uid in before)
            if holder is not None:
                self.problems.error(path, 0, f"article id {article.id!r} is already used by {holder}; skipped")
                independent = False
                continue
            ids[article.id] = path
            uids[article.uid] = path
            articles.append(article)
        seen_uids.add_walked(uids, before)
        articles.sort(key=newest_first)
        found = tuple(articles)
        if self.cache is not None and cacheable:
            outcome = FolderOutcome(found, tuple(self.problems[first_problem:]), uids)
            self.cache.folder_done(folder, names, self.inputs, outcome, independent)
        return found

    def _folder_article(
        self, folder: Path, source: str | Path, cacheable: bool, within: ResolvedFolder | None = None
    ) -> Article | None:
        """A file of ``folder`` by name (or a shared article by path): one the watcher saw no change to is
        taken from the cache before any path is made for it (a folder holds thousands)."""
        if isinstance(source, Path):
            return self.load_article(source, folder.name, cacheable)
        if self.cache is not None and cacheable:
            record = self.cache.unreported(source, folder.name, self.inputs, self.problems)
            if record is not None:
                return record.article
        return self.load_article(folder / source, folder.name, cacheable, within)

    def load_article(
        self, path: Path, feed: str, cacheable: bool = True, within: ResolvedFolder | None = None
    ) -> Article | None:
        """``within``: ``path``'s folder, resolved once for all its files (see ``read_text``)."""
        root = path.parent.parent  # feeds/, or the shared store's copy of it
        if self.cache is not None and cacheable and root == self.config.feeds_dir:
            return self.cache.load(
                path,
                feed,
                self.inputs,
                self.problems,
                lambda p, problems: read_text(p, root, problems, MAX_ARTICLE_BYTES, within),
                lambda text, problems: self._reporting_to(problems).parse_article(text, path, feed),
            )
        text = read_text(path, root, self.problems, MAX_ARTICLE_BYTES, within)
        if text is None:
            return None
        return self.parse_article(text, path, feed)

    def _reporting_to(self, problems: ProblemList) -> ContentLoader:
        return ContentLoader(self.config, self.renderer, problems)

    def parse_article(self, text: str, path: Path, feed: str) -> Article | None:
        """An article file's text as it would load from ``path``: also checks pushed and followed articles."""
        try:
            source = split_front_matter(text, path)
        except LoadError as exc:
            self.problems.extend(exc.problems)
            return None
        f = Fields.of(source.meta, path, self.problems, "front matter", 2)
        if f is None:
            return None
        errors_before = len(self.problems.errors)
        article = self._build(f, source, path, feed)
        f.finish()
        return None if len(self.problems.errors) > errors_before else article

    def _build(self, f: Fields, source: Source, path: Path, feed: str) -> Article | None:
        site = self.inputs  # all the parse may read besides the file: the cache's key
        title = self._plain(f.text("title", required=True))
        published = f.datetime("date", required=True)
        updated = f.datetime("updated") or published
        slug = path.stem
        article_id = f.text("id", f"{feed}/{slug}").strip()
        if f.has("id") and not article_id:
            f.error("id", "must not be empty")
        canonical = f.url("canonical_url", self.renderer.absolute)
        tags = tuple(dict.fromkeys(sys.intern(t) for t in f.str_list("tags") if t.strip()))  # one str a tag
        summary_given = f.text("summary")
        author = _read_author(f, self.renderer)
        image = _read_image(f, "image", self.renderer)
        if f.flag("draft", False):
            return None
        if published is None or not title:
            return None
        if updated is not None and updated < published:
            f.warning("updated", "is earlier than date; using date")
            updated = published
        try:
            body = self.renderer.render(source.body, ARTICLE_SUFFIXES[path.suffix.lower()], source.body_line)
        except BodyError as exc:
            self.problems.error(path, exc.line, str(exc))
            return None
        for line, note in body.notes:
            self.problems.warning(path, line, note)
        summary_text = self._plain(summary_given) if summary_given.strip() else ""
        summary = summary_text or self.renderer.summary(body.segments)
        url = canonical or site.article_url.format(base_url=site.base_url, feed=feed, slug=slug)
        return Article(
            feed=feed,
            slug=slug,
            id=article_id,
            uid=f"tag:{site.host},{site.tag_date}:{quote(article_id, safe=_TAG_URI_SAFE)}",
            path=path,
            title=title,
            published=published,
            updated=updated or published,
            author=author,
            tags=tags,
            summary=summary,
            image=image,
            url=url,
            body=body.segments,
            body_line=source.body_line,
        )


def feed_folders(root: Path) -> list[Path]:
    """The folders under ``feeds/`` that may be feeds, sorted: every one but hidden ones."""
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _merged(sections: tuple[tuple[Article, ...], ...]) -> tuple[Article, ...]:
    return tuple(sorted((a for articles in sections for a in articles), key=newest_first))


def _suffix(name: str) -> str:
    """``Path(name).suffix``, without making a Path."""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def article_names(folder: Path) -> list[str]:
    """The names of the article files in ``folder``, sorted (as its paths would sort)."""
    return sorted(
        name
        for name in os.listdir(folder)
        if _suffix(name).lower() in ARTICLE_SUFFIXES and not name.startswith((".", "_"))
    )
