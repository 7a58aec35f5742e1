"""``syndicate config``: the effective settings as YAML, every default filled in, no secret shown.

The dump follows the declarations in ``settings.py``, key by key, in the shape config.yaml
is written in, so a declared setting appears here without anyone listing it (and a test
fails for a ``Config`` field nobody declared). Partner keys, the admin token,
signing keys and database passwords never appear: keys are counted, secrets are named
by where they come from (an environment variable or a file), URLs lose their password.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml

from syndicate.config import Config, RateLimit, ShortcodeAlias
from syndicate.credentials import ADMIN_TOKEN_ENV
from syndicate.settings import SETTINGS, Setting
from syndicate.storage.url import DATABASE_URL_ENV
from syndicate.tracking.keys import KEYS_ENV

MASK = "********"
#: Fields that say where a thing sits in the file, not what it is.
_SKIPPED = frozenset({"line", "feeds_line", "where"})


def _masked_url(text: str) -> str:
    """A URL without its password (``postgresql://u:secret@h/db`` -> ``u:********@h``, ``?password=`` too);
    a URL that cannot be read is masked whole."""
    try:
        parts = urlsplit(text)
        if parts.password is not None:
            user = parts.username or ""
            parts = parts._replace(netloc=f"{user}:{MASK}@{parts.netloc.rpartition('@')[2]}")
    except ValueError:
        return MASK
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "password" for name, _ in query):
        parts = parts._replace(query=urlencode([(n, MASK if n == "password" else v) for n, v in query], safe="*"))
    return urlunsplit(parts)


def _plain_fields(value: Any) -> dict[str, Any]:
    """A dataclass as a mapping of its fields, keys masked and query pairs as config.yaml writes them."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(value):
        if f.name in _SKIPPED:
            continue
        item = getattr(value, f.name)
        if f.name == "key_digests":
            out["keys"] = [MASK] * len(item)
        elif f.name == "query":  # (name, value) pairs, written as a mapping in config.yaml
            out["query"] = {str(k): str(v) for k, v in item}
        else:
            out[f.name] = plain(item)
    return out


def plain(value: Any) -> Any:
    """``value`` as YAML-ready data: dataclasses as mappings, paths and addresses as text, keys masked."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain_fields(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path | ipaddress.IPv4Network | ipaddress.IPv6Network):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return MASK
    if isinstance(value, str) and "://" in value:
        return _masked_url(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _source(env: str, file_setting: Path | None, missing: str) -> str:
    """Where a secret comes from, in the order the server reads them; never the secret."""
    if os.environ.get(env, "").strip():
        return f"${env} (set, {MASK})"
    file_env = os.environ.get(f"{env}_FILE", "").strip()
    if file_env:
        return f"file {file_env} (from ${env}_FILE, {MASK})"
    if file_setting is not None:
        return f"file {file_setting} ({MASK})"
    return missing


def secret_sources(config: Config) -> dict[str, str]:
    return {
        "admin_token": _source(ADMIN_TOKEN_ENV, config.admin_token_file, "not set: /admin/ is off (404)"),
        "signing_keys": _source(
            KEYS_ENV, config.tracking.keys_file, "not set: a random key at each start (ad links break on restart)"
        ),
        "database_url": _source(
            DATABASE_URL_ENV,
            config.store.url_file,
            "not set: " + ("store.url" if config.store.url else "SQLite in the data folder"),
        ),
    }


def _value(config: Config, setting: Setting) -> Any:
    """The setting's value in ``config``, shaped as config.yaml writes it."""
    value: Any = config
    for name in setting.path.split("."):
        value = getattr(value, name)
    if setting.unit != 1:
        return value // setting.unit
    if isinstance(value, RateLimit) or (value is None and setting.default.__class__ is RateLimit):
        return plain(value) if value is not None else {"enabled": False}
    if isinstance(value, tuple) and value and isinstance(value[0], ShortcodeAlias):
        return {a.tag: {"attribute": a.attribute, "spaces": dict(a.spaces), "default": a.default} for a in value}
    return plain(value)


def settings_tree(config: Config) -> dict[str, Any]:
    """Every declared setting of ``config`` at its key, nested by section."""
    tree: dict[str, Any] = {}
    for setting in SETTINGS:
        *sections, name = setting.key.split(".")
        node = tree
        for section in sections:
            node = node.setdefault(section, {})
        node[name] = _value(config, setting)
    return tree


def dump(config: Config) -> str:
    """The YAML ``syndicate config`` prints."""
    data = settings_tree(config)
    data["secrets"] = secret_sources(config)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
