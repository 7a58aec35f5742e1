"""The one place a request's credentials are read: a partner key for the feeds, the admin token for /admin/.

Feeds take a partner key as ``Authorization: Bearer <key>`` or ``?key=`` (the header wins); no key
is the public profile, and a key nobody holds is refused. /admin/ takes the admin token as a Bearer
token, or as the password of Basic credentials, which is what a browser sends.
"""

from __future__ import annotations

import base64
import functools

from aiohttp import web

from syndicate.partners import Audience, key_digest
from syndicate.snapshot import Snapshot

#: A poller presents the same key on every request: its digest is worked out once (bounded).
presented_digest = functools.lru_cache(maxsize=1024)(key_digest)


class Unauthorized(Exception):
    """A key was given and matches no partner."""


def authorization(request: web.BaseRequest) -> tuple[str, str]:
    """The ``Authorization`` scheme (lower case) and its credentials, stripped; ('', '') when absent."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower(), credentials.strip()


def query_key(request: web.Request) -> str | None:
    """The key a partner sent as ``?key=``, when that is how it authenticated (a Bearer header wins)."""
    scheme, _ = authorization(request)
    return None if scheme == "bearer" else request.query.get("key") or None


def partner_key(request: web.Request) -> str:
    """The partner key presented, from the Bearer header or else ``?key=``; '' for none."""
    scheme, credentials = authorization(request)
    return credentials if scheme == "bearer" else request.query.get("key", "")


def audience_of(request: web.Request, snapshot: Snapshot) -> Audience:
    """The partner whose key came with the request, else the public profile. Raises ``Unauthorized``."""
    key = partner_key(request)
    if not key:
        return snapshot.config.public
    partner = snapshot.partners_by_digest.get(presented_digest(key))
    if partner is None:
        raise Unauthorized
    return partner


def presented_token(authorization_value: str) -> str:
    """The admin token in an ``Authorization`` value: a Bearer token, or a Basic password; '' when neither."""
    scheme, _, credentials = authorization_value.partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme == "bearer":
        return credentials
    if scheme == "basic":
        try:
            return base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")[2]
        except ValueError:  # binascii.Error, UnicodeDecodeError, and credentials that are not ASCII
            return ""
    return ""


def admin_token(request: web.BaseRequest) -> str:
    """The admin token a request presents ('' for none)."""
    return presented_token(request.headers.get("Authorization", ""))
