"""What ``config.yaml`` says, as frozen dataclasses. Defaults live in ``settings.py``, not here."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from syndicate.partners import Audience
from syndicate.web.forwarded import Network

#: Stands in for a missing or faulty site.base_url while ``check`` reads on (such a config never serves).
UNSET_BASE_URL = "https://base-url.invalid"


@dataclass(frozen=True, slots=True)
class SiteConfig:
    title: str
    base_url: str  # the publisher's site: relative links in articles resolve against it
    language: str
    description: str
    tag_date: str  # the date part of tag: URIs (RFC 4151); never change it once feeds are out
    article_url: str  # template for an article's link when it has no canonical_url

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str
    port: int
    public_url: str  # where this server is reached: self links and tracking URLs use it
    public_url_given: bool = False  # written in config; else derived from host and port, so it follows them

    def listening_on(self, host: str | None, port: int | None) -> ServerConfig:
        """This config as ``serve --host/--port`` runs it: a derived public URL follows the address."""
        host = host or self.host
        port = self.port if port is None else port
        public_url = self.public_url if self.public_url_given else default_public_url(host, port)
        return ServerConfig(host, port, public_url, self.public_url_given)


def default_public_url(host: str, port: int) -> str:
    """``http://host:port``; an IPv6 address in brackets, and a wildcard address as the loopback one
    (``0.0.0.0`` is where to listen, not where to send a reader: set ``public_url`` for that)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@dataclass(frozen=True, slots=True)
class FeedDefaults:
    items_per_page: int
    max_page_size: int


@dataclass(frozen=True, slots=True)
class ShortcodeAlias:
    """Another plugin's ad shortcode mapped onto our ad spaces, e.g. ``[the_ad id=12]`` -> space 4."""

    tag: str
    attribute: str  # which attribute carries the other plugin's id
    spaces: dict[str, str] = field(hash=False)  # their id -> our space id
    default: str | None = None  # space for ids not in ``spaces``
    line: int = 0


class Rotation(StrEnum):
    """How an item's ads change over time (docs/ads.md, "Rotation")."""

    PER_ITEM = "per_item"  # drawn once, for the window the item was published in: its bytes never change
    WINDOW = "window"  # drawn again every rotation window: every ad-bearing item changes each window


@dataclass(frozen=True, slots=True)
class AdsConfig:
    rotation_seconds: int
    rotation: Rotation
    strip_tags: tuple[str, ...]  # other shortcodes to remove from content
    aliases: tuple[ShortcodeAlias, ...]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: ``rate`` tokens a second, up to ``burst``; a 200 costs 1, a 304 ``not_modified_cost``."""

    rate: float
    burst: float


@dataclass(frozen=True, slots=True)
class HttpConfig:
    max_age: int  # Cache-Control max-age of feed responses, seconds
    cache_bytes: int  # bound of the rendered-variant cache
    fragment_bytes: int  # bound of the per-item fragment cache
    public_limit: RateLimit | None  # per client address, anonymous requests
    partner_limit: RateLimit | None  # per partner, unless the partner sets its own
    partner_limits: dict[str, RateLimit] = field(hash=False)
    not_modified_cost: float  # tokens a 304 costs
    trust_forwarded: bool  # take the client address from X-Forwarded-For (behind a proxy only)
    trusted_proxies: tuple[Network, ...]  # hops skipped from the right of X-Forwarded-For
    hubs: tuple[str, ...]  # WebSub hubs to announce and ping
    log_ipv4_prefix: int  # bits of a client's IPv4 address any log keeps (0: none, 32: all)
    log_ipv6_prefix: int  # the same for IPv6 (0 to 128)


@dataclass(frozen=True, slots=True)
class TrackingConfig:
    """Counting served, rendered and clicked ads (docs/tracking.md). Signing keys never sit in config."""

    enabled: bool  # sign ad links (/c/, /i/) and count; off: direct links, nothing counted
    pixel: bool  # add a 1x1 impression pixel to each ad
    flush_seconds: float  # buffer -> store interval: the most a hard kill can lose
    buffer_limit: int  # distinct counters held between flushes; beyond, events are dropped (and counted)
    dedupe_seconds: float  # a click or pixel repeated by the same client within this counts once
    keys_file: Path | None  # "id:secret" lines, newest first, when $SYNDICATE_SIGNING_KEYS is unset


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Where shared state lives (docs/deploy.md). The URL with a password never sits in config."""

    url: str  # postgresql://user@host/db without a password; empty: SQLite in data_dir
    url_file: Path | None  # a file holding the full URL, when $SYNDICATE_DATABASE_URL(_FILE) is unset
    timeout_seconds: float  # connect and statement timeout: a slow database fails a flush, never hangs it


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """Where ``/metrics`` answers (docs/ops.md, "Metrics")."""

    expose: str  # admin: on the server's port behind the admin token; port: own listener, no token; off
    host: str  # the own listener's address (expose: port)
    port: int  # the own listener's port (expose: port)


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    root: Path  # the folder holding config.yaml; other paths are relative to it
    site: SiteConfig
    server: ServerConfig
    feeds_dir: Path
    adspaces_dir: Path
    data_dir: Path
    feed_defaults: FeedDefaults
    ads: AdsConfig
    public: Audience
    partners: tuple[Audience, ...]
    http: HttpConfig
    admin_token_file: Path | None  # the admin token's file; the token itself never sits in config
    tracking: TrackingConfig
    store: StoreConfig
    metrics: MetricsConfig
