"""What never reaches a log: partner keys, tracking tokens, and whole client addresses.

Keys and tokens are found the way the server reads them: query names are
percent-decoded first (``?k%65y=`` authenticates exactly like ``?key=``), and a
path is judged decoded (``/%63/<token>`` is a click). aiohttp's own error lines
("Got more than 8190 bytes when reading: b'/feeds/x?key=…'") quote the raw request
line, so a filter on its loggers redacts their messages and tracebacks too.
Client addresses are cut to a network prefix (IPv4 /24, IPv6 /48 by default,
``http.log_ipv4_prefix`` / ``http.log_ipv6_prefix``) wherever they are logged.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
from urllib.parse import unquote, unquote_plus

SECRET_NAMES = frozenset({"key", "token"})
REDACTED = "REDACTED"
#: Loggers of aiohttp that may quote a request line, its headers or a URL.
AIOHTTP_LOGGERS = ("aiohttp.server", "aiohttp.web", "aiohttp.access", "aiohttp.internal", "aiohttp.client")

#: One query parameter anywhere in a text: a name (possibly percent-encoded) right after ?, & or ;.
_PARAM = re.compile(r"(?<=[?&;])((?:%[0-9A-Fa-f]{2}|[^=&;\s'\"#%])+)=([^&;\s'\"#]*)")
#: A tracking link's path anywhere in a text, written plainly or percent-encoded.
_TOKEN_PATH = re.compile(r"/(?:[ci]|%6[39]|%4[39])/[^/?#\s'\"]+", re.IGNORECASE)


def _param(match: re.Match[str]) -> str:
    name = match.group(1)
    return f"{name}={REDACTED}" if unquote_plus(name).lower() in SECRET_NAMES else match.group(0)


def _token_path(match: re.Match[str]) -> str:
    decoded = unquote(match.group(0))
    return f"{decoded[:3]}{REDACTED}" if decoded[:3] in ("/c/", "/i/") else match.group(0)


def redact_text(text: str) -> str:
    """``text`` (a request target, a Referer, a log message) with every key, token and tracking link hidden."""
    if "=" in text:
        text = _PARAM.sub(_param, text)
    if "/" in text:
        text = _TOKEN_PATH.sub(_token_path, text)
    return text


def redact(target: str) -> str:
    """A request target as it may be logged."""
    return redact_text(target)


@functools.lru_cache(maxsize=4096)
def truncate_address(address: str, ipv4_prefix: int = 24, ipv6_prefix: int = 48) -> str:
    """``address`` with only its first ``ipv4_prefix`` / ``ipv6_prefix`` bits kept; "-" for a prefix of 0
    or something that is not an IP address (its text could be anything a client sent)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "-"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    bits = ipv4_prefix if ip.version == 4 else ipv6_prefix
    if bits <= 0:
        return "-"
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False).network_address)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message and traceback so no key or token in them reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, redact_text(text)
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """Put the filter on aiohttp's loggers (once; safe to call for every app)."""
    for name in AIOHTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
