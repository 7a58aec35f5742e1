"""Impression and click caps: which units may still run, judged from stored counts frozen per rotation window.

A unit may set ``max_impressions`` / ``max_clicks`` (all audiences together) and
``max_impressions_per_partner`` / ``max_clicks_per_partner`` (each audience on its
own; anonymous readers are the audience ``public``). The counts are the headline
``served`` and ``click`` figures of docs/tracking.md, over every day. The tracker
keeps them refreshed in the background; a window's variants all read the one
``CapView`` frozen when that window was first rendered, so bytes stay identical
within a window. Within one rendered body a unit is placed at most as many times
as its impression budget has left (``Budget``), so a nearly spent unit does not
fill every item of a feed. A render depends on the view only through ``state``,
which goes into the variant key: under ``ads.rotation: per_item`` a feed keeps its
bytes across windows until a capped unit nears or reaches its cap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from syndicate.ads.model import AdSpace, AdUnit
from syndicate.config import Config
from syndicate.problems import Level, Problem

SERVED = "served"
CLICK = "click"
#: A unit at or above this share of a cap is reported as near it (``check``, ``/admin/status``).
NEAR = 0.9
#: Impressions left are counted up to this: more than one rendered feed can place, so a unit far from
#: its cap has one constant state and does not change the variant key (or the bytes) as its count grows.
LEFT_CLAMP = 100_000
#: ``state`` of a unit with no impression cap whose click caps are not reached.
UNLIMITED = -1

#: (space, unit, audience, kind) -> headline count over every day; kind is ``served`` or ``click``.
Used = Mapping[tuple[str, str, str, str], int]


def is_capped(unit: AdUnit) -> bool:
    return any(
        cap is not None
        for cap in (
            unit.max_impressions,
            unit.max_clicks,
            unit.max_impressions_per_partner,
            unit.max_clicks_per_partner,
        )
    )


def capped_units(spaces: Mapping[str, AdSpace]) -> frozenset[tuple[str, str]]:
    """(space id, unit id) of every unit with a cap: the only counts the tracker needs to read."""
    return frozenset((space.id, unit.id) for space in spaces.values() for unit in space.units if is_capped(unit))


@dataclass(frozen=True, slots=True)
class CapView:
    """The counts caps are judged on, as they stood when a window was first rendered."""

    used: Used = field(default_factory=dict)
    start: int = 0  # unix time of the window it was frozen for
    _per_unit: dict[tuple[str, str, str], int] = field(default_factory=dict, init=False, repr=False)
    _states: dict[tuple[int, str], tuple[tuple[str, str, int], ...]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        for (space, unit, _, kind), n in self.used.items():
            key = (space, unit, kind)
            self._per_unit[key] = self._per_unit.get(key, 0) + n

    def count(self, space: str, unit: str, kind: str, audience: str | None = None) -> int:
        """``kind`` events of the unit, for one audience or (None) all of them."""
        if audience is None:
            return self._per_unit.get((space, unit, kind), 0)
        return self.used.get((space, unit, audience, kind), 0)

    def impressions_left(self, space: str, unit: AdUnit, audience: str) -> int | None:
        """Placements the unit may still get for ``audience`` (at most ``LEFT_CLAMP``); None when no
        impression cap applies."""
        left: int | None = None
        for cap, who in ((unit.max_impressions, None), (unit.max_impressions_per_partner, audience)):
            if cap is not None:
                room = min(LEFT_CLAMP, max(0, cap - self.count(space, unit.id, SERVED, who)))
                left = room if left is None else min(left, room)
        return left

    def state(self, generation: int, spaces: Mapping[str, AdSpace], audience: str) -> tuple[tuple[str, str, int], ...]:
        """What a render for ``audience`` reads of this view: (space, unit, impressions left, 0 when a click
        cap is reached, ``UNLIMITED`` when neither limits it) per capped unit. Memoised per Snapshot
        generation and audience: it is part of every variant key, so it is asked for on every request."""
        key = (generation, audience)
        found = self._states.get(key)
        if found is None:
            found = self._states[key] = tuple(
                (space.id, unit.id, self._left(space.id, unit, audience))
                for space in spaces.values()
                for unit in space.units
                if is_capped(unit)
            )
        return found

    def _left(self, space: str, unit: AdUnit, audience: str) -> int:
        if self.clicks_spent(space, unit, audience):
            return 0
        left = self.impressions_left(space, unit, audience)
        return UNLIMITED if left is None else left

    def clicks_spent(self, space: str, unit: AdUnit, audience: str) -> bool:
        """True when a click cap is reached for ``audience`` (or for everyone)."""
        return any(
            cap is not None and self.count(space, unit.id, CLICK, who) >= cap
            for cap, who in ((unit.max_clicks, None), (unit.max_clicks_per_partner, audience))
        )


class Budget:
    """One render's view of the caps: which units may still be placed, spending impressions as they are."""

    def __init__(self, view: CapView, audience: str) -> None:
        self.view = view
        self.audience = audience
        self._left: dict[tuple[str, str], int | None] = {}
        self.limited = False  # a cap kept some unit out of this render: its bytes depend on the counts
        #: Questions about capped units so far: a slot resolved while it stayed put depends on no count and
        #: spent nothing, so its resolution holds for any render (``ads/slotcache.py``).
        self.reads = 0

    def allows(self, space: AdSpace, unit: AdUnit) -> bool:
        if not is_capped(unit):
            return True
        self.reads += 1
        key = (space.id, unit.id)
        if key not in self._left:
            spent = self.view.clicks_spent(space.id, unit, self.audience)
            self._left[key] = 0 if spent else self.view.impressions_left(space.id, unit, self.audience)
        left = self._left[key]
        if left is None or left > 0:
            return True
        self.limited = True
        return False

    def spend(self, space: AdSpace, units: Iterable[AdUnit]) -> None:
        """The units were placed once each in this render."""
        for unit in units:
            left = self._left.get((space.id, unit.id))
            if left is not None:
                self._left[(space.id, unit.id)] = left - 1


