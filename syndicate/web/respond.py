"""The HTTP answer for a rendered variant: 304 or 200, identity or gzip, with its validators and caching headers.

The rules are ``conditional.py``'s; this module applies them to a variant. The four answers a
variant can be given (200 identity, 200 gzip, and a 304 of each, whose ETag names the
representation asked for) are made once, by the first response that needs them, as the bytes they
are sent as (``wire.py``); a response adds only what changes per request (the rate-limit headers).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from syndicate.web.conditional import accepts_gzip, http_date, not_modified
from syndicate.web.variants import Representation, Variant
from syndicate.web.wire import Prepared, prepared

#: Partner keys may come in the Authorization header, so a shared cache must not mix answers across it.
VARY = "Accept-Encoding, Authorization"


@dataclass(frozen=True, slots=True)
class Answers:
    """Each answer a variant has, ready to send."""

    plain: Prepared
    gzip: Prepared
    not_modified: Prepared
    not_modified_gzip: Prepared


def _validators(variant: Variant, facts: Representation, etag: str) -> list[tuple[str, str]]:
    return [
        ("Last-Modified", http_date(variant.last_modified)),
        ("Cache-Control", f"{'public' if facts.public else 'private'}, max-age={facts.max_age}"),
        ("Vary", VARY),
        ("Link", ", ".join(f'<{url}>; rel="{rel}"' for url, rel in facts.links)),
        ("ETag", etag),
    ]


def answers(variant: Variant) -> Answers:
    """The variant's answers, made on first use and kept with it."""
    if variant.answers is not None:
        return variant.answers
    facts = variant.representation
    identity, gzipped = _validators(variant, facts, variant.etag), _validators(variant, facts, variant.gzip_etag)
    typed = ("Content-Type", facts.content_type)
    made = Answers(
        prepared(200, [typed, *identity], variant.body),
        prepared(200, [typed, *gzipped, ("Content-Encoding", "gzip")], variant.gzipped),
        prepared(304, identity, None),
        prepared(304, gzipped, None),
    )
    variant.answers = made
    return made


def choose(variant: Variant, request: web.BaseRequest) -> Prepared:
    """The answer to a GET or HEAD for ``variant``: If-None-Match (else If-Modified-Since) decides a 304;
    Accept-Encoding decides gzip, and with it which ETag the answer carries."""
    headers = request.headers
    use_gzip = accepts_gzip(headers.get("Accept-Encoding"))
    made = answers(variant)
    if not_modified(
        headers.get("If-None-Match"), headers.get("If-Modified-Since"), variant.etags, variant.last_modified
    ):
        return made.not_modified_gzip if use_gzip else made.not_modified
    return made.gzip if use_gzip else made.plain
