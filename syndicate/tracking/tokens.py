"""Compact, URL-safe, HMAC-signed tokens that say what an ad link counts and where it goes.

A token is ``<key id>.<base64url(payload ‖ mac)>``. The payload is a version byte
then six UTF-8 fields joined by U+001F: space, unit, partner, article, rotation
window, target URL. The mac is HMAC-SHA256 over ``<key id>.`` + payload, cut to
16 bytes. Everything needed to count and redirect is inside, so a click needs no
lookup and a token never expires; the key id lets keys rotate (old ones verify,
the newest signs).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

from syndicate.urls import is_http_url

VERSION = 1
MAC_BYTES = 16
SEPARATOR = "\x1f"
#: Longer tokens are refused before any decoding (a feed URL this long is a mistake or an attack).
MAX_TOKEN_CHARS = 4096
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")  # always fullmatch: "$" would let a final newline through
MIN_SECRET_BYTES = 16
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class BadToken(ValueError):
    """Not a token we signed: garbage, truncated, tampered with, or signed by a key we don't hold."""


@dataclass(frozen=True, slots=True)
class Claim:
    """What one ad link says: which ad, for whom, in which article and window, and where it goes."""

    space: str
    unit: str
    partner: str
    article: str
    window: int
    target: str


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict: only the one spelling ``_b64encode`` gives. The last character can carry unused bits, and
    a lenient decoder reads four spellings as the same token (four dedupe keys for one click)."""
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise BadToken("not base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadToken("not base64url") from None
    if _b64encode(raw) != text:
        raise BadToken("not the canonical spelling")
    return raw


def safe_target(url: str) -> bool:
    """The only thing we redirect to: what every URL field of the product takes (``urls.is_http_url``)."""
    return is_http_url(url)


class SigningKeys:
    """HMAC keys by id, newest first: the first signs, all verify."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        # Errors name a key by its position, never by its id: written "secret:id", the id is the secret.
        for number, (key_id, secret) in enumerate(keys, 1):
            if not KEY_ID.fullmatch(key_id):
                raise ValueError(
                    f"signing key {number} of {len(keys)}: its id (before ':') must be 1 to 16 "
                    "letters, digits, '-' or '_'; entries are id:secret"
                )
            if len(secret) < MIN_SECRET_BYTES:
                raise ValueError(
                    f"signing key {number} of {len(keys)}: the secret (after ':') needs at least "
                    f"{MIN_SECRET_BYTES} bytes; entries are id:secret"
                )
        ids = [key_id for key_id, _ in keys]
        if len(set(ids)) != len(ids):
            raise ValueError("two signing keys share an id")
        self.current = ids[0]
        self._secrets = dict(keys)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._secrets)

    def derived(self, purpose: str) -> bytes:
        """A secret for another use than signing, from the newest key: the same wherever the keys are."""
        return hmac.new(self._secrets[self.current], b"syndicate:" + purpose.encode("utf-8"), hashlib.sha256).digest()

    def _mac(self, key_id: str, payload: bytes) -> bytes:
        message = key_id.encode("ascii") + b"." + payload
        return hmac.new(self._secrets[key_id], message, hashlib.sha256).digest()[:MAC_BYTES]

    def sign(self, claim: Claim) -> str:
        """The token for ``claim``; raises ValueError when a field cannot be carried."""
        fields = (claim.space, claim.unit, claim.partner, claim.article, str(claim.window), claim.target)
        if any(SEPARATOR in f for f in fields):
            raise ValueError("a token field contains U+001F")
        if not safe_target(claim.target):
            raise ValueError(f"not an absolute http(s) URL: {claim.target!r}")
        payload = bytes([VERSION]) + SEPARATOR.join(fields).encode("utf-8")
        token = f"{self.current}.{_b64encode(payload + self._mac(self.current, payload))}"
        if len(token) > MAX_TOKEN_CHARS:
            raise ValueError(f"token would be {len(token)} characters; at most {MAX_TOKEN_CHARS}")
        return token

    def verify(self, token: str) -> Claim:
        """The claim ``token`` carries; raises ``BadToken`` unless we signed it exactly so."""
        if len(token) > MAX_TOKEN_CHARS:
            raise BadToken("too long")
        key_id, dot, body = token.partition(".")
        if not dot or key_id not in self._secrets:
            raise BadToken("unknown key")
        raw = _b64decode(body)
        if len(raw) <= MAC_BYTES + 1:
            raise BadToken("too short")
        payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(key_id, payload)):
            raise BadToken("bad signature")
        return _claim(payload)


def _claim(payload: bytes) -> Claim:
    """Decode a payload whose signature already checked out; still strict, in case a key leaked."""
    if payload[0] != VERSION:
        raise BadToken("unknown version")
    try:
        fields = payload[1:].decode("utf-8").split(SEPARATOR)
    except UnicodeDecodeError:
        raise BadToken("not UTF-8") from None
    if len(fields) != 6 or not fields[4].isascii() or not fields[4].isdigit():
        raise BadToken("bad fields")
    space, unit, partner, article, window, target = fields
    if not safe_target(target):
        raise BadToken("bad target")
    return Claim(space, unit, partner, article, int(window), target)
