"""The /admin/stats page for people, as data for its template (``web/templates/stats.html``).

Plain HTML and inline SVG with no script, so it works behind any proxy and under
a strict Content-Security-Policy. Numbers are printed raw (no thousands
separators) and carry ``data-column`` so they can be checked against the JSON.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from syndicate.tracking.chart import fill_days, svg_chart
from syndicate.tracking.stats import COLUMNS, Counts, Report

TITLES = {
    "served": "Served",
    "fetches": "Fetches with ads",
    "rendered": "Rendered",
    "clicks": "Clicks",
    "ctr": "CTR",
    "bot_served": "Bots: served",
    "bot_fetches": "Bots: fetches",
    "bot_rendered": "Bots: rendered",
    "bot_clicks": "Bots: clicks",
    "proxy_served": "Proxies: served",
    "proxy_fetches": "Proxies: fetches",
    "proxy_rendered": "Proxies: rendered",
    "proxy_clicks": "Proxies: clicks",
}


@dataclass(frozen=True, slots=True)
class Cell:
    """One number: ``shown`` as people read it, ``raw`` as the JSON has it ('' for none)."""

    column: str
    title: str
    shown: str
    raw: str


@dataclass(frozen=True, slots=True)
class Row:
    key: tuple[str, ...]
    cells: tuple[Cell, ...]

    @property
    def data_key(self) -> str:
        return "/".join(self.key)


@dataclass(frozen=True, slots=True)
class Table:
    id: str
    title: str
    keys: tuple[str, ...]
    columns: tuple[str, ...]  # column titles
    rows: tuple[Row, ...]


def _cell(name: str, counts: Counts) -> Cell:
    value = counts.as_dict()[name]
    shown = "–" if value is None else f"{value:.2%}" if isinstance(value, float) else str(value)
    return Cell(name, TITLES[name], shown, "" if value is None else str(value))


def _table(table_id: str, title: str, report: Report) -> Table:
    keys = tuple(report.rows[0].key) if report.rows else ()
    rows = tuple(
        Row(tuple(row.key.values()), tuple(_cell(c, row.counts) for c in report.columns)) for row in report.rows
    )
    return Table(table_id, title, keys, tuple(TITLES[c] for c in report.columns), rows)


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def stats_context(days: Report, spaces: Report, units: Report, partners: Report) -> dict[str, Any]:
    """What the template shows; all four reports cover the same period."""
    return {
        "lang": "en",
        "since": days.since,
        "until": days.until,
        "since_value": _date(days.since),
        "until_value": _date(days.until),
        "totals": [_cell(c, days.totals) for c in COLUMNS],
        "dropped": days.dropped,
        "chart": Markup(svg_chart(fill_days(days.rows))),  # built from numbers and escaped day labels
        "tables": [
            _table("by-space", "Per space", spaces),
            _table("by-unit", "Per unit", units),
            _table("by-partner", "Per partner", partners),
        ],
    }
