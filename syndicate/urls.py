"""The one test of a URL we link to, redirect to or announce: absolute http(s), nothing else.

Config URLs, article and feed links, images, author pages, ad click targets and
creatives, and the targets signed into tracking tokens all pass through
``is_http_url``. Article bodies have their own, wider rule (``mailto:``, relative
links) in the body sanitiser.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

HTTP_SCHEMES = ("http", "https")
POSTGRES_SCHEMES = ("postgresql", "postgres")  # what libpq takes for a database URL
#: Spaces and control characters (C0, DEL, C1) are never part of a URL; readers and redirects choke on them.
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f]")
#: What RFC 3986 lets stand in a path, query or fragment (``%`` too: an escape already written stays as it is).
_URI_SAFE = "!$%&'()*+,/:;=?@~-._"


def as_uri(url: str) -> str:
    """``url`` with the characters a URI may not hold (``<>"{}|\\^` ``, ``[]`` outside the host, non-ASCII)
    percent-encoded in its path, query and fragment, as a browser sends them: the same link, valid in every
    feed. A URL that needs none is returned as it is, byte for byte."""
    parts = urlsplit(url)
    encoded = tuple(quote(part, safe=_URI_SAFE) for part in parts[2:])
    return url if encoded == parts[2:] else urlunsplit((parts.scheme, parts.netloc, *encoded))


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host, a valid port, and no spaces or control characters."""
    if not url or _UNSAFE.search(url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return False
    return parts.scheme in HTTP_SCHEMES and bool(parts.hostname)
