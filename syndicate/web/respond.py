"""The HTTP answer for a rendered variant: 304 or 200, identity or gzip, with its validators and caching headers.

The rules are ``conditional.py``'s; this module applies them to a variant. The four header sets a
variant can be answered with (200 identity, 200 gzip, and a 304 of each, whose ETag names the
representation asked for) are written once, by the first response that needs them, and copied per
response; only what changes per request (the rate-limit headers) is added to the copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from multidict import CIMultiDict

from syndicate.web.conditional import accepts_gzip, http_date, not_modified
from syndicate.web.variants import Representation, Variant

#: Partner keys may come in the Authorization header, so a shared cache must not mix answers across it.
VARY = "Accept-Encoding, Authorization"


@dataclass(frozen=True, slots=True)
class Answers:
    """The headers of each answer a variant has."""

    plain: CIMultiDict[str]
    gzip: CIMultiDict[str]
    not_modified: CIMultiDict[str]
    not_modified_gzip: CIMultiDict[str]


def _common(variant: Variant, facts: Representation, etag: str) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    headers["Last-Modified"] = http_date(variant.last_modified)
    headers["Cache-Control"] = f"{'public' if facts.public else 'private'}, max-age={facts.max_age}"
    headers["Vary"] = VARY
    headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for url, rel in facts.links)
    headers["ETag"] = etag
    return headers


def _with_body(content_type: str, common: CIMultiDict[str], encoding: str | None = None) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    headers["Content-Type"] = content_type
    headers.extend(common)
    if encoding is not None:
        headers["Content-Encoding"] = encoding
    return headers


def answers(variant: Variant) -> Answers:
    """The variant's header sets, made on first use and kept with it."""
    if variant.answers is not None:
        return variant.answers
    facts = variant.representation
    identity, gzipped = _common(variant, facts, variant.etag), _common(variant, facts, variant.gzip_etag)
    made = Answers(
        _with_body(facts.content_type, identity), _with_body(facts.content_type, gzipped, "gzip"), identity, gzipped
    )
    variant.answers = made
    return made


#: Called once the answer is known (True: a 304): the response that refuses it instead (a 429), or the
#: headers to add to it (the rate-limit headers).
Admit = Callable[[bool], "web.Response | Mapping[str, str]"]


def respond(variant: Variant, request: web.BaseRequest, admit: Admit | None = None) -> web.Response:
    """The answer to a GET or HEAD for ``variant``: If-None-Match (else If-Modified-Since) decides a 304;
    Accept-Encoding decides gzip, and with it which ETag the answer carries."""
    headers = request.headers
    use_gzip = accepts_gzip(headers.get("Accept-Encoding"))
    fresh = not_modified(
        headers.get("If-None-Match"), headers.get("If-Modified-Since"), variant.etags, variant.last_modified
    )
    extra: Mapping[str, str] = {}
    if admit is not None:
        admitted = admit(fresh)
        if isinstance(admitted, web.Response):
            return admitted
        extra = admitted
    made = answers(variant)
    if fresh:
        response = web.Response(status=304, headers=made.not_modified_gzip if use_gzip else made.not_modified)
    elif use_gzip:
        response = web.Response(body=variant.gzipped, headers=made.gzip)
    else:
        response = web.Response(body=variant.body, headers=made.plain)
    if extra:  # never one of the variant's own headers: added, not looked for
        response.headers.extend(extra)
    return response
