"""Who is asking: partners with keys and ad policies, and the public profile for anonymous readers.

Keys are kept only as SHA-256 digests (config may give them plain, for demos, or
as ``sha256:<hex>``); a presented key is hashed and looked up by digest, so no
key is ever compared or logged in clear.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from syndicate.fields import Fields
from syndicate.formats import FORMATS

if TYPE_CHECKING:
    from syndicate.config import HttpConfig, RateLimit

PUBLIC_ID = "public"
PARTNER_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # fullmatch only
_HEX_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")


class AdPolicy(StrEnum):
    RESOLVE = "resolve"  # the configured units, with this audience's overrides
    HOUSE = "house"  # only units marked house
    STRIP = "strip"  # no ads at all


@dataclass(frozen=True, slots=True)
class SpaceOverride:
    use: str | None = None  # serve another space in this one's place
    only: tuple[str, ...] = ()  # restrict to these unit ids
    label: str | None = None  # another disclosure label
    hide: bool = False  # no ads in this space for this audience
    line: int = 0  # where it is written in config.yaml


@dataclass(frozen=True, slots=True)
class Audience:
    """A partner, or the public profile: everything that changes what a feed says to whom."""

    id: str
    name: str
    ads: AdPolicy = AdPolicy.RESOLVE
    allow_html: bool = False
    feeds: tuple[str, ...] = ()  # empty: every feed
    formats: tuple[str, ...] = ()  # empty: every format
    query: tuple[tuple[str, str], ...] = ()  # appended to click targets, e.g. UTM parameters
    overrides: dict[str, SpaceOverride] = field(default_factory=dict, hash=False)
    key_digests: tuple[bytes, ...] = ()
    where: str = ""  # its field name in config.yaml ("public", "partners[1]"), for messages
    feeds_line: int = 0  # the line of its ``feeds`` list

    @property
    def is_public(self) -> bool:
        return self.id == PUBLIC_ID

    def may_read(self, feed: str, fmt: str) -> bool:
        return (not self.feeds or feed in self.feeds) and (not self.formats or fmt in self.formats)

    def limit(self, http: HttpConfig) -> RateLimit | None:
        """The token bucket this audience's requests spend: the public one (per client address), a partner's
        own, or the partners' default; None when that bucket is off."""
        if self.is_public:
            return http.public_limit
        return http.partner_limits.get(self.id, http.partner_limit)


def key_digest(key: str) -> bytes:
    # surrogatepass: a header that is not UTF-8 arrives with lone surrogates; it is simply a key nobody holds.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def _read_overrides(f: Fields) -> dict[str, SpaceOverride]:
    section = f.section("overrides")
    overrides: dict[str, SpaceOverride] = {}
    for space_id in list(section.mapping):
        sub = section.section(space_id)
        if not sub.written:
            continue
        overrides[space_id] = SpaceOverride(
            use=sub.text("use") or None,
            only=sub.str_list("only"),
            label=sub.text("label") or None,
            hide=sub.flag("hide", False),
            line=sub.anchor,
        )
        sub.finish()
    section.finish()
    return overrides


def _read_query(f: Fields) -> tuple[tuple[str, str], ...]:
    section = f.section("query")
    pairs = tuple((key, section.text(key)) for key in list(section.mapping))
    section.finish()
    return pairs


def read_audience(f: Fields, audience_id: str, name: str) -> Audience:
    """The settings shared by partners and the public profile."""
    audience = Audience(
        id=audience_id,
        name=name,
        ads=AdPolicy(f.choice("ads", tuple(AdPolicy), AdPolicy.RESOLVE)),
        allow_html=f.flag("allow_html", False),
        feeds=f.str_list("feeds"),
        formats=f.str_list("formats"),
        query=_read_query(f),
        overrides=_read_overrides(f),
        where=f.prefix,
        feeds_line=f.line("feeds"),
    )
    for fmt in audience.formats:
        if fmt not in FORMATS:
            f.error("formats", f"unknown format {fmt!r}; use " + ", ".join(FORMATS))
    return audience


def read_partner(f: Fields) -> Audience | None:
    partner_id = f.text("id", required=True)
    if partner_id and (not PARTNER_ID.fullmatch(partner_id) or partner_id == PUBLIC_ID):
        f.error("id", f"partner ids are lower-case letters, digits, '-' and '_', and not {PUBLIC_ID!r}")
    digests: list[bytes] = []
    for key in f.str_list("keys", secret=True):
        match = _HEX_DIGEST.fullmatch(key)
        if match:
            digests.append(bytes.fromhex(match.group(1)))
        elif key.startswith("sha256:"):
            f.error("keys", "a sha256: key must be followed by 64 lower-case hex digits")
        elif len(key) < 12:
            f.error("keys", "keys must be at least 12 characters long")
        else:
            digests.append(key_digest(key))
    if not digests:
        f.error("keys", "a partner needs at least one key")
    audience = read_audience(f, partner_id, f.text("name", partner_id))
    f.finish()
    return replace(audience, key_digests=tuple(digests)) if partner_id else None
