"""config.yaml -> frozen dataclasses. Every fault names the file, line and field.

Settings are read in one place each, with their defaults, so that the sample
``config.yaml`` and docs/configuration.md can list them all.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from syndicate.fields import Fields
from syndicate.partners import PUBLIC_ID, Audience, read_audience, read_partner
from syndicate.problems import LoadError, ProblemList
from syndicate.urls import is_http_url
from syndicate.web.forwarded import DEFAULT_TRUSTED, Network, parse_networks
from syndicate.yamlfile import load_yaml

DEFAULT_CONFIG = Path("config.yaml")
YEAR_SECONDS = 366 * 24 * 3600
MAX_ROTATION_SECONDS = YEAR_SECONDS  # longer windows would only mean ads never rotate
MAX_CACHE_MB = 1024 * 1024
MAX_PAGE_SIZE = 100_000
#: Stands in for a missing or faulty site.base_url while ``check`` reads on (such a config never serves).
UNSET_BASE_URL = "https://base-url.invalid"
CONFIG_ENV = "SYNDICATE_CONFIG"


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
    strip_tags: tuple[str, ...]  # other shortcodes to remove from content
    aliases: tuple[ShortcodeAlias, ...]
    rotation: Rotation = Rotation.PER_ITEM


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
    not_modified_cost: float = 0.25
    trust_forwarded: bool = False  # take the client address from X-Forwarded-For (behind a proxy only)
    trusted_proxies: tuple[Network, ...] = ()  # hops skipped from the right of X-Forwarded-For
    hubs: tuple[str, ...] = ()  # WebSub hubs to announce and ping
    log_ipv4_prefix: int = 24  # bits of a client's IPv4 address any log keeps (0: none, 32: all)
    log_ipv6_prefix: int = 48  # the same for IPv6 (0 to 128)


@dataclass(frozen=True, slots=True)
class TrackingConfig:
    """Counting served, rendered and clicked ads (docs/tracking.md). Signing keys never sit in config."""

    enabled: bool = True  # sign ad links (/c/, /i/) and count; off: direct links, nothing counted
    pixel: bool = True  # add a 1x1 impression pixel to each ad
    flush_seconds: float = 1.0  # buffer -> store interval: the most a hard kill can lose
    buffer_limit: int = 100_000  # distinct counters held between flushes; beyond, events are dropped (and counted)
    dedupe_seconds: float = 30.0  # a click or pixel repeated by the same client within this counts once
    keys_file: Path | None = None  # "id:secret" lines, newest first, when $SYNDICATE_SIGNING_KEYS is unset


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Where shared state lives (docs/deploy.md). The URL with a password never sits in config."""

    url: str = ""  # postgresql://user@host/db without a password; empty: SQLite in data_dir
    url_file: Path | None = None  # a file holding the full URL, when $SYNDICATE_DATABASE_URL(_FILE) is unset
    timeout_seconds: float = 5.0  # connect and statement timeout: a slow database fails a flush, never hangs it


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """Where ``/metrics`` answers (docs/ops.md, "Metrics")."""

    expose: str = "admin"  # admin: on the server's port behind the admin token; port: own listener, no token; off
    host: str = "127.0.0.1"  # the own listener's address (expose: port)
    port: int = 9464  # the own listener's port (expose: port)


METRICS_EXPOSE = ("admin", "port", "off")


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
    admin_token_file: Path | None = None  # the admin token's file; the token itself never sits in config
    tracking: TrackingConfig = TrackingConfig()
    store: StoreConfig = StoreConfig()
    metrics: MetricsConfig = MetricsConfig()


