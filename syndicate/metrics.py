"""What the server counts, as Prometheus metrics (docs/ops.md, "Metrics", lists them).

The metrics live in this module's own registry and are bumped where the event happens
(a cache lookup, a fragment write, a reload, a dropped event, a store call, a 429).
Under ``serve --workers N`` the supervisor sets ``PROMETHEUS_MULTIPROC_DIR`` before it
starts the workers, so each worker writes its values to a file there and a scrape of any
worker adds up all of them (prometheus-client's multiprocess mode): one port, one total.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REGISTRY = CollectorRegistry(auto_describe=True)

CACHE_LOOKUPS = Counter(
    "syndicate_variant_cache_lookups",
    "Feed responses looked up in the rendered-variant cache",
    ["result"],
    registry=REGISTRY,
)
RENDERS = Counter("syndicate_variant_renders", "Feed variants rendered (assembled from fragments)", registry=REGISTRY)
FRAGMENT_WRITES = Counter(
    "syndicate_fragment_writes", "Item fragments written by a format writer", ["format"], registry=REGISTRY
)
PAGE_RENDERS = Counter(
    "syndicate_page_renders", "HTML pages (/ and feed pages) rendered from templates", registry=REGISTRY
)
RELOADS = Counter(
    "syndicate_reloads",
    "Reloads by how they were asked for and whether they were accepted",
    ["trigger", "outcome"],
    registry=REGISTRY,
)
RELOAD_SECONDS = Histogram(
    "syndicate_reload_duration_seconds",
    "Time to build and check a candidate Snapshot",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
SCHEDULED_SWAPS = Counter(
    "syndicate_scheduled_publications", "Snapshots swapped in at a publication time", registry=REGISTRY
)
DROPPED_EVENTS = Counter(
    "syndicate_tracker_dropped_events", "Tracking events dropped because the buffer was full", registry=REGISTRY
)
STORE_SECONDS = Histogram(
    "syndicate_store_duration_seconds",
    "Tracking store calls, by operation",
    ["operation"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
    registry=REGISTRY,
)
STORE_ERRORS = Counter(
    "syndicate_store_errors", "Tracking store calls that failed, by operation", ["operation"], registry=REGISTRY
)
WEBSUB_PINGS = Counter(
    "syndicate_websub_pings",
    "WebSub publish ping attempts: delivered, failed (retried) or given_up (the last attempt failed)",
    ["outcome"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "syndicate_rate_limited",
    "Feed requests answered 429, by audience (public or a partner id)",
    ["audience"],
    registry=REGISTRY,
)

#: Reload triggers as labels: anything else is counted as "other", so labels stay few.
TRIGGERS = ("watch", "watch settled", "SIGHUP", "admin", "startup")


def count_reload(trigger: str, accepted: bool, seconds: float) -> None:
    RELOADS.labels(trigger if trigger in TRIGGERS else "other", "accepted" if accepted else "rejected").inc()
    RELOAD_SECONDS.observe(seconds)


@contextmanager
def store_call(operation: str) -> Iterator[None]:
    """Time one store call; a raised error is counted and raised again."""
    begun = time.perf_counter()
    try:
        yield
    except Exception:
        STORE_ERRORS.labels(operation).inc()
        raise
    finally:
        STORE_SECONDS.labels(operation).observe(time.perf_counter() - begun)


def exposition() -> tuple[bytes, str]:
    """The text a scrape gets, and its content type: every worker's values under ``--workers``."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
