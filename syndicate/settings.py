"""Every config.yaml setting, declared once: its key, type, default, bounds and meaning.

The reader (``config.py``), ``syndicate config`` (``configdump.py``) and the table in
docs/configuration.md (``syndicate config --reference``) all come from ``SETTINGS``;
tests check that every field of ``Config`` is declared here and that the docs match.
Settings of kind ``custom`` have a shape of their own and are read by their own code
in ``config.py``; the rest are read here, each by the ``Fields`` method of its kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from syndicate.configmodel import RateLimit, Rotation
from syndicate.fields import MAX_NUMBER, Fields
from syndicate.web.forwarded import DEFAULT_TRUSTED

YEAR_SECONDS = 366 * 24 * 3600
MAX_ROTATION_SECONDS = YEAR_SECONDS  # longer windows would only mean ads never rotate
MAX_CACHE_MB = 1024 * 1024
MAX_PAGE_SIZE = 100_000
MIB = 1024 * 1024
PUBLIC_LIMIT = RateLimit(2.0, 60.0)
PARTNER_LIMIT = RateLimit(10.0, 300.0)
METRICS_EXPOSE = ("admin", "port", "off")
#: A token bucket's own keys: ``rate`` and ``burst`` bounds, ``enabled: false`` (or ``off: true``) to turn it off.
RATE_BOUNDS, BURST_BOUNDS = (0.001, 1e6), (1.0, 1e9)


class Kind(StrEnum):
    TEXT = "text"
    URL = "URL"
    LANGUAGE = "language tag"
    INTEGER = "whole number"
    NUMBER = "number"
    FLAG = "true or false"
    CHOICE = "one of"
    TEXTS = "list of texts"
    PATH = "path"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class Setting:
    key: str  # as written in config.yaml, dotted
    kind: Kind
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    attr: str = ""  # where the value sits in ``Config``, dotted; default: the key
    unit: int = 1  # the value is kept multiplied by this (megabytes as bytes)
    convert: Callable[[Any], Any] | None = None  # applied to what was read (a choice to its enum)
    shown: str = ""  # the default as the docs show it, when it is derived or not a plain value
    shape: str = ""  # the type as the docs show it, for a custom setting

    @property
    def section(self) -> str:
        return self.key.rpartition(".")[0]

    @property
    def name(self) -> str:
        return self.key.rpartition(".")[2]

    @property
    def path(self) -> str:
        return self.attr or self.key

    @property
    def field(self) -> str:
        """The dataclass field the value goes to."""
        return self.path.rpartition(".")[2]

    def read(self, f: Fields, root: Path) -> Any:
        """This setting from ``f``, the section it is written in, as ``Config`` keeps it."""
        value = self._read(f, root)
        return self.convert(value) if self.convert is not None else value

    def _read(self, f: Fields, root: Path) -> Any:
        low, high = self.minimum, self.maximum
        if self.kind is Kind.TEXT:
            return f.text(self.name, self.default, self.required)
        if self.kind is Kind.URL:
            return f.url(self.name, required=self.required, default=self.default)
        if self.kind is Kind.LANGUAGE:
            return f.language(self.name, self.default)
        if self.kind is Kind.INTEGER:
            return self.unit * f.integer(
                self.name,
                self.default,
                self.required,
                None if low is None else int(low),
                None if high is None else int(high),
            )
        if self.kind is Kind.NUMBER:
            return f.number(self.name, self.default, low, MAX_NUMBER if high is None else high)
        if self.kind is Kind.FLAG:
            return f.flag(self.name, self.default)
        if self.kind is Kind.CHOICE:
            return f.choice(self.name, self.choices, self.default)
        if self.kind is Kind.TEXTS:
            return f.str_list(self.name)
        if self.kind is Kind.PATH:
            text = f.text(self.name, self.default)
            return root / text if text or self.default else None
        raise TypeError(f"{self.key} is read by its own code")

    def type_text(self) -> str:
        """The type as the docs show it: ``whole number, 1 to 65535``."""
        if self.kind is Kind.CUSTOM:
            return self.shape
        if self.kind is Kind.CHOICE:
            return "one of " + ", ".join(f"`{c}`" for c in self.choices)
        if self.minimum is None and self.maximum is None:
            return str(self.kind)
        low, high = (_number(v) for v in (self.minimum, self.maximum))
        if self.maximum is None:
            return f"{self.kind}, at least {low}"
        if self.minimum is None:
            return f"{self.kind}, at most {high}"
        return f"{self.kind}, {low} to {high}"

    def default_text(self) -> str:
        if self.shown:
            return self.shown
        if self.required:
            return "required"
        value = self.default
        if self.kind is Kind.PATH and not value:
            return "none"
        if isinstance(value, bool):
            return f"`{str(value).lower()}`"
        if isinstance(value, tuple):
            return "`[" + ", ".join(value) + "]`"
        if value == "":
            return '`""`'
        return f"`{_number(value) if isinstance(value, int | float) else value}`"


def _number(value: float | None) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    return "" if value is None else str(value)


def _s(key: str, kind: Kind, default: Any, help: str, **more: Any) -> Setting:
    return Setting(key, kind, default, help, **more)


T, URL, LANG, INT, NUM, FLAG, ONE, TEXTS, PATH, CUSTOM = (
    Kind.TEXT,
    Kind.URL,
    Kind.LANGUAGE,
    Kind.INTEGER,
    Kind.NUMBER,
    Kind.FLAG,
    Kind.CHOICE,
    Kind.TEXTS,
    Kind.PATH,
    Kind.CUSTOM,
)
_BUCKET = (
    f"`{{rate, burst}}` (rate {_number(RATE_BOUNDS[0])} to {_number(RATE_BOUNDS[1])} a second, burst "
    f"{_number(BURST_BOUNDS[0])} to {_number(BURST_BOUNDS[1])}) or `{{enabled: false}}`"
)

SETTINGS: tuple[Setting, ...] = (
    _s("site.title", T, "", "the site's name; title of the `all` feed", required=True),
    _s("site.base_url", URL, "", "the publisher's site; relative links in articles resolve against it", required=True),
    _s("site.language", LANG, "en", "default language of feeds"),
    _s("site.description", T, "", "description of the `all` feed"),
    _s(
        "site.tag_date",
        CUSTOM,
        "2020-01-01",
        "date part of tag: URI ids; never change it once feeds are published",
        shape="date: `2020-09-01`, `2020-09` or `2020`",
    ),
    _s(
        "site.article_url",
        T,
        "{base_url}/{feed}/{slug}/",
        "an article's link when it has no `canonical_url`; may name `{base_url}`, `{feed}`, `{slug}` and must "
        "give an http(s) URL",
    ),
    _s("server.host", T, "127.0.0.1", "listen address"),
    _s(
        "server.port",
        INT,
        8080,
        "listen port (also `serve --port`; 0 is refused: the links would name a port nobody knows)",
        minimum=1,
        maximum=65535,
    ),
    _s(
        "server.public_url",
        URL,
        "",
        "where readers reach this server: self links, the index, OPML and signed ad "
        "links use it. Unset, it follows `serve --host/--port` (a wildcard host such as `0.0.0.0` gives the "
        "loopback address, with a warning: set it for readers on other machines)",
        shown="`http://host:port`",
    ),
    _s("paths.feeds", PATH, "feeds", "folder of feed folders", attr="feeds_dir"),
    _s("paths.adspaces", PATH, "adspaces", "folder of ad space files", attr="adspaces_dir"),
    _s("paths.data", PATH, "data", "folder for the event store", attr="data_dir"),
    _s(
        "feeds.items_per_page",
        INT,
        20,
        "items per page for feeds whose `_feed.yaml` does not say",
        minimum=1,
        maximum=1000,
        attr="feed_defaults.items_per_page",
    ),
    _s(
        "feeds.max_page_size",
        INT,
        1000,
        "upper bound for any feed's `items_per_page`",
        minimum=1,
        maximum=MAX_PAGE_SIZE,
        attr="feed_defaults.max_page_size",
    ),
    _s(
        "ads.rotation_seconds",
        INT,
        3600,
        "length of an ad rotation window (at most 366 days); output is byte-identical within one",
        minimum=60,
        maximum=MAX_ROTATION_SECONDS,
    ),
    _s(
        "ads.rotation",
        ONE,
        Rotation.PER_ITEM,
        "`per_item`: an item keeps the ads drawn in its publication "
        'window, so its bytes never change; `window`: ads are drawn again every window (docs/ads.md, "Rotation")',
        choices=tuple(Rotation),
        convert=Rotation,
    ),
    _s("ads.strip_tags", TEXTS, (), "other shortcodes to remove from content"),
    _s(
        "ads.aliases",
        CUSTOM,
        None,
        "another plugin's shortcode mapped onto spaces: under its tag, `attribute` "
        "(default `id`), `spaces` (their id → ours), `default`",
        shape="mapping of tag to alias",
        shown="none",
    ),
    _s(
        "public",
        CUSTOM,
        None,
        "the profile of anonymous readers: `ads`, `allow_html`, `feeds`, `formats`, `query`, `overrides`",
        shape="audience",
        shown="`ads: resolve`",
    ),
    _s(
        "partners",
        CUSTOM,
        None,
        "`id`, `name`, `keys` (plain, or `sha256:<hex>`), and the same settings as "
        "`public`; an error about `keys` names the field and the kind of value, never the value",
        shape="list of audiences",
        shown="none",
    ),
    _s("http.max_age", INT, 300, "Cache-Control max-age of feeds, seconds", minimum=0, maximum=YEAR_SECONDS),
    _s(
        "http.cache_mb",
        INT,
        64,
        "bound of the rendered-variant cache, per worker",
        minimum=1,
        maximum=MAX_CACHE_MB,
        attr="http.cache_bytes",
        unit=MIB,
    ),
    _s(
        "http.fragment_cache_mb",
        INT,
        128,
        "bound of the per-item fragment cache, and of the resolved ad slots kept beside it, each, per worker",
        minimum=1,
        maximum=MAX_CACHE_MB,
        attr="http.fragment_bytes",
        unit=MIB,
    ),
    _s(
        "http.trust_forwarded",
        FLAG,
        False,
        "behind a proxy: take the client address from `X-Forwarded-For`, as "
        "the rightmost address that is not a trusted proxy (a request from a peer that is not one keeps the "
        "peer's address)",
    ),
    _s(
        "http.trusted_proxies",
        CUSTOM,
        DEFAULT_TRUSTED,
        "addresses or CIDR blocks of the proxies in front; only their hops are skipped",
        shape="list of addresses or CIDR blocks",
        shown="`[127.0.0.0/8, ::1]`",
    ),
    _s(
        "http.log_ipv4_prefix",
        INT,
        24,
        "bits of a client's IPv4 address the access log, server log and audit log "
        "keep (`0`: none, `-` is logged; `32`: the whole address)",
        minimum=0,
        maximum=32,
    ),
    _s(
        "http.log_ipv6_prefix",
        INT,
        48,
        "the same for IPv6 (an IPv4-mapped IPv6 address counts as IPv4)",
        minimum=0,
        maximum=128,
    ),
    _s(
        "http.rate_limits.public",
        CUSTOM,
        PUBLIC_LIMIT,
        "token bucket per client address",
        shape=_BUCKET,
        attr="http.public_limit",
        shown="`{rate: 2, burst: 60}`",
    ),
    _s(
        "http.rate_limits.partners",
        CUSTOM,
        PARTNER_LIMIT,
        "token bucket per partner; with a shared store one "
        "bucket for the whole fleet (each replica spends a lease of it, renewed at most ten times a second "
        "while it is spent, `docs/deploy.md`)",
        shape=_BUCKET,
        attr="http.partner_limit",
        shown="`{rate: 10, burst: 300}`",
    ),
    _s(
        "http.rate_limits.per_partner",
        CUSTOM,
        None,
        "a partner's own bucket, under its id; unset values are those of `partners`",
        shape="mapping of partner id to bucket",
        attr="http.partner_limits",
        shown="none",
    ),
    _s(
        "http.rate_limits.not_modified_cost",
        NUM,
        0.25,
        "tokens a 304 costs (a 200 costs 1, and so does a "
        "400/401/403/404: a wrong key spends its client address's tokens)",
        minimum=0.0,
        maximum=1e6,
        attr="http.not_modified_cost",
    ),
    _s(
        "http.websub_hubs",
        TEXTS,
        (),
        "WebSub hubs announced in feeds and pinged when a public feed changes (absolute http(s) URLs)",
        attr="http.hubs",
    ),
    _s(
        "tracking.enabled",
        FLAG,
        True,
        "sign ad links (`/c/`, `/i/`) and count served, rendered and clicked ads (`docs/tracking.md`)",
    ),
    _s("tracking.pixel", FLAG, True, "add a 1x1 impression pixel to each ad"),
    _s(
        "tracking.flush_seconds",
        NUM,
        1.0,
        "how often counts are written to the store; a hard kill loses at most this",
        minimum=0.05,
        maximum=3600.0,
    ),
    _s(
        "tracking.buffer_limit",
        INT,
        100_000,
        "distinct counters held between flushes; beyond, events are dropped and the drop is counted",
        minimum=100,
        maximum=100_000_000,
    ),
    _s(
        "tracking.dedupe_seconds",
        NUM,
        30.0,
        "a click or pixel load repeated by the same client within this counts once; `0` counts all",
        minimum=0.0,
        maximum=86400.0,
    ),
    _s(
        "tracking.keys_file",
        PATH,
        "",
        "signing keys (`id:secret`, newest first) when `$SYNDICATE_SIGNING_KEYS` "
        "and `$SYNDICATE_SIGNING_KEYS_FILE` are unset",
    ),
    _s(
        "store.url",
        T,
        "",
        "a shared PostgreSQL store, `postgresql://user@host:5432/db`, for several replicas "
        "(`docs/deploy.md`); a password here (`user:password@` or `?password=`) is an error: put the whole URL "
        "in `$SYNDICATE_DATABASE_URL`, in the file named by `$SYNDICATE_DATABASE_URL_FILE` or `store.url_file`, "
        "or the password in `~/.pgpass`. Without any, counts go to SQLite in `paths.data`",
        shown="none",
    ),
    _s(
        "store.url_file",
        PATH,
        "",
        "file holding the database URL (password and all), when "
        "`$SYNDICATE_DATABASE_URL` and `$SYNDICATE_DATABASE_URL_FILE` are unset",
    ),
    _s(
        "store.timeout_seconds",
        NUM,
        5.0,
        "connect, statement and lock timeout of the shared store: a slow "
        "database fails a flush (kept and retried), never hangs it",
        minimum=0.1,
    ),
    _s(
        "admin.token_file",
        PATH,
        "",
        "file holding the admin API token, when `$SYNDICATE_ADMIN_TOKEN` and "
        "`$SYNDICATE_ADMIN_TOKEN_FILE` are unset; never put the token itself in config (see `docs/ops.md`)",
        attr="admin_token_file",
    ),
    _s(
        "metrics.expose",
        ONE,
        "admin",
        'where Prometheus metrics answer (`docs/ops.md`, "Metrics"): `admin` is '
        "`/admin/metrics` behind the admin token (nowhere without one); `port` is `/metrics`, no token, on "
        "`metrics.host:metrics.port` only; `off` is nowhere. Never on the public port without the token",
        choices=METRICS_EXPOSE,
    ),
    _s(
        "metrics.host",
        T,
        "127.0.0.1",
        "address of the metrics listener (`expose: port`); keep it off the internet: it asks for no token",
    ),
    _s(
        "metrics.port",
        INT,
        9464,
        "port of the metrics listener (`expose: port`); read at start",
        minimum=1,
        maximum=65535,
    ),
)
BY_KEY = {s.key: s for s in SETTINGS}


def setting(key: str) -> Setting:
    return BY_KEY[key]


def read_plain(f: Fields, root: Path) -> dict[str, Any]:
    """Every setting declared in ``f``'s section, except the custom ones, by the dataclass field it goes to."""
    return {s.field: s.read(f, root) for s in SETTINGS if s.section == f.prefix and s.kind is not Kind.CUSTOM}


def reference() -> str:
    """The Markdown table of docs/configuration.md."""
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for s in SETTINGS:
        rows.append(f"| `{s.key}` | {s.type_text()} | {s.default_text()} | {s.help} |")
    return "\n".join(rows) + "\n"