def _read_site(f: Fields) -> SiteConfig:
    base_url = f.url("base_url", required=True).rstrip("/")
    tag_date = f.raw("tag_date")
    if isinstance(tag_date, dt.date):
        tag_date = tag_date.isoformat()
    if tag_date is None:
        tag_date = "2020-01-01"
    elif not isinstance(tag_date, str) or not _valid_tag_date(tag_date):
        f.error("tag_date", f"expected a date like 2020-09-01, 2020-09 or 2020, got {tag_date!r}")
        tag_date = "2020-01-01"
    site = SiteConfig(
        title=f.text("title", required=True),
        base_url=base_url or UNSET_BASE_URL,
        language=f.language("language", "en"),
        description=f.text("description", ""),
        tag_date=tag_date,
        article_url=_article_url(f, base_url or "https://example.com"),
    )
    f.finish()
    return site


def _article_url(f: Fields, base_url: str) -> str:
    """The link template, tried once here so that a typo in it is an error now, not in every article."""
    default = "{base_url}/{feed}/{slug}/"
    template = f.text("article_url", default)
    try:
        sample = template.format(base_url=base_url, feed="news", slug="an-article")
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        f.error("article_url", f"not a usable template ({type(exc).__name__}: {exc}); "
                               "it may name {base_url}, {feed} and {slug}")
        return default
    if not is_http_url(sample):
        f.error("article_url", f"must give an absolute http(s) URL, gives {sample!r}")
        return default
    return template


def _valid_tag_date(text: str) -> bool:
    for fmt in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            dt.datetime.strptime(text, fmt)
            return True
        except ValueError:
            continue
    return False


def _read_server(f: Fields | None) -> ServerConfig:
    if f is None:
        return ServerConfig("127.0.0.1", 8080, default_public_url("127.0.0.1", 8080))
    host = f.text("host", "127.0.0.1")
    port = f.integer("port", 8080, minimum=1, maximum=65535)
    public_url = f.url("public_url").rstrip("/")
    f.finish()
    return ServerConfig(host, port, public_url or default_public_url(host, port), bool(public_url))


def _read_ads(f: Fields | None) -> AdsConfig:
    if f is None:
        return AdsConfig(3600, (), ())
    rotation_seconds = f.integer("rotation_seconds", 3600, minimum=60, maximum=MAX_ROTATION_SECONDS)
    rotation = Rotation(f.choice("rotation", tuple(Rotation), Rotation.PER_ITEM))
    strip_tags = f.str_list("strip_tags")
    aliases: list[ShortcodeAlias] = []
    section = f.section("aliases")
    for tag in list(section.mapping) if section else []:
        assert section is not None
        sub = section.section(tag)
        if sub is None:
            continue
        spaces = sub.section("spaces")
        mapping = {key: spaces.text(key, required=True) for key in list(spaces.mapping)} if spaces else {}
        if spaces:
            spaces.finish()
        aliases.append(ShortcodeAlias(tag, sub.text("attribute", "id"), mapping, sub.text("default") or None,
                                      sub.anchor))
        sub.finish()
    if section:
        section.finish()
    f.finish()
    return AdsConfig(rotation_seconds, strip_tags, tuple(aliases), rotation)


def _read_limit(f: Fields | None, default: RateLimit | None) -> RateLimit | None:
    if f is None:
        return default
    # "enabled: false" turns a bucket off ("off": true too, quoted: YAML 1.1 reads a bare off as false).
    if not f.flag("enabled", True) or f.flag("off", False):
        f.finish()
        return None
    limit = RateLimit(f.number("rate", default.rate if default else 1.0, minimum=0.001, maximum=1e6),
                      f.number("burst", default.burst if default else 10.0, minimum=1.0, maximum=1e9))
    f.finish()
    return limit