@dataclass(frozen=True, slots=True)
class CapStatus:
    """One cap of one unit, with how much of it is used: what ``check`` and ``/admin/status`` report."""

    space: AdSpace
    unit: AdUnit
    index: int  # the unit's position in its space's file
    what: str  # "impressions" or "clicks"
    audience: str | None  # None: all audiences together
    used: int
    cap: int

    @property
    def reached(self) -> bool:
        return self.used >= self.cap

    def message(self) -> str:
        who = f" for {self.audience}" if self.audience else ""
        state = "reached: not placed again" + who if self.reached else f"{self.used / self.cap:.0%} used: near it"
        field_name = f"max_{self.what}" + ("_per_partner" if self.audience else "")
        return (
            f"units[{self.index}] {self.unit.id!r}: {self.used} of {field_name} {self.cap}{who}: {state} "
            "(caps are judged at the start of each rotation window)"
        )


def cap_statuses(spaces: Mapping[str, AdSpace], view: CapView, audiences: Iterable[str]) -> list[CapStatus]:
    """Every cap at or above ``NEAR`` of its value, per unit and per audience."""
    audiences = tuple(audiences)
    found: list[CapStatus] = []
    for _, space in sorted(spaces.items()):
        for index, unit in enumerate(space.units):
            checks: list[tuple[str, str, int | None, str | None]] = [
                ("impressions", SERVED, unit.max_impressions, None),
                ("clicks", CLICK, unit.max_clicks, None),
            ]
            for audience in audiences:
                checks += [
                    ("impressions", SERVED, unit.max_impressions_per_partner, audience),
                    ("clicks", CLICK, unit.max_clicks_per_partner, audience),
                ]
            for what, kind, cap, who in checks:
                if cap is None:
                    continue
                used = view.count(space.id, unit.id, kind, who)
                if used >= cap * NEAR:
                    found.append(CapStatus(space, unit, index, what, who, used, cap))
    return found


def audience_ids(config: Config) -> list[str]:
    """Every audience a per-partner cap can apply to: the public profile and each partner."""
    return [config.public.id, *(partner.id for partner in config.partners)]


def cap_problems(spaces: Mapping[str, AdSpace], view: CapView, audiences: Iterable[str]) -> list[Problem]:
    """Warnings for ``check`` and ``/admin/status``: every unit at or near a cap, at its line."""
    return [
        Problem(status.space.path, status.unit.line, Level.WARNING, status.message())
        for status in cap_statuses(spaces, view, audiences)
    ]
