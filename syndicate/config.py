"""config.yaml -> frozen dataclasses (``configmodel.py``). Every fault names the file, line and field.

Each setting is declared once, in ``settings.py``, with its default and bounds: the plain
ones are read from there; the ones with a shape of their own (ad aliases, rate-limit
buckets, proxies, partners) are read here. A missing section reads as an empty one.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from syndicate.configmodel import (
    UNSET_BASE_URL,
    AdsConfig,
    Config,
    FeedDefaults,
    HttpConfig,
    MetricsConfig,
    RateLimit,
    Rotation,
    ServerConfig,
    ShortcodeAlias,
    SiteConfig,
    StoreConfig,
    TrackingConfig,
    default_public_url,
)
from syndicate.fields import Fields
from syndicate.partners import PUBLIC_ID, Audience, read_audience, read_partner
from syndicate.problems import LoadError, ProblemList
from syndicate.settings import BURST_BOUNDS, RATE_BOUNDS, read_plain, setting
from syndicate.urls import POSTGRES_SCHEMES, is_http_url
from syndicate.web.forwarded import Network, parse_networks
from syndicate.yamlfile import load_yaml

__all__ = [
    "UNSET_BASE_URL",
    "AdsConfig",
    "Config",
    "FeedDefaults",
    "HttpConfig",
    "MetricsConfig",
    "RateLimit",
    "Rotation",
    "ServerConfig",
    "ShortcodeAlias",
    "SiteConfig",
    "StoreConfig",
    "TrackingConfig",
    "config_path",
    "default_public_url",
    "load_config",
    "read_config",
]

DEFAULT_CONFIG = Path("config.yaml")
CONFIG_ENV = "SYNDICATE_CONFIG"


def _read_site(f: Fields, root: Path) -> SiteConfig:
    plain = read_plain(f, root)
    base_url = plain.pop("base_url").rstrip("/")
    plain["article_url"] = _article_url(f, plain["article_url"], base_url or "https://example.com")
    site = SiteConfig(base_url=base_url or UNSET_BASE_URL, tag_date=_tag_date(f), **plain)
    f.finish()
    return site


def _tag_date(f: Fields) -> str:
    default = setting("site.tag_date").default
    tag_date = f.raw("tag_date")
    if isinstance(tag_date, dt.date):
        tag_date = tag_date.isoformat()
    if tag_date is None:
        return str(default)
    if not isinstance(tag_date, str) or not _valid_tag_date(tag_date):
        f.error("tag_date", f"expected a date like 2020-09-01, 2020-09 or 2020, got {tag_date!r}")
        return str(default)
    return tag_date


def _article_url(f: Fields, template: str, base_url: str) -> str:
    """The link template, tried once here so that a typo in it is an error now, not in every article."""
    default: str = setting("site.article_url").default
    try:
        sample = template.format(base_url=base_url, feed="news", slug="an-article")
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        f.error(
            "article_url",
            f"not a usable template ({type(exc).__name__}: {exc}); it may name {{base_url}}, {{feed}} and {{slug}}",
        )
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


def _read_server(f: Fields, root: Path) -> ServerConfig:
    plain = read_plain(f, root)
    public_url = plain["public_url"].rstrip("/")
    f.finish()
    host, port = plain["host"], plain["port"]
    return ServerConfig(host, port, public_url or default_public_url(host, port), bool(public_url))


def _read_ads(f: Fields, root: Path) -> AdsConfig:
    plain = read_plain(f, root)
    aliases: list[ShortcodeAlias] = []
    section = f.section("aliases")
    for tag in list(section.mapping):
        sub = section.section(tag)
        if not sub.written:
            continue
        spaces = sub.section("spaces")
        mapping = {key: spaces.text(key, required=True) for key in list(spaces.mapping)}
        spaces.finish()
        aliases.append(
            ShortcodeAlias(tag, sub.text("attribute", "id"), mapping, sub.text("default") or None, sub.anchor)
        )
        sub.finish()
    section.finish()
    f.finish()
    return AdsConfig(aliases=tuple(aliases), **plain)


def _read_limit(f: Fields, default: RateLimit | None) -> RateLimit | None:
    if not f.written:
        return default
    # "enabled: false" turns a bucket off ("off": true too, quoted: YAML 1.1 reads a bare off as false).
    if not f.flag("enabled", True) or f.flag("off", False):
        f.finish()
        return None
    limit = RateLimit(
        f.number("rate", default.rate if default else 1.0, *RATE_BOUNDS),
        f.number("burst", default.burst if default else 10.0, *BURST_BOUNDS),
    )
    f.finish()
    return limit


def _read_rate_limits(f: Fields, partner_ids: list[str]) -> dict[str, Any]:
    public = _read_limit(f.section("public"), setting("http.rate_limits.public").default)
    partner = _read_limit(f.section("partners"), setting("http.rate_limits.partners").default)
    per_partner: dict[str, RateLimit] = {}
    named = f.section("per_partner")
    for partner_id in list(named.mapping):
        limit = _read_limit(named.section(partner_id), partner)
        if partner_id not in partner_ids:
            named.error(partner_id, "no partner with this id")
        if limit is not None:
            per_partner[partner_id] = limit
    named.finish()
    plain = read_plain(f, Path())
    f.finish()
    return {"public_limit": public, "partner_limit": partner, "partner_limits": per_partner, **plain}


def _read_http(f: Fields, root: Path, partner_ids: list[str]) -> HttpConfig:
    limits = _read_rate_limits(f.section("rate_limits"), partner_ids)
    plain = read_plain(f, root)
    for hub in plain["hubs"]:
        if not is_http_url(hub):
            f.error("websub_hubs", f"expected absolute http(s) URLs, got {hub!r}")
    config = HttpConfig(trusted_proxies=_read_proxies(f), **limits, **plain)
    f.finish()
    return config


def _read_proxies(f: Fields) -> tuple[Network, ...]:
    networks: list[Network] = []
    entries = f.str_list("trusted_proxies") if f.has("trusted_proxies") else setting("http.trusted_proxies").default
    for entry in entries:
        try:
            networks.extend(parse_networks([entry]))
        except ValueError as exc:
            f.error("trusted_proxies", str(exc))
    return tuple(networks)


def _read_store(f: Fields, root: Path) -> StoreConfig:
    plain = read_plain(f, root)
    url = plain["url"]
    if url:
        try:
            parts = urlsplit(url)
            password = parts.password is not None or "password" in parse_qs(parts.query)
        except ValueError:  # e.g. an unclosed "[" around an IPv6 host
            parts, password = urlsplit(""), False
        if parts.scheme not in POSTGRES_SCHEMES:
            f.error("url", "expected a postgresql:// URL")
            plain["url"] = ""
        elif password:  # user:password@ or ?password= (libpq reads both)
            # config.yaml is committed: a password here would be in every clone
            f.error(
                "url",
                "must not hold a password: put the whole URL in $SYNDICATE_DATABASE_URL or "
                "store.url_file, or the password in ~/.pgpass or $PGPASSWORD",
            )
            plain["url"] = ""
    f.finish()
    return StoreConfig(**plain)


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


def _read_section(top: Fields, name: str, root: Path) -> dict[str, Any]:
    """A section with nothing but plain settings, by field."""
    section = top.section(name)
    plain = read_plain(section, root)
    section.finish()
    return plain


def load_config(path: Path) -> Config:
    """Read and check ``path``; raise ``LoadError`` listing every problem."""
    config, problems = read_config(path)
    if problems.errors:
        raise LoadError(problems)
    return config


def _read_text(path: Path, problems: ProblemList) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.error(path, 0, "config file not found")
        raise LoadError(problems) from None
    except (OSError, UnicodeDecodeError) as exc:
        problems.error(path, 0, f"cannot read config file: {exc}")
        raise LoadError(problems) from None


def read_config(path: Path) -> tuple[Config, ProblemList]:
    """``path`` read as far as it goes, with its problems; a faulty setting gets its default, so that
    ``check`` can go on to every other file. Raises ``LoadError`` only when nothing can be read."""
    path = path.resolve()
    problems = ProblemList()
    data = load_yaml(_read_text(path, problems), path)
    top = Fields.of(data, path, problems, "", 1)
    if top is None:
        raise LoadError(problems)
    root = path.parent

    site = _read_site(top.section("site", required=True), root)
    server = _read_server(top.section("server"), root)
    paths = _read_section(top, "paths", root)
    defaults = FeedDefaults(**_read_section(top, "feeds", root))
    ads = _read_ads(top.section("ads"), root)
    public_f = top.section("public")
    public = read_audience(public_f, PUBLIC_ID, "Public")
    public_f.finish()
    partners = _read_partners(top)
    http = _read_http(top.section("http"), root, [p.id for p in partners])
    admin = _read_section(top, "admin", root)
    tracking = TrackingConfig(**_read_section(top, "tracking", root))
    store = _read_store(top.section("store"), root)
    metrics = MetricsConfig(**_read_section(top, "metrics", root))

    top.finish()
    return Config(
        path=path,
        root=root,
        site=site,
        server=server,
        feed_defaults=defaults,
        ads=ads,
        public=public,
        partners=partners,
        http=http,
        tracking=tracking,
        store=store,
        metrics=metrics,
        **paths,
        **admin,
    ), problems


def config_path(cli_value: str | None) -> Path:
    """The config file to use: the CLI flag, else $SYNDICATE_CONFIG, else ./config.yaml."""
    if cli_value:
        return Path(cli_value)
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else DEFAULT_CONFIG