def _read_http(f: Fields | None, partner_ids: list[str]) -> HttpConfig:
    public_default, partner_default = RateLimit(2.0, 60.0), RateLimit(10.0, 300.0)
    if f is None:
        return HttpConfig(300, 64 * 1024 * 1024, 128 * 1024 * 1024, public_default, partner_default, {})
    limits = f.section("rate_limits")
    public = _read_limit(limits.section("public") if limits else None, public_default)
    partner = _read_limit(limits.section("partners") if limits else None, partner_default)
    per_partner: dict[str, RateLimit] = {}
    named = limits.section("per_partner") if limits else None
    for partner_id in list(named.mapping) if named else []:
        assert named is not None
        limit = _read_limit(named.section(partner_id), partner)
        if partner_id not in partner_ids:
            named.error(partner_id, "no partner with this id")
        if limit is not None:
            per_partner[partner_id] = limit
    if named:
        named.finish()
    cost = limits.number("not_modified_cost", 0.25, minimum=0.0, maximum=1e6) if limits else 0.25
    if limits:
        limits.finish()
    hubs = f.str_list("websub_hubs")
    for hub in hubs:
        if not is_http_url(hub):
            f.error("websub_hubs", f"expected absolute http(s) URLs, got {hub!r}")
    config = HttpConfig(
        max_age=f.integer("max_age", 300, minimum=0, maximum=YEAR_SECONDS),
        cache_bytes=f.integer("cache_mb", 64, minimum=1, maximum=MAX_CACHE_MB) * 1024 * 1024,
        fragment_bytes=f.integer("fragment_cache_mb", 128, minimum=1, maximum=MAX_CACHE_MB) * 1024 * 1024,
        public_limit=public, partner_limit=partner, partner_limits=per_partner, not_modified_cost=cost,
        trust_forwarded=f.flag("trust_forwarded", False), trusted_proxies=_read_proxies(f), hubs=hubs,
        log_ipv4_prefix=f.integer("log_ipv4_prefix", 24, minimum=0, maximum=32),
        log_ipv6_prefix=f.integer("log_ipv6_prefix", 48, minimum=0, maximum=128),
    )
    f.finish()
    return config


def _read_proxies(f: Fields) -> tuple[Network, ...]:
    networks: list[Network] = []
    entries = f.str_list("trusted_proxies") if f.has("trusted_proxies") else DEFAULT_TRUSTED
    for entry in entries:
        try:
            networks.extend(parse_networks([entry]))
        except ValueError as exc:
            f.error("trusted_proxies", str(exc))
    return tuple(networks)


def _read_tracking(f: Fields | None, root: Path) -> TrackingConfig:
    if f is None:
        return TrackingConfig()
    keys_file = f.text("keys_file", "")
    tracking = TrackingConfig(
        enabled=f.flag("enabled", True), pixel=f.flag("pixel", True),
        flush_seconds=f.number("flush_seconds", 1.0, minimum=0.05, maximum=3600.0),
        buffer_limit=f.integer("buffer_limit", 100_000, minimum=100, maximum=100_000_000),
        dedupe_seconds=f.number("dedupe_seconds", 30.0, minimum=0.0, maximum=86400.0),
        keys_file=root / keys_file if keys_file else None,
    )
    f.finish()
    return tracking


def _read_store(f: Fields | None, root: Path) -> StoreConfig:
    if f is None:
        return StoreConfig()
    url = f.text("url", "")
    if url:
        try:
            parts = urlsplit(url)
            password = parts.password is not None or "password" in parse_qs(parts.query)
        except ValueError:  # e.g. an unclosed "[" around an IPv6 host
            parts, password = urlsplit(""), False
        if parts.scheme not in ("postgresql", "postgres"):
            f.error("url", "expected a postgresql:// URL")
            url = ""
        elif password:  # user:password@ or ?password= (libpq reads both)
            # config.yaml is committed: a password here would be in every clone
            f.error("url", "must not hold a password: put the whole URL in $SYNDICATE_DATABASE_URL or "
                           "store.url_file, or the password in ~/.pgpass or $PGPASSWORD")
            url = ""
    url_file = f.text("url_file", "")
    timeout = f.number("timeout_seconds", 5.0, minimum=0.1)
    store = StoreConfig(url, root / url_file if url_file else None, timeout)
    f.finish()
    return store


