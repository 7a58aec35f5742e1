"""Which units fill one ad slot: pure functions of (space, audience, article, slot, window).

The draw is seeded by a hash of who asks, which article, which slot and which
rotation window, so the same request in the same window gets the same ads (and
the same bytes, so caches and ETags hold) while ads still rotate between windows.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from syndicate.ads.caps import Budget, is_capped
from syndicate.ads.model import AdSpace, AdUnit, Fallback, Selection, UnitType
from syndicate.partners import AdPolicy, Audience, SpaceOverride

MAX_CHAIN = 16  # if_empty hops followed before giving up (cycles are cut earlier)
_NO_OVERRIDE = SpaceOverride()


class Slot(NamedTuple):
    """One occurrence of an ad shortcode, as one audience receives it in one window (a tuple: one is made
    for every slot of every render that resolves it)."""

    audience: Audience
    feed: str  # the article's own feed
    article_uid: str
    article_tags: frozenset[str]  # lower-cased
    format: str
    occurrence: int  # the call's index within the article
    window: int  # rotation window number: floor(time / rotation_seconds)
    moment: dt.datetime  # the window's start: schedules are judged at this instant, for stable bytes


class Choice(NamedTuple):
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


def _passes(space: AdSpace, audience: Audience, fmt: str, only: frozenset[str] | None) -> tuple[bool, ...]:
    return tuple(audience_allows(unit, audience, fmt, only) for unit in space.units)


@dataclass(slots=True)
class SpaceRule:
    """What ``eligible`` works out once per (space, ``only``) for one audience and format.

    Beyond the tests no slot changes (``passes``), a unit's eligibility reads only the slot's feed (when
    some unit targets feeds), its tags (when some unit targets tags) and which of its units are live, which
    changes only at their starts and ends (``bounds``): slots alike in those get the same units, worked out
    once (``found``). Caps are the exception: a capped unit is judged slot by slot, as the budget runs down."""

    passes: tuple[bool, ...]
    bounds: tuple[dt.datetime, ...]  # every start and end of the space's units, sorted
    by_feed: bool
    by_tags: bool
    capped: bool
    found: dict[tuple[str | None, frozenset[str] | None, int], tuple[AdUnit, ...]]

    @classmethod
    def of(cls, space: AdSpace, audience: Audience, fmt: str, only: frozenset[str] | None) -> SpaceRule:
        passes = _passes(space, audience, fmt, only)
        kept = [unit for unit, passed in zip(space.units, passes, strict=True) if passed]
        times = {when for unit in space.units for when in (unit.start, unit.end) if when is not None}
        return cls(
            passes,
            tuple(sorted(times)),
            any(unit.feeds for unit in kept),
            any(unit.tags for unit in kept),
            any(is_capped(unit) for unit in space.units),
            {},
        )


#: ``SpaceRule`` per (space, ``only``) for one audience and format: what a render works out once per space.
Allowed = dict[tuple[str, frozenset[str] | None], SpaceRule]


def eligible(
    space: AdSpace,
    slot: Slot,
    only: frozenset[str] | None,
    budget: Budget | None = None,
    allowed: Allowed | None = None,
) -> tuple[AdUnit, ...]:
    """Units that may run in this slot: live now, under their caps, targeted here, allowed by policy and filters.

    ``allowed``: a memo of ``SpaceRule`` for ``slot``'s audience and format, filled as spaces are met."""
    if allowed is None:
        return _eligible(space, slot, _passes(space, slot.audience, slot.format, only), budget)
    key = (space.id, only)
    rule = allowed.get(key)
    if rule is None:
        rule = allowed[key] = SpaceRule.of(space, slot.audience, slot.format, only)
    if budget is not None and rule.capped:
        return _eligible(space, slot, rule.passes, budget)
    alike = (
        slot.feed if rule.by_feed else None,
        slot.article_tags if rule.by_tags else None,
        bisect.bisect_right(rule.bounds, slot.moment) if rule.bounds else 0,
    )
    found = rule.found.get(alike)
    if found is None:
        found = rule.found[alike] = _eligible(space, slot, rule.passes, None)
    return found


def _eligible(space: AdSpace, slot: Slot, passes: tuple[bool, ...], budget: Budget | None) -> tuple[AdUnit, ...]:
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
    return tuple(found)


def draw(space: AdSpace, units: Sequence[AdUnit], slot: Slot) -> tuple[AdUnit, ...]:
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
