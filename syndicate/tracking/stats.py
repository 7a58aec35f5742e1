"""Stats from the store: totals, CTR and rows per day, space, unit or partner, as a table, CSV or JSON.

The headline columns (served, fetches, rendered, clicks, CTR) count partners'
keyed pulls, browsers, feed readers and unknown agents; known bots and image
proxies have columns of their own, so nothing is hidden and nothing inflates the
headline. The method is written down in docs/tracking.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import get_args

from syndicate.tracking.bots import Agent
from syndicate.tracking.events import Kind
from syndicate.tracking.store import GROUP_COLUMNS, Group, Grouping, Store

BY_CHOICES: tuple[Grouping, ...] = tuple(g for g in get_args(Grouping) if g != "total")
COLUMNS = (
    "served",
    "fetches",
    "rendered",
    "clicks",
    "ctr",
    "bot_served",
    "bot_fetches",
    "bot_rendered",
    "bot_clicks",
    "proxy_served",
    "proxy_fetches",
    "proxy_rendered",
    "proxy_clicks",
)
_NAMES: dict[str, str] = {Kind.SERVED: "served", Kind.FETCH: "fetches", Kind.RENDERED: "rendered", Kind.CLICK: "clicks"}
#: Fetches are per response, not per ad: they have no space or unit, so those groupings show no fetch columns.
_WITHOUT_FETCHES: frozenset[Grouping] = frozenset({"space", "unit"})


def columns(by: Grouping) -> tuple[str, ...]:
    """The count columns rows of ``by`` carry."""
    return tuple(c for c in COLUMNS if not c.endswith("fetches")) if by in _WITHOUT_FETCHES else COLUMNS


_PREFIX: dict[str, str] = {Agent.BOT: "bot_", Agent.PROXY: "proxy_"}


@dataclass(slots=True)
class Counts:
    served: int = 0  # ad placements delivered
    fetches: int = 0  # feed responses that carried at least one ad
    rendered: int = 0
    clicks: int = 0
    bot_served: int = 0
    bot_fetches: int = 0
    bot_rendered: int = 0
    bot_clicks: int = 0
    proxy_served: int = 0
    proxy_fetches: int = 0
    proxy_rendered: int = 0
    proxy_clicks: int = 0

    def add(self, kind: str, agent: str, n: int) -> None:
        name = _NAMES.get(kind)
        if name is not None:
            column = _PREFIX.get(agent, "") + name
            setattr(self, column, getattr(self, column) + n)

    @property
    def ctr(self) -> float | None:
        """Clicks per served ad, or None when nothing was served."""
        return self.clicks / self.served if self.served else None

    def as_dict(self, names: tuple[str, ...] = COLUMNS) -> dict[str, int | float | None]:
        return {
            name: (round(self.ctr, 6) if self.ctr is not None else None) if name == "ctr" else getattr(self, name)
            for name in names
        }


@dataclass(slots=True)
class Row:
    key: dict[str, str]
    counts: Counts


@dataclass(slots=True)
class Report:
    by: Grouping
    since: dt.date | None
    until: dt.date | None
    totals: Counts = field(default_factory=Counts)
    dropped: int = 0
    rows: list[Row] = field(default_factory=list)

    @property
    def columns(self) -> tuple[str, ...]:
        """The count columns of its rows (its totals carry every column)."""
        return columns(self.by)

    def as_json(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "by": self.by,
            "totals": self.totals.as_dict(),
            "dropped": self.dropped,
            "rows": [{**row.key, **row.counts.as_dict(self.columns)} for row in self.rows],
        }


def parse_day(text: str) -> dt.date:
    """A YYYY-MM-DD date; raises ValueError otherwise."""
    if len(text) != 10:
        raise ValueError(f"expected a date like 2024-05-01, got {text[:40]!r}")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected a date like 2024-05-01, got {text!r}") from None


def build_report(
    by: Grouping, since: dt.date | None, until: dt.date | None, totals: Iterable[Group], groups: Iterable[Group]
) -> Report:
    """A report from the store's ``total`` and ``by`` groupings."""
    report = Report(by, since, until)
    for group in totals:
        if group.kind == Kind.DROPPED:
            report.dropped += group.n
        report.totals.add(group.kind, group.agent, group.n)
    rows: dict[tuple[str, ...], Counts] = {}
    for group in groups:
        if group.kind == Kind.DROPPED or (group.kind == Kind.FETCH and by in _WITHOUT_FETCHES):
            continue
        rows.setdefault(group.key, Counts()).add(group.kind, group.agent, group.n)
    names = GROUP_COLUMNS[by]
    report.rows = [Row(dict(zip(names, key, strict=True)), counts) for key, counts in rows.items()]
    return report


def report(store: Store, by: Grouping, since: dt.date | None = None, until: dt.date | None = None) -> Report:
    """Blocking: run it on the store's thread, or in the CLI."""
    return build_report(by, since, until, store.grouped("total", since, until), store.grouped(by, since, until))


def _text(value: int | float | None) -> str:
    return "" if value is None else f"{value:.2%}" if isinstance(value, float) else str(value)


def _cells(report: Report) -> tuple[list[str], list[list[str]]]:
    names = report.columns
    header = [*GROUP_COLUMNS[report.by], *names]
    body = [[*row.key.values(), *map(_text, row.counts.as_dict(names).values())] for row in report.rows]
    blanks = [""] * (len(GROUP_COLUMNS[report.by]) - 1)
    body.append(["total", *blanks, *map(_text, report.totals.as_dict(names).values())])
    return header, body


def _line(cells: list[str], widths: list[int], keys: int) -> str:
    """Key columns left-aligned, numbers right-aligned."""
    padded = (c.ljust(w) if i < keys else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
    return "  ".join(padded).rstrip()


def as_table(report: Report) -> str:
    """Aligned columns for a terminal, totals last."""
    header, body = _cells(report)
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    keys = len(GROUP_COLUMNS[report.by])
    out = [_line(cells, widths, keys) for cells in [header, *body]]
    if report.dropped:
        out.append(f"dropped events (buffer full): {report.dropped}")
    return "\n".join(out) + "\n"


def as_csv(report: Report) -> str:
    """One row per key with raw numbers (CTR as a fraction); no totals row, so sums stay right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*GROUP_COLUMNS[report.by], *report.columns])
    for row in report.rows:
        values = row.counts.as_dict(report.columns).values()
        writer.writerow([*row.key.values(), *("" if v is None else v for v in values)])
    return buffer.getvalue()
