"""/metrics through the real app: where it answers, and that its numbers move with real requests.

Scrapes are parsed with prometheus-client's own text parser; each test compares a scrape
before and after what it does, since the counters belong to the process.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from syndicate.problems import LoadError
from syndicate.snapshot import build_snapshot
from syndicate.web.state import RELOADER, TRACKER
from syndicate.web.websub import PUBLISHER
from tests.conftest import SAMPLE_CONFIG, AppClient, SiteFactory, article
from tests.processes import serve_workers
from tests.test_websub import HubStub, start_hub
from tests.test_websub import site as websub_site
from tests.test_workers import free_port
from tests.tracking_support import CONFIG, PARTNER_KEY, SPACE_5, admin, serving, tracked_site, use_test_secrets

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
PARTNER = {"Authorization": f"Bearer {PARTNER_KEY}"}


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secrets(monkeypatch)


def parse(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def scrape(client: AppClient) -> Samples:
    response = await client.get("/admin/metrics", headers=admin())
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return parse(await response.text())


def with_metrics(settings: str, config: str = CONFIG) -> str:
    return config + settings


async def test_admin_metrics_need_the_token_and_the_public_port_has_none(make_site: SiteFactory) -> None:
    async with serving(tracked_site(make_site)) as client:
        assert (await client.get("/admin/metrics")).status == 401
        assert (await client.get("/admin/metrics", headers=admin("wrong-token-0123456789"))).status == 401
        assert (await client.get("/metrics")).status == 404
        assert (await client.get("/metrics", headers=admin())).status == 404
        assert "syndicate_variant_renders_total" in {name for name, _ in await scrape(client)}


async def test_cache_renders_and_fragments_move_with_requests(make_site: SiteFactory) -> None:
    async with serving(tracked_site(make_site)) as client:
        before = await scrape(client)
        for _ in range(3):
            assert (await client.get("/feeds/news.rss")).status == 200
        assert (await client.get("/")).status == 200
        after = await scrape(client)

    assert moved(before, after, "syndicate_variant_cache_lookups_total", result="miss") == 1
    assert moved(before, after, "syndicate_variant_cache_lookups_total", result="hit") == 2
    assert moved(before, after, "syndicate_variant_renders_total") == 1
    assert moved(before, after, "syndicate_fragment_writes_total", format="rss") == 3  # three articles, written once
    assert moved(before, after, "syndicate_page_renders_total") == 1


async def test_reloads_are_counted_by_outcome_with_their_duration(make_site: SiteFactory) -> None:
    config = tracked_site(make_site)
    async with serving(config) as client:
        before = await scrape(client)
        assert (await client.app[RELOADER].reload("admin")).accepted
        (config.parent / "adspaces/4.yaml").write_text("label: [broken\n", encoding="utf-8")
        assert not (await client.app[RELOADER].reload("SIGHUP")).accepted
        after = await scrape(client)
    assert moved(before, after, "syndicate_reloads_total", trigger="admin", outcome="accepted") == 1
    assert moved(before, after, "syndicate_reloads_total", trigger="SIGHUP", outcome="rejected") == 1
    assert moved(before, after, "syndicate_reload_duration_seconds_count") == 2
    assert moved(before, after, "syndicate_reload_duration_seconds_sum") > 0


async def test_429s_are_counted_by_audience(make_site: SiteFactory) -> None:
    limits = "http:\n  rate_limits: {public: {rate: 0.01, burst: 1}, partners: {rate: 0.01, burst: 1}}\n"
    config = tracked_site(
        make_site,
        config=CONFIG.replace(
            'http:\n  rate_limits: {public: {"off": true}, partners: {"off": true}}  # quoted: YAML 1.1 reads off as '
            "false\n",
            limits,
        ),
    )
    async with serving(config) as client:
        before = await scrape(client)
        statuses = [(await client.get("/feeds/news.json")).status for _ in range(3)]
        statuses += [(await client.get("/feeds/news.json", headers=PARTNER)).status for _ in range(2)]
        after = await scrape(client)
    assert statuses == [200, 429, 429, 200, 429]
    for audience, n in (("public", 2), ("partner-a", 1)):
        assert moved(before, after, "syndicate_rate_limited_total", audience=audience) == n


async def test_store_calls_errors_and_dropped_events(make_site: SiteFactory) -> None:
    spaces = 120  # one response places 120 distinct ads: more counters than a buffer of 100 holds
    config = make_site(
        {
            "feeds/news/_feed.yaml": "title: News\n",
            "feeds/news/a.md": article("A", body=" ".join(f"[bsa_pro_ad_space id={n}]" for n in range(spaces))),
            **{f"adspaces/{n}.yaml": SPACE_5 for n in range(spaces)},
        },
        config=CONFIG.replace("  dedupe_seconds: 0\n", "  dedupe_seconds: 0\n  buffer_limit: 100\n"),
    )
    async with serving(config) as client:
        before = await scrape(client)
        assert (await client.get("/feeds/news.json")).status == 200
        assert (await client.get("/admin/stats.json", headers=admin())).status == 200  # flushes first
        middle = await scrape(client)
        shutil.rmtree(config.parent / "data")
        (config.parent / "data").write_text("a file where the data folder was", encoding="utf-8")
        assert (await client.get("/feeds/news.json")).status == 200
        await client.app[TRACKER].flush()
        after = await scrape(client)
    assert moved(before, middle, "syndicate_tracker_dropped_events_total") == spaces + 1 - 100
    assert moved(before, middle, "syndicate_store_duration_seconds_count", operation="write") >= 1
    assert moved(before, middle, "syndicate_store_errors_total", operation="write") == 0
    assert moved(middle, after, "syndicate_store_errors_total", operation="write") >= 1


async def test_websub_pings_are_counted_by_outcome(make_site: SiteFactory) -> None:
    stub = HubStub(failures=1)
    hub = await start_hub(stub)
    try:
        config = websub_site(make_site, str(hub.make_url("/hub")))
        async with serving(config) as client:
            client.app[PUBLISHER].first_delay = 0.01
            before = await scrape(client)
            (config.parent / "feeds/news/a.md").write_text(article(title="First, corrected"), encoding="utf-8")
            assert (await client.app[RELOADER].reload("admin")).accepted
            await asyncio.wait_for(asyncio.gather(*client.app[PUBLISHER].tasks), timeout=10)
            after = await scrape(client)
    finally:
        await hub.close()
    assert moved(before, after, "syndicate_websub_pings_total", outcome="failed") == 1
    assert moved(before, after, "syndicate_websub_pings_total", outcome="delivered") == len(stub.pings) == 6


async def test_a_listener_of_its_own_and_none_on_the_public_port(make_site: SiteFactory) -> None:
    port = free_port()
    config = tracked_site(make_site, config=with_metrics(f"metrics: {{expose: port, port: {port}}}\n"))
    async with serving(config) as client:
        assert (await client.get("/feeds/news.rss")).status == 200
        assert (await client.get("/admin/metrics", headers=admin())).status == 404
        assert (await client.get("/metrics")).status == 404
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert response.status == 200
            samples = parse(await response.text())
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/feeds/news.rss") as r:
            assert r.status == 404  # only metrics there
    assert value(samples, "syndicate_variant_renders_total") >= 1
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session:
            await session.get(f"http://127.0.0.1:{port}/metrics")  # stopped with the app


async def test_off_means_nowhere(make_site: SiteFactory) -> None:
    async with serving(tracked_site(make_site, config=with_metrics('metrics: {expose: "off"}\n'))) as client:
        assert (await client.get("/admin/metrics", headers=admin())).status == 404
        assert (await client.get("/metrics")).status == 404


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("metrics: {expose: public}\n", "metrics.expose: expected one of admin, port, off"),
        ("metrics: {expose: port, port: 0}\n", "metrics.port"),
        ("metrics: {colour: red}\n", "metrics.colour: unknown field"),
    ],
)
def test_bad_metrics_settings_are_located(make_site: SiteFactory, settings: str, message: str) -> None:
    config = tracked_site(make_site, config=with_metrics(settings))
    with pytest.raises(LoadError) as caught:
        build_snapshot(config)
    shown = [p.format(config.parent) for p in caught.value.problems]
    assert any(line.startswith("config.yaml:") and message in line for line in shown), shown


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def test_workers_answer_with_the_sum_over_all_workers(tmp_path: Path) -> None:
    """Each scrape lands on some worker; every one answers with all workers' counts."""
    port, metrics_port = free_port(), free_port()
    site = tmp_path / "site"
    for name in ("feeds", "adspaces"):
        shutil.copytree(SAMPLE_CONFIG.parent / name, site / name)
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    # counting is under test, not the public rate limit: a burst of 40 on two workers' leases
    text = text.replace("public: {rate: 2, burst: 60}", "public: {rate: 1000, burst: 10000}")
    (site / "config.yaml").write_text(text + f"\nmetrics: {{expose: port, port: {metrics_port}}}\n", encoding="utf-8")
    log = (tmp_path / "serve.log").open("w")
    parent = serve_workers(site / "config.yaml", port, log)
    try:
        pids: set[str] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(pids) < 2:
            try:
                pids.add(get(f"http://127.0.0.1:{port}/healthz"))
                get(f"http://127.0.0.1:{metrics_port}/metrics")
            except OSError:
                time.sleep(0.2)
        assert len(pids) == 2, (tmp_path / "serve.log").read_text()
        requests = 40
        for _ in range(requests):
            get(f"http://127.0.0.1:{port}/feeds/world.rss")
        lookups = set()
        for _ in range(6):
            samples = parse(get(f"http://127.0.0.1:{metrics_port}/metrics"))
            lookups.add(
                value(samples, "syndicate_variant_cache_lookups_total", result="hit")
                + value(samples, "syndicate_variant_cache_lookups_total", result="miss")
            )
        assert lookups == {requests}, lookups  # the same total from whichever worker answered
        assert value(samples, "syndicate_variant_renders_total") in (1, 2)  # once per worker that was asked
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=30) == 0
    finally:
        if parent.poll() is None:
            parent.kill()
        log.close()
