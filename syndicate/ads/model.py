"""Ad spaces and their units, as ops write them in adspaces/<id>.yaml (see docs/ads.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class UnitType(StrEnum):
    IMAGE = "image"
    TEXT = "text"
    HTML = "html"


class Selection(StrEnum):
    WEIGHTED = "weighted"  # a weighted draw, seeded per (audience, article, slot, window)
    PRIORITY = "priority"  # only the highest-priority eligible units take part in the draw
    STATIC = "static"  # the first eligible units in file order


class Fallback(StrEnum):
    HIDE = "hide"  # nothing eligible: render nothing
    HOUSE = "house"  # nothing eligible: the space's house units, ignoring targeting


@dataclass(frozen=True, slots=True)
class AdUnit:
    id: str
    type: UnitType
    url: str  # click target
    line: int  # where the unit starts in its file
    src: str = ""
    width: int | None = None
    height: int | None = None
    alt: str = ""
    title: str = ""
    body: str = ""
    html: str = ""  # sanitised at load; served only to audiences with allow_html
    weight: float = 1.0
    priority: int = 0
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    feeds: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    house: bool = False
    max_impressions: int | None = None  # headline served, all audiences together, over every day (ads/caps.py)
    max_clicks: int | None = None
    max_impressions_per_partner: int | None = None  # the same, for each audience on its own
    max_clicks_per_partner: int | None = None
    where: str = ""  # its field name in the file, "units[2]", for messages
    key_lines: dict[str, int] = field(default_factory=dict, hash=False, compare=False)  # line of each field

    def live_at(self, moment: dt.datetime) -> bool:
        return (self.start is None or self.start <= moment) and (self.end is None or moment < self.end)


@dataclass(frozen=True, slots=True)
class AdSpace:
    id: str
    name: str
    label: str  # the visible disclosure shown next to every ad of this space
    max_ads: int
    selection: Selection
    if_empty: str | None
    fallback: Fallback
    units: tuple[AdUnit, ...]
    path: Path
    line: int = 1
    #: Whether the file wrote ``units:`` as a list and wrote an ``if_empty`` key: a reload tells a space
    #: emptied on purpose (``units: []``, ``if_empty: null``) from a file cut short (docs/ops.md).
    units_written: bool = True
    if_empty_written: bool = True
    if_empty_line: int = 0