def _read_metrics(f: Fields | None) -> MetricsConfig:
    if f is None:
        return MetricsConfig()
    default = MetricsConfig()
    metrics = MetricsConfig(f.choice("expose", METRICS_EXPOSE, default.expose), f.text("host", default.host),
                            f.integer("port", default.port, minimum=1, maximum=65535))
    f.finish()
    return metrics


def _read_partners(top: Fields) -> tuple[Audience, ...]:
    partners: list[Audience] = []
    seen: set[str] = set()
    for f in top.sections("partners"):
        partner = read_partner(f)
        if partner is None:
            continue
        if partner.id in seen:
            f.error("id", f"duplicate partner id {partner.id!r}")
            continue
        seen.add(partner.id)
        partners.append(partner)
    digests = [d for p in partners for d in p.key_digests]
    if len(digests) != len(set(digests)):
        top.error("partners", "two partners share a key")
    return tuple(partners)


def load_config(path: Path) -> Config:
    """Read and check ``path``; raise ``LoadError`` listing every problem."""
    config, problems = read_config(path)
    if problems.errors:
        raise LoadError(problems)
    return config


def read_config(path: Path) -> tuple[Config, ProblemList]:
    """``path`` read as far as it goes, with its problems; a faulty setting gets its default, so that
    ``check`` can go on to every other file. Raises ``LoadError`` only when nothing can be read."""
    path = path.resolve()
    problems = ProblemList()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.error(path, 0, "config file not found")
        raise LoadError(problems) from None
    except (OSError, UnicodeDecodeError) as exc:
        problems.error(path, 0, f"cannot read config file: {exc}")
        raise LoadError(problems) from None
    data = load_yaml(text, path)
    top = Fields.of(data, path, problems, "", 1)
    if top is None:
        raise LoadError(problems)
    root = path.parent

    site_f = top.section("site", required=True)
    site = _read_site(site_f) if site_f else SiteConfig("", UNSET_BASE_URL, "en", "", "2020-01-01", "")
    server = _read_server(top.section("server"))

    paths = top.section("paths")
    feeds_dir = root / (paths.text("feeds", "feeds") if paths else "feeds")
    adspaces_dir = root / (paths.text("adspaces", "adspaces") if paths else "adspaces")
    data_dir = root / (paths.text("data", "data") if paths else "data")
    if paths:
        paths.finish()

    feeds_f = top.section("feeds")
    defaults = FeedDefaults(
        items_per_page=feeds_f.integer("items_per_page", 20, minimum=1, maximum=1000) if feeds_f else 20,
        max_page_size=feeds_f.integer("max_page_size", 1000, minimum=1, maximum=MAX_PAGE_SIZE) if feeds_f else 1000,
    )
    if feeds_f:
        feeds_f.finish()

    ads = _read_ads(top.section("ads"))
    public_f = top.section("public")
    public = read_audience(public_f, PUBLIC_ID, "Public") if public_f else Audience(PUBLIC_ID, "Public")
    if public_f:
        public_f.finish()
    partners = _read_partners(top)
    http = _read_http(top.section("http"), [p.id for p in partners])
    admin_f = top.section("admin")
    token_file = admin_f.text("token_file") if admin_f else ""
    if admin_f:
        admin_f.finish()
    tracking = _read_tracking(top.section("tracking"), root)
    store = _read_store(top.section("store"), root)
    metrics = _read_metrics(top.section("metrics"))

    top.finish()
    return Config(
        path=path,
        root=root,
        site=site,
        server=server,
        feeds_dir=feeds_dir,
        adspaces_dir=adspaces_dir,
        data_dir=data_dir,
        feed_defaults=defaults,
        ads=ads,
        public=public,
        partners=partners,
        http=http,
        admin_token_file=root / token_file if token_file else None,
        tracking=tracking,
        store=store,
        metrics=metrics,
    ), problems


def config_path(cli_value: str | None) -> Path:
    """The config file to use: the CLI flag, else $SYNDICATE_CONFIG, else ./config.yaml."""
    if cli_value:
        return Path(cli_value)
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else DEFAULT_CONFIG
