"""Validators and content negotiation for feed responses (RFC 9110 sections 8.8, 12.5.3, 13).

Pure functions of header values, so each rule is tested on its own.
"""

from __future__ import annotations

import datetime as dt
import functools
from email.utils import format_datetime, parsedate_to_datetime


def http_date(moment: dt.datetime) -> str:
    return format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def parse_http_date(value: str) -> dt.datetime | None:
    """An HTTP-date, or None when it is malformed (a malformed date is ignored, per RFC 9110)."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # e.g. a 20-digit year
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def etag_matches(if_none_match: str, current: tuple[str, ...]) -> bool:
    """Weak comparison of an If-None-Match list (or ``*``) against our current tags."""
    if if_none_match in current:  # the common case: a poller sends back exactly what it got
        return True
    if if_none_match.strip() == "*":
        return True
    ours = {_opaque(tag) for tag in current}
    return any(_opaque(tag) in ours for tag in if_none_match.split(",") if tag.strip())


def not_modified(
    if_none_match: str | None, if_modified_since: str | None, etags: tuple[str, ...], last_modified: dt.datetime
) -> bool:
    """Whether a GET/HEAD may be answered 304. If-None-Match, when present, decides alone."""
    if if_none_match is not None:
        return etag_matches(if_none_match, etags)
    if if_modified_since is not None:
        since = parse_http_date(if_modified_since)
        return since is not None and last_modified.replace(microsecond=0) <= since
    return False


@functools.lru_cache(maxsize=256)  # clients send a handful of distinct values, on every request
def accepts_gzip(accept_encoding: str | None) -> bool:
    """gzip is acceptable: listed (or ``*``) with a non-zero q, and not refused by name."""
    if not accept_encoding:
        return False
    quality: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name.strip():
            quality[name.strip()] = q
    if "gzip" in quality:
        return quality["gzip"] > 0
    if "x-gzip" in quality:
        return quality["x-gzip"] > 0
    return quality.get("*", 0.0) > 0
