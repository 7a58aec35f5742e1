"""Which units fill one ad slot: pure functions of (space, audience, article, slot, window).

The draw is seeded by a hash of who asks, which article, which slot and which
rotation window, so the same request in the same window gets the same ads (and
the same bytes, so caches and ETags hold) while ads still rotate between windows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from syndicate.ads.caps import Budget
from syndicate.ads.model import AdSpace, AdUnit, Fallback, Selection, UnitType
from syndicate.partners import AdPolicy, Audience, SpaceOverride

MAX_CHAIN = 16  # if_empty hops followed before giving up (cycles are cut earlier)
_NO_OVERRIDE = SpaceOverride()


@dataclass(frozen=True, slots=True)
class Slot:
    """One occurrence of an ad shortcode, as one audience receives it in one window."""

    audience: Audience
    feed: str  # the article's own feed
    article_uid: str
    article_tags: frozenset[str]  # lower-cased
    format: str
    occurrence: int  # the call's index within the article
    window: int  # rotation window number: floor(time / rotation_seconds)
    moment: dt.datetime  # the window's start: schedules are judged at this instant, for stable bytes


@dataclass(frozen=True, slots=True)
class Choice:
    space: AdSpace
    units: tuple[AdUnit, ...]
    label: str


def unit_hash(*parts: object) -> float:
    """A uniform number in [0, 1) from ``parts``; stable across processes and versions."""
    return _uniform("\x1f".join(map(str, parts)))


def _uniform(text: str) -> float:
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def draw_hash(slot: Slot, space: str, round_: int) -> float:
    """``unit_hash(audience, article, occurrence, window, space, round_)``, spelled out: one per slot drawn."""
    return _uniform(
        f"{slot.audience.id}\x1f{slot.article_uid}\x1f{slot.occurrence}\x1f{slot.window}\x1f{space}\x1f{round_}"
    )


def pick_one(options: Sequence[str], *seed: object) -> str:
    """A deterministic choice among ``options`` (for ``id="3,7"``)."""
    return options[int(unit_hash(*seed) * len(options))]


def audience_allows(unit: AdUnit, audience: Audience, fmt: str, only: frozenset[str] | None) -> bool:
    """The tests of ``eligible`` that no slot changes: the same for every slot one audience reads in one format."""
    if only is not None and unit.id not in only:
        return False
    if audience.ads is AdPolicy.HOUSE and not unit.house:
        return False
    if unit.type is UnitType.HTML and not audience.allow_html:
        return False
    if unit.partners and audience.id not in unit.partners:
        return False
    return not unit.formats or fmt in unit.formats


#: ``audience_allows`` per (space, ``only``) for one audience and format: what a render works out once per space.
Allowed = dict[tuple[str, frozenset[str] | None], tuple[bool, ...]]


def eligible(
    space: AdSpace,
    slot: Slot,
    only: frozenset[str] | None,
    budget: Budget | None = None,
    allowed: Allowed | None = None,
) -> list[AdUnit]:
    """Units that may run in this slot: live now, under their caps, targeted here, allowed by policy and filters.

    ``allowed``: a memo of ``audience_allows`` for ``slot``'s audience and format, filled as spaces are met."""
    key = (space.id, only)
    passes = allowed.get(key) if allowed is not None else None
    if passes is None:
        passes = tuple(audience_allows(unit, slot.audience, slot.format, only) for unit in space.units)
        if allowed is not None:
            allowed[key] = passes
    found = []
    for unit, passed in zip(space.units, passes, strict=True):
        if not unit.live_at(slot.moment):
            continue
        if budget is not None and not budget.allows(space, unit):  # for live units only: it notes what caps kept out
            continue
        if not passed:
            continue
        if unit.feeds and slot.feed not in unit.feeds:
            continue
        if unit.tags and not slot.article_tags.intersection(t.lower() for t in unit.tags):
            continue
        found.append(unit)
    return found


def draw(space: AdSpace, units: list[AdUnit], slot: Slot) -> tuple[AdUnit, ...]:
    """Up to ``space.max_ads`` units by the space's selection rule."""
    if space.selection is Selection.STATIC:
        return tuple(units[: space.max_ads])
    if space.selection is Selection.PRIORITY and units:
        top = max(u.priority for u in units)
        units = [u for u in units if u.priority == top]
    pool = [u for u in units if u.weight > 0]
    chosen: list[AdUnit] = []
    for round_ in range(min(space.max_ads, len(pool))):
        total = sum(u.weight for u in pool)
        target = draw_hash(slot, space.id, round_) * total
        for position, unit in enumerate(pool):
            target -= unit.weight
            if target < 0 or position == len(pool) - 1:
                chosen.append(pool.pop(position))
                break
    return tuple(chosen)


def choose(
    spaces: dict[str, AdSpace],
    space_id: str,
    slot: Slot,
    show_ids: frozenset[str] | None = None,
    budget: Budget | None = None,
    allowed: Allowed | None = None,
) -> Choice | None:
    """The units for ``space_id`` in ``slot``: its own, else its ``if_empty`` chain, else its fallback.

    ``budget``: the caps of this render (``ads/caps.py``); a unit over a cap is not eligible, house ones included.
    ``allowed``: ``eligible``'s memo, for a caller choosing many slots for one audience and format.
    """
    audience = slot.audience
    if audience.ads is AdPolicy.STRIP:
        return None
    override = audience.overrides.get(space_id, _NO_OVERRIDE)
    if override.hide:
        return None
    first = spaces.get(override.use or space_id)
    if first is None:
        return None
    label = override.label or first.label
    only = frozenset(override.only) if override.only else None
    if show_ids is not None:
        only = show_ids if only is None else only & show_ids
    visited: set[str] = set()
    space: AdSpace | None = first
    while space is not None and space.id not in visited and len(visited) < MAX_CHAIN:
        visited.add(space.id)
        units = draw(space, eligible(space, slot, only if space is first else None, budget, allowed), slot)
        if units:
            return Choice(space, units, label if space is first else space.label)
        space = spaces.get(space.if_empty) if space.if_empty else None
    if first.fallback is Fallback.HOUSE:
        house = [
            u
            for u in first.units
            if u.house
            and u.live_at(slot.moment)
            and (u.type is not UnitType.HTML or audience.allow_html)
            and (budget is None or budget.allows(first, u))
        ]
        units = draw(first, house, slot)
        if units:
            return Choice(first, units, label)
    return None
