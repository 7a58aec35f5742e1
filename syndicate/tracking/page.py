"""The /admin/stats page for people: totals, CTR, the chart, and tables per space, unit and partner.

Plain HTML and inline SVG with no script, so it works behind any proxy and under
a strict Content-Security-Policy. Numbers are printed raw (no thousands
separators) and carry ``data-column`` so they can be checked against the JSON.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from syndicate.tracking.chart import fill_days, svg_chart
from syndicate.tracking.stats import COLUMNS, Counts, Report

TITLES = {"served": "Served", "fetches": "Fetches with ads", "rendered": "Rendered", "clicks": "Clicks", "ctr": "CTR",
          "bot_served": "Bots: served", "bot_fetches": "Bots: fetches", "bot_rendered": "Bots: rendered",
          "bot_clicks": "Bots: clicks", "proxy_served": "Proxies: served", "proxy_fetches": "Proxies: fetches",
          "proxy_rendered": "Proxies: rendered", "proxy_clicks": "Proxies: clicks"}
STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:64rem;padding:0 1rem;color:#222}
h1{margin:.2rem 0}h2{margin-top:2rem;font-size:1.15rem}
table{border-collapse:collapse;margin:.5rem 0;font-variant-numeric:tabular-nums}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e3e3e3;text-align:right}
th:first-child,td.key{text-align:left}thead th{background:#f5f5f5}
.note{color:#555;font-size:.9rem}form{margin:.8rem 0}svg{max-width:100%;height:auto}
"""


def _cell(name: str, counts: Counts, cell_id: str = "") -> str:
    value = counts.as_dict()[name]
    shown = "–" if value is None else f"{value:.2%}" if isinstance(value, float) else str(value)
    raw = "" if value is None else str(value)
    id_attr = f' id="{cell_id}"' if cell_id else ""
    return f'<td{id_attr} data-column="{name}" data-value="{raw}">{shown}</td>'


def _table(table_id: str, report: Report) -> str:
    keys = list(report.rows[0].key) if report.rows else []
    names = report.columns
    head = "".join(f"<th>{escape(k)}</th>" for k in keys) + "".join(f"<th>{TITLES[c]}</th>" for c in names)
    rows = []
    for row in report.rows:
        key_cells = "".join(f'<td class="key">{escape(v)}</td>' for v in row.key.values())
        rows.append(f'<tr data-key="{escape("/".join(row.key.values()))}">{key_cells}'
                    + "".join(_cell(c, row.counts) for c in names) + "</tr>")
    if not rows:
        return f'<p id="{table_id}" class="note">Nothing recorded in this period.</p>'
    return (f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(rows)
            + "\n</tbody></table>")


def _date_input(name: str, value: dt.date | None) -> str:
    shown = value.isoformat() if value else ""
    return f'<label>{name} <input type="date" name="{name}" value="{shown}"></label>'


def stats_page(days: Report, spaces: Report, units: Report, partners: Report) -> str:
    """The whole page; all four reports cover the same period."""
    totals = days.totals
    period = (f"{days.since.isoformat() if days.since else 'the first day'} to "
              f"{days.until.isoformat() if days.until else 'today'} (UTC)")
    total_cells = "\n".join(f"<tr><th>{TITLES[c]}</th>{_cell(c, totals, f'total-{c}')}</tr>" for c in COLUMNS)
    dropped = (f'<p class="note" id="dropped">Events dropped because the buffer was full: {days.dropped}</p>'
               if days.dropped else "")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>Ad stats</title>
<style>{STYLE}</style>
</head>
<body>
<h1>Ad stats</h1>
<p class="note">From {escape(period)}. Served counts every ad placed in a feed response (a response with 61 ads
counts 61); fetches count those responses once each; rendered counts pixel loads, clicks count followed links.
Headline columns count partners' keyed pulls, browsers, feed readers and unknown agents; known bots and image
proxies are counted in their own columns. CTR is clicks per served ad.</p>
<form method="get" action="">{_date_input("since", days.since)} {_date_input("until", days.until)}
<button type="submit">Show</button> <a href="stats.json">JSON</a></form>
<h2>Totals</h2>
<table id="totals"><tbody>
{total_cells}
</tbody></table>
{dropped}
<h2>Per day</h2>
{svg_chart(fill_days(days.rows))}
<h2>Per space</h2>
{_table("by-space", spaces)}
<h2>Per unit</h2>
{_table("by-unit", units)}
<h2>Per partner</h2>
{_table("by-partner", partners)}
</body>
</html>
"""
