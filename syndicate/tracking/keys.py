"""Where the signing keys come from: $SYNDICATE_SIGNING_KEYS, else a key file, else a random dev key.

Keys never live in config.yaml (it is committed); the config only names a file.
Without any key the server still runs, on a random key made at start-up, and
says loudly that its links stop working at the next restart.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from syndicate.credentials import secret_from_env_or_file
from syndicate.problems import Level, LoadError, Problem
from syndicate.tracking.tokens import SigningKeys

KEYS_ENV = "SYNDICATE_SIGNING_KEYS"
DEV_KEY_ID = "dev"

log = logging.getLogger("syndicate.tracking")


def parse_keys(text: str, source: str) -> SigningKeys:
    """``id:secret`` entries, newest first, separated by commas or new lines; ``#`` starts a comment line."""
    entries: list[tuple[str, bytes]] = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for entry in line.split(","):
            entry = entry.strip()
            if not entry:
                continue
            key_id, colon, secret = entry.partition(":")
            if not colon:
                raise ValueError(f"{source}: expected id:secret entries, newest first (e.g. k2:…,k1:…)")
            entries.append((key_id.strip(), secret.strip().encode("utf-8")))
    if not entries:
        raise ValueError(f"{source}: no signing keys in it")
    try:
        return SigningKeys(entries)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None


def load_keys(keys_file: Path | None) -> SigningKeys:
    """The keys to sign and verify with: ``$SYNDICATE_SIGNING_KEYS``, else the file named by
    ``$SYNDICATE_SIGNING_KEYS_FILE`` or ``tracking.keys_file``, else a random development key.

    Raises ``LoadError`` naming the source (never a secret) when they are unreadable or malformed.
    """
    text = secret_from_env_or_file(KEYS_ENV, keys_file)
    if text is None:
        log.warning(
            "no signing keys: set $%s (e.g. k1:<32 random characters>) or tracking.keys_file; "
            "using a random development key, so tracked ad links in feeds already read will stop "
            "working at the next restart",
            KEYS_ENV,
        )
        return SigningKeys([(DEV_KEY_ID, secrets.token_bytes(32))])
    if os.environ.get(KEYS_ENV, "").strip():
        source = f"${KEYS_ENV}"
    else:
        source = os.environ.get(f"{KEYS_ENV}_FILE", "").strip() or str(keys_file)
    try:
        return parse_keys(text, source)
    except ValueError as exc:
        raise LoadError([Problem(Path(source), 0, Level.ERROR, str(exc).removeprefix(f"{source}: "))]) from None


def share_dev_key(keys_file: Path | None) -> None:
    """Before starting worker processes: with no key configured, put one random dev key in the
    environment they inherit, so a token one worker signs verifies in every other."""
    configured = any(os.environ.get(name, "").strip() for name in (KEYS_ENV, f"{KEYS_ENV}_FILE"))
    if configured or keys_file is not None:
        return
    log.warning(
        "no signing keys: the workers share a random development key; tracked ad links in feeds "
        "already read will stop working at the next restart (set $%s)",
        KEYS_ENV,
    )
    os.environ[KEYS_ENV] = f"{DEV_KEY_ID}:{secrets.token_urlsafe(32)}"
