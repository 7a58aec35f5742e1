"""Turns shortcode calls into ad markup for one audience, format and rotation window.

With ``ads.rotation: per_item`` (the default) each slot is drawn in the window its
article was published in, whatever the request's window, so the item's bytes stay
the same for as long as the article and the ad config do (docs/ads.md, "Rotation").

This is the one place that knows the ad shortcodes' attributes (docs/ads.md):
``id`` (a comma list picks one space), ``if_empty``, ``show_ids``, ``max_width``,
enclosed text; browser-only attributes are accepted and ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import NamedTuple, Protocol

from syndicate.ads.caps import Budget, CapView
from syndicate.ads.markup import ads_html, pixel_html, unit_parts, with_query
from syndicate.ads.model import AdSpace, AdUnit
from syndicate.ads.selection import Allowed, Choice, Slot, choose, pick_one
from syndicate.ads.slotcache import Context, Resolved, SlotCache
from syndicate.config import Config, Rotation, ShortcodeAlias
from syndicate.content.model import Article, Call
from syndicate.partners import Audience

#: Texts as a document writes them, each escaped for its place (``formats/assembly.py``'s ``ESCAPE``).
Escape = Callable[[Sequence[str]], list[bytes]]

#: The ADS PRO shortcode and its siblings: they take the same attributes.
AD_TAGS = ("bsa_pro_ad_space", "bsa_pro_ajax_ad_space", "ads_pro_ad_space")
USED_ATTRIBUTES = frozenset({"id", "if_empty", "show_ids", "max_width"})
#: Display options that only mean something in a browser: accepted, ignored.
BROWSER_ATTRIBUTES = frozenset({"link", "crop", "custom_image", "delay", "padding_top", "attachment", "hide_for_id"})
_PIXELS = re.compile(r"[0-9]{1,5}")  # a max_width: ASCII digits (str.isdigit() takes "²", int() refuses it)


class Links(Protocol):
    """Where an ad's click goes and which pixel counts its rendering; tracking signs both."""

    def click_url(self, unit: AdUnit, space: AdSpace, slot: Slot, article_id: str) -> str: ...

    def pixel_url(self, unit: AdUnit, space: AdSpace, slot: Slot, article_id: str) -> str | None: ...

    def memo_key(self) -> Hashable:
        """Equal for two ``Links`` that give the same URLs for the same arguments: part of the ``SlotCache``
        context."""
        ...


class DirectLinks:
    """Untracked links: straight to the target, with the audience's query parameters."""

    def click_url(self, unit: AdUnit, space: AdSpace, slot: Slot, article_id: str) -> str:
        return with_query(unit.url, slot.audience.query)

    def pixel_url(self, unit: AdUnit, space: AdSpace, slot: Slot, article_id: str) -> str | None:
        return None

    def memo_key(self) -> Hashable:
        return DirectLinks


#: One ad placed in one response, what the ``served`` count is made of: (space, unit, audience, article).
#: A plain tuple of strings, which the cycle collector untracks however many the slot cache keeps.
ServedAd = tuple[str, str, str, str]


class Placed(NamedTuple):
    """How many times one unit was placed in one response, for one audience: ``served`` adds ``n``."""

    space: str
    unit: str
    audience: str
    n: int


def tally(served: Iterable[ServedAd]) -> tuple[Placed, ...]:
    """Placements per (space, unit, audience), in first-seen order: worked out once per rendered variant,
    so counting a response is one counter bump per unit, however many slots it fills."""
    counts: dict[tuple[str, str, str], int] = {}
    for space, unit, audience, _ in served:
        key = (space, unit, audience)
        counts[key] = counts.get(key, 0) + 1
    return tuple(Placed(*key, n) for key, n in counts.items())


