"""A server-rendered SVG chart of served, rendered and clicks per day: no script, no CDN.

Three small panels stacked, each on its own scale: clicks are a hundredth of
served, and on one shared axis they would be a flat line at zero. Every point
carries its day and value (``data-day``, ``data-value``, a ``<title>`` tooltip).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from syndicate.tracking.stats import Counts, Row

SERIES = (("served", "Served", "#1f5fa8"), ("rendered", "Rendered (pixel)", "#2e7d32"), ("clicks", "Clicks", "#c62828"))
WIDTH, PANEL, LEFT, RIGHT, TOP, GAP = 760, 110, 64, 16, 22, 34


def fill_days(rows: Sequence[Row]) -> list[tuple[str, Counts]]:
    """Rows keyed by day, with the days between them filled with zeros so the x axis is time."""
    by_day = {row.key["day"]: row.counts for row in rows}
    if not by_day:
        return []
    day, last = dt.date.fromisoformat(min(by_day)), dt.date.fromisoformat(max(by_day))
    out: list[tuple[str, Counts]] = []
    while day <= last:
        out.append((day.isoformat(), by_day.get(day.isoformat(), Counts())))
        day += dt.timedelta(days=1)
    return out


def _x(index: int, count: int) -> float:
    plot = WIDTH - LEFT - RIGHT
    return LEFT + (plot / 2 if count == 1 else plot * index / (count - 1))


def _panel(days: Sequence[tuple[str, Counts]], series: str, label: str, color: str, top: float) -> list[str]:
    values: list[int] = [getattr(counts, series) for _, counts in days]
    high = max(max(values), 1)
    bottom = top + PANEL

    def y(v: int) -> float:
        return bottom - (PANEL - 8) * v / high

    out = [
        f'<g class="series" data-series="{series}">',
        f'<text x="{LEFT}" y="{top - 6:.1f}" class="label">{escape(label)}</text>',
        f'<line x1="{LEFT}" y1="{bottom:.1f}" x2="{WIDTH - RIGHT}" y2="{bottom:.1f}" class="axis"/>',
        f'<line x1="{LEFT}" y1="{y(high):.1f}" x2="{WIDTH - RIGHT}" y2="{y(high):.1f}" class="grid"/>',
        f'<text x="{LEFT - 6}" y="{y(high) + 4:.1f}" class="tick" text-anchor="end">{high}</text>',
        f'<text x="{LEFT - 6}" y="{bottom + 4:.1f}" class="tick" text-anchor="end">0</text>',
    ]
    points = " ".join(f"{_x(i, len(days)):.1f},{y(v):.1f}" for i, v in enumerate(values))
    out.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
    for i, ((day, _), value) in enumerate(zip(days, values, strict=True)):
        out.append(
            f'<circle cx="{_x(i, len(days)):.1f}" cy="{y(value):.1f}" r="3" fill="{color}" '
            f'data-day="{day}" data-value="{value}"><title>{day}: {value} {escape(label.lower())}'
            f"</title></circle>"
        )
    out.append("</g>")
    return out


def svg_chart(days: Sequence[tuple[str, Counts]]) -> str:
    """The chart for ``days`` (from ``fill_days``); a short note when there is nothing to draw."""
    height = TOP + len(SERIES) * (PANEL + GAP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="chart-title">',
        '<title id="chart-title">Served, rendered and clicks per day (UTC)</title>',
        "<style>.label{font:600 13px sans-serif}.tick{font:11px sans-serif;fill:#555}"
        ".axis{stroke:#999}.grid{stroke:#ddd;stroke-dasharray:3 3}</style>",
    ]
    if not days:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle" class="label">'
            "No events recorded in this period</text></svg>"
        )
        return "".join(parts)
    for index, (series, label, color) in enumerate(SERIES):
        parts += _panel(days, series, label, color, TOP + index * (PANEL + GAP))
    last_axis = TOP + len(SERIES) * (PANEL + GAP) - GAP + 16
    ticks = sorted({0, len(days) // 2, len(days) - 1})
    for i in ticks:  # the end labels hang inwards, so they stay inside the picture
        anchor = "middle" if len(days) == 1 else "start" if i == 0 else "end" if i == len(days) - 1 else "middle"
        parts.append(
            f'<text x="{_x(i, len(days)):.1f}" y="{last_axis:.1f}" class="tick" '
            f'text-anchor="{anchor}">{days[i][0]}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
