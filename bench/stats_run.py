"""A scripted mix of readers, bots and partners against the sample site, checked against docs/tracking.md.

Starts ``syndicate serve`` on a copy of the bundled site (real process, real socket, its own data folder,
rate limits off so the mix is not throttled), then makes N feed requests, M clicks and K pixel loads:
browsers, feed readers, an image proxy, crawlers and HTTP libraries without a key, and partner-a's and
partner-b's servers with their keys (WordPress and Go agents), plus 304s, HEADs and replays. The script
works out every figure itself from what it was sent, following the written method (every placement a
200 GET carried is one ``served``, each such response one ``fetch``, a keyed pull is class ``partner``,
a click or pixel repeated by the same client and agent within ``dedupe_seconds`` counts once), and
compares it with ``/admin/stats.json``. Exit status 1 on any mismatch.

    python bench/stats_run.py [--fetches 240] [--clicks 120] [--pixels 160] [--port 8163]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(REPO), str(BENCH)]

from servers import Processes, wait_healthy  # noqa: E402

from syndicate.tracking.keys import parse_keys  # noqa: E402
from syndicate.tracking.tokens import BadToken  # noqa: E402

SIGNING_KEYS = "bench1:stats-run-signing-secret-0123456789"
ADMIN_TOKEN = "stats-run-admin-token-0123456789"
KEYS = {"partner-a": "partner-a-demo-key", "partner-b": "partner-b-demo-key"}
#: Who asks, with the class the written method gives them (the script's own table, not the server's).
READERS = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36": "browser",
    "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 12 subscribers)": "feed",
    "NetNewsWire (RSS Reader; https://netnewswire.com/)": "feed",
    "": "other",
}
BOTS = {
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": "bot",
    "python-requests/2.31.0": "bot",
}
PROXY = {"Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)": "proxy"}
PARTNER_AGENTS = ("WordPress/6.4.2; https://partner-a.example", "Go-http-client/1.1", "python-requests/2.31.0")
FEEDS = (
    "/feeds/all.json",
    "/feeds/all.rss",
    "/feeds/all.atom",
    "/feeds/world.rss",
    "/feeds/business.json",
    "/feeds/world.atom",
)
HEADLINE = ("partner", "browser", "feed", "other")
COLUMN = {"served": "served", "fetch": "fetches", "rendered": "rendered", "click": "clicks"}
CLICK = re.compile(r"/c/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")
PIXEL = re.compile(r"/i/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\.gif")
DEDUPE_SECONDS = 30  # the sample's tracking.dedupe_seconds; the whole run takes far less


def site_copy(work: Path, port: int) -> Path:
    """The bundled site with its own data folder, its port, and rate limits off."""
    for name in ("feeds", "adspaces"):
        shutil.copytree(REPO / name, work / name)
    text = (REPO / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("  port: 8080\n", f"  port: {port}\n")
    text = text.replace("    public: {rate: 2, burst: 60}      # per client address\n", '    public: {"off": true}\n')
    text = text.replace("    partners: {rate: 10, burst: 300}  # per partner key\n", '    partners: {"off": true}\n')
    assert '"off": true' in text, "the sample config's rate limits moved: update stats_run.py"
    (work / "config.yaml").write_text(text, encoding="utf-8")
    return work / "config.yaml"


class Expected:
    """Every figure as the written method gives it, from what the script sent and received."""

    def __init__(self) -> None:
        self.keys = parse_keys(SIGNING_KEYS, "stats_run")
        self.counts: Counter[tuple[str, str, str, str, str]] = Counter()  # (kind, space, unit, partner, class)
        self.seen: set[tuple[str, str, str]] = set()  # (kind, token, agent): the replay filter's key
        self.tokens: list[str] = []
        self.requests: Counter[str] = Counter()

    def response(self, status: int, method: str, body: str, audience: str, agent_class: str) -> None:
        self.requests[f"{method} {status}"] += 1
        if status != 200 or method != "GET":
            return  # rule 3: no HEAD, no 304, no error
        # One pixel per placement (the sample has tracking.pixel on); an image ad also repeats its click link
        # as a worded link, so click links are not the placement count.
        placements, clicks = PIXEL.findall(body), set(CLICK.findall(body))
        assert set(placements) == clicks, "every placement's pixel and click carry the same token"
        for token in placements:
            claim = self.keys.verify(token)
            assert claim.partner == audience
            self.counts["served", claim.space, claim.unit, claim.partner, agent_class] += 1  # rule 1
        if placements:
            self.counts["fetch", "", "", audience, agent_class] += 1  # rule 2
        self.tokens += placements

    def event(self, kind: str, token: str, agent: str, agent_class: str, status: int) -> None:
        self.requests[f"{kind} {status}"] += 1
        try:
            claim = self.keys.verify(token)
        except BadToken:
            return  # rules 4, 5: only tokens that verify
        if (kind, token, agent) in self.seen:
            return  # rule 6: a replay within dedupe_seconds
        self.seen.add((kind, token, agent))
        self.counts[kind, claim.space, claim.unit, claim.partner, agent_class] += 1

    def figures(self, key_of: int | None) -> dict[str, dict[str, int]]:
        """Columns per row key: ``key_of`` picks the key (3: partner, None: totals; (space, unit) otherwise)."""
        rows: dict[str, dict[str, int]] = {}
        for (kind, space, unit, partner, agent_class), n in self.counts.items():
            if key_of is None:
                key = "total"
            elif key_of == 3:
                key = partner
            else:
                if kind == "fetch":
                    continue
                key = f"{space}/{unit}"
            prefix = "" if agent_class in HEADLINE else f"{agent_class}_"
            row = rows.setdefault(key, Counter())
            row[prefix + COLUMN[kind]] += n
        return rows


async def run(args: argparse.Namespace, base: str) -> Expected:
    rng = random.Random(args.seed)
    expected = Expected()
    anonymous = {**READERS, **BOTS}
    async with aiohttp.ClientSession(base, auto_decompress=True) as session:
        etags: dict[tuple[str, str], str] = {}
        for i in range(args.fetches):
            path = rng.choice(FEEDS)
            roll = rng.random()
            headers: dict[str, str] = {}
            if roll < 0.30:  # a partner's server, with its key
                partner = "partner-a" if rng.random() < 0.8 else "partner-b"
                agent, audience, agent_class = rng.choice(PARTNER_AGENTS), partner, "partner"
                if partner == "partner-b":
                    path = path.rsplit(".", 1)[0] + rng.choice((".json", ".atom"))  # its allowed formats
                headers["Authorization"] = f"Bearer {KEYS[partner]}"
            else:
                agent = rng.choice(list(anonymous))
                audience, agent_class = "public", anonymous[agent]
            headers["User-Agent"] = agent
            method = "HEAD" if i % 23 == 0 else "GET"
            if i % 11 == 0 and (path, audience) in etags:
                headers["If-None-Match"] = etags[path, audience]  # a conditional GET: 304
            async with session.request(method, path, headers=headers) as response:
                body = await response.text() if method == "GET" else ""
                if response.status == 200 and "ETag" in response.headers:
                    etags[path, audience] = response.headers["ETag"]
                expected.response(response.status, method, body, audience, agent_class)
        tokens = sorted(set(expected.tokens))
        people = {**READERS, **BOTS}
        for kind, path_of, count, agents in (
            ("click", lambda t: f"/c/{t}", args.clicks, people),
            ("rendered", lambda t: f"/i/{t}.gif", args.pixels, {**people, **PROXY}),
        ):
            for i in range(count):
                token = rng.choice(tokens[: max(1, len(tokens) // 3)]) if i % 4 == 0 else rng.choice(tokens)
                agent = rng.choice(list(agents))
                if i % 17 == 0:
                    token = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")  # tampered: a 400, not counted
                async with session.get(
                    path_of(token), headers={"User-Agent": agent}, allow_redirects=False
                ) as response:
                    expected.event(kind, token, agent, agents[agent], response.status)
    return expected


Report = dict[str, Any]  # /admin/stats.json


async def stored(base: str) -> dict[str, Report]:
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    out: dict[str, Report] = {}
    async with aiohttp.ClientSession(base, headers=auth) as session:
        for by in ("partner", "unit"):
            async with session.get(f"/admin/stats.json?by={by}") as response:
                data = await response.json()
            out[by] = data
    return out


def compare(expected: Expected, got: dict[str, Report]) -> bool:
    ok = True
    columns = (
        "served",
        "fetches",
        "rendered",
        "clicks",
        "bot_served",
        "bot_fetches",
        "bot_rendered",
        "bot_clicks",
        "proxy_rendered",
        "proxy_clicks",
    )
    views: list[tuple[str, int, Callable[[Report], str]]] = [
        ("partner", 3, lambda row: str(row["partner"])),
        ("unit", 0, lambda row: f"{row['space']}/{row['unit']}"),
    ]
    for by, key_of, key in views:
        rows = {key(row): row for row in got[by]["rows"]}
        want = expected.figures(key_of)
        names = [c for c in columns if not (by == "unit" and c.endswith("fetches"))]
        print(f"\nby {by}: expected (from the method) / stored (from /admin/stats.json)")
        print(f"{'':30}" + "".join(f"{c:>15}" for c in names))
        for row_key in sorted(set(rows) | set(want)):
            cells = []
            for column in names:
                w, g = want.get(row_key, {}).get(column, 0), rows.get(row_key, {}).get(column, 0)
                ok &= w == g
                cells.append(f"{w}/{g}" + ("" if w == g else " ✗"))
            print(f"{row_key:30}" + "".join(f"{c:>15}" for c in cells))
        totals = got[by]["totals"]
        want_total = expected.figures(None).get("total", {})
        for column in ("served", "fetches", "rendered", "clicks", "bot_served", "proxy_rendered"):
            ok &= want_total.get(column, 0) == totals[column]
        print(
            f"{'total':30}"
            + "".join(f"{str(want_total.get(c, 0)) + '/' + str(totals.get(c, 0)):>15}" for c in names if c in totals)
        )
    ctr = got["partner"]["totals"]["ctr"]
    total = expected.figures(None)["total"]
    want_ctr = round(total["clicks"] / total["served"], 6) if total["served"] else None
    print(f"\nCTR (headline clicks / headline served): expected {want_ctr}, stored {ctr}")
    return ok and ctr == want_ctr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fetches", type=int, default=240)
    parser.add_argument("--clicks", type=int, default=120)
    parser.add_argument("--pixels", type=int, default=160)
    parser.add_argument("--port", type=int, default=8163)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="syndicate-stats-run-"))
    try:
        config = site_copy(work, args.port)
        env = {"SYNDICATE_SIGNING_KEYS": SIGNING_KEYS, "SYNDICATE_ADMIN_TOKEN": ADMIN_TOKEN}
        with Processes() as processes:
            server = processes.start(
                "syndicate",
                [sys.executable, "-m", "syndicate", "serve", "--config", str(config), "--port", str(args.port)],
                args.port,
                work / "server.log",
                REPO,
                env,
            )
            wait_healthy(server, timeout=60)
            base = server.url("")
            expected = asyncio.run(run(args, base))
            got = asyncio.run(stored(base))
        print(f"requests made: {dict(sorted(expected.requests.items()))}")
        ok = compare(expected, got)
        print("\nevery figure is what the method says" if ok else "\nMISMATCH: see the ✗ cells above")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