def split_ids(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def window_of(moment: dt.datetime, rotation_seconds: int) -> int:
    return int(moment.timestamp()) // rotation_seconds


@dataclass(frozen=True, slots=True)
class Target:
    """What an ad call asks for, after aliases and attributes are read."""

    space_ids: tuple[str, ...]
    if_empty: str | None = None
    show_ids: frozenset[str] | None = None
    max_width: int | None = None


def target_of(call: Call, aliases: dict[str, ShortcodeAlias]) -> Target | None:
    """The ad request a call makes, or None when it names no space (it then renders as nothing)."""
    attrs = call.shortcode.attrs
    alias = aliases.get(call.shortcode.tag)
    if alias is not None:
        their_id = attrs.get(alias.attribute, "")
        space = alias.spaces.get(their_id, alias.default)
        return Target((space,)) if space else None
    ids = tuple(split_ids(attrs.get("id", attrs.get("0", ""))))
    if not ids:
        return None
    show = frozenset(split_ids(attrs["show_ids"])) if attrs.get("show_ids") else None
    width_text = attrs.get("max_width", "").strip().removesuffix("px")
    max_width = int(width_text) if _PIXELS.fullmatch(width_text) and int(width_text) > 0 else None
    return Target(ids, attrs.get("if_empty") or None, show, max_width)


class AdResolver:
    """A ``publish.Resolve`` for one (audience, format, window)."""

    def __init__(
        self,
        spaces: dict[str, AdSpace],
        config: Config,
        audience: Audience,
        fmt: str,
        window: int,
        links: Links | None = None,
        caps: CapView | None = None,
        memo: SlotCache | None = None,
    ) -> None:
        self.spaces = spaces
        self.aliases = {alias.tag: alias for alias in config.ads.aliases}
        self.strip = frozenset(config.ads.strip_tags)
        self.audience = audience
        self.format = fmt
        self.window = window
        self.rotation_seconds = config.ads.rotation_seconds
        self.per_item = config.ads.rotation is Rotation.PER_ITEM
        self.moment = dt.datetime.fromtimestamp(window * config.ads.rotation_seconds, dt.UTC)
        self.links: Links = links or DirectLinks()
        # The caps of this render: None (tracking off, previews without counts) places capped units freely.
        self.budget = Budget(caps, audience.id) if caps is not None else None
        # Per-render memos: calls with the same text, and articles, recur across the slots of a feed.
        self.targets: dict[str, tuple[Target | None, tuple[str, ...]]] = {}  # and the spaces it names that exist
        self.article_slots: dict[str, tuple[frozenset[str], int, dt.datetime]] = {}  # tags, window, its start
        self.allowed: Allowed = {}  # the tests of a unit that depend only on this audience and format
        self.escaped: dict[str, str] = {}  # click URLs as attribute values: direct links repeat for every slot
        self.parts: dict[tuple[int, str, int | None, bool], tuple[str, ...]] = {}  # unit markup cut at its hrefs
        self.served: list[ServedAd] = []  # every ad this resolver placed, in order
        self.memo = memo
        self.memo_token = memo.token(self.context()) if memo is not None else 0

    def context(self) -> Context:
        """Everything but the article that this resolver's output reads (see ``ads/slotcache.py``): the
        cheapest to compare first, since contexts are told apart by comparing them."""
        window = None if self.per_item else self.window
        has_budget = self.budget is not None
        rules = (self.rotation_seconds, self.per_item, self.strip, self.aliases)
        return (self.format, window, has_budget, self.audience, self.links.memo_key(), rules, self.spaces)

    def page_slots(self, articles: Sequence[Article], escape_texts: Escape) -> list[tuple[bytes, ...]]:
        """What each article's calls resolve to, in call order and escaped by ``escape_texts`` as the document
        writes them, as calling this resolver on each call of each article in turn gives (and places): kept
        resolutions are reused as they were escaped, the rest resolved in document order and escaped together."""
        memo = self.memo
        found = memo.get_many(self.memo_token, articles) if memo is not None else [None] * len(articles)
        out: list[tuple[bytes, ...] | None] = []
        fresh: list[tuple[int, tuple[str, ...], tuple[ServedAd, ...] | None]] = []  # (at, texts, placed if kept)
        for article, resolved in zip(articles, found, strict=True):
            if resolved is None:
                texts, placed, cacheable = self.resolve_article(article)
                fresh.append((len(out), texts, placed if cacheable else None))
            else:
                self.served.extend(resolved[1])
            out.append(None if resolved is None else resolved[0])
        if fresh:
            flat = iter(escape_texts([text for _, texts, _ in fresh for text in texts]))
            kept: list[tuple[Article, Resolved]] = []
            for at, texts, keep in fresh:
                escaped = out[at] = tuple(next(flat) for _ in texts)
                if keep is not None:
                    kept.append((articles[at], (escaped, keep)))
            if kept and memo is not None:
                memo.put_many(self.memo_token, kept)
        return [slots or () for slots in out]

    def resolve_article(self, article: Article) -> tuple[tuple[str, ...], tuple[ServedAd, ...], bool]:
        """The article's calls resolved in order, the ads that placed, and whether that read no cap (so it
        holds for any render)."""
        reads = self.budget.reads if self.budget is not None else 0
        placed = len(self.served)
        texts = tuple(self(call, article) for call in article.calls)
        cacheable = self.budget is None or self.budget.reads == reads
        return texts, tuple(self.served[placed:]), cacheable

    def slot(self, call: Call, article: Article) -> Slot:
        """The slot as drawn: in this resolver's window, or (``per_item``) in the article's publication window."""
        drawn = self.article_slots.get(article.uid)
        if drawn is None:
            tags = frozenset(t.lower() for t in article.tags)
            window, moment = self.window, self.moment
            if self.per_item:
                window = window_of(article.published, self.rotation_seconds)
                moment = dt.datetime.fromtimestamp(window * self.rotation_seconds, dt.UTC)
            drawn = self.article_slots[article.uid] = (tags, window, moment)
        tags, window, moment = drawn
        return Slot(self.audience, article.feed, article.uid, tags, self.format, call.index, window, moment)

    def choose(self, call: Call, article: Article) -> tuple[Choice, Slot, Target] | None:
        """The space and units for ``call``; also used by previews and stats."""
        if call.shortcode.tag in self.strip:
            return None
        raw = call.shortcode.raw
        memo = self.targets.get(raw)
        if memo is None:
            target = target_of(call, self.aliases)
            known = tuple(space_id for space_id in target.space_ids if space_id in self.spaces) if target else ()
            memo = self.targets[raw] = (target, known)
        target, known = memo
        if target is None:
            return None
        slot = self.slot(call, article)
        space_id = ""
        if known:
            space_id = known[0] if len(known) == 1 else pick_one(known, article.uid, call.index, slot.window)
        found = choose(self.spaces, space_id, slot, target.show_ids, self.budget, self.allowed) if space_id else None
        if found is None and target.if_empty and target.if_empty != space_id:
            found = choose(self.spaces, target.if_empty, slot, budget=self.budget, allowed=self.allowed)
        return (found, slot, target) if found is not None else None

    def __call__(self, call: Call, article: Article) -> str:
        chosen = self.choose(call, article)
        if chosen is None:
            return escape(call.text)  # no ad, but the enclosed article text stays
        choice, slot, target = chosen
        space = choice.space
        if self.budget is not None:
            self.budget.spend(space, choice.units)
        max_width = target.max_width
        pieces = []
        escaped = self.escaped
        for unit in choice.units:
            self.served.append((space.id, unit.id, self.audience.id, article.id))
            key = (id(unit), call.text, max_width, call.block)  # units live as long as the Snapshot this resolver reads
            parts = self.parts.get(key)
            if parts is None:
                parts = self.parts[key] = unit_parts(unit, call.text, max_width, call.block)
            href = self.links.click_url(unit, space, slot, article.id)
            href_html = escaped.get(href)
            if href_html is None:
                href_html = escape(href)
                if len(escaped) < 1024:  # signed links differ in every slot: nothing to keep
                    escaped[href] = href_html
            piece = href_html.join(parts)
            pixel = self.links.pixel_url(unit, space, slot, article.id)
            pieces.append(piece + pixel_html(pixel) if pixel else piece)
        return ads_html(choice.label, call.block, pieces)
