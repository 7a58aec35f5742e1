"""Secrets come from the environment or from files named in config, never from config itself.

config.yaml lives in git; a token in it would be in every clone. So a secret is
``$NAME``, else the file named by ``$NAME_FILE`` (Docker and systemd credentials
work this way), else the file named by a config setting.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from syndicate.problems import Level, LoadError, Problem, ProblemList

ADMIN_TOKEN_ENV = "SYNDICATE_ADMIN_TOKEN"
MIN_TOKEN_LENGTH = 16
_MAX_SECRET_BYTES = 4096


def secret_from_env_or_file(name: str, file_setting: Path | None) -> str | None:
    """``$name``, else the file at ``$name_FILE``, else the file ``file_setting``; None when none is set.

    Raises ``LoadError`` naming the file when a named file cannot be read or is empty.
    """
    value = os.environ.get(name, "").strip()
    if value:
        return value
    file_env = os.environ.get(f"{name}_FILE", "").strip()
    path = Path(file_env) if file_env else file_setting
    if path is None:
        return None
    problems = ProblemList()
    try:
        data = path.read_bytes()[: _MAX_SECRET_BYTES + 1]
        text = data.decode("utf-8").strip()
    except OSError as exc:
        problems.error(path, 0, f"cannot read secret file for {name}: {exc.strerror or exc}")
        raise LoadError(problems) from None
    except UnicodeDecodeError:
        problems.error(path, 0, f"secret file for {name} is not UTF-8 text")
        raise LoadError(problems) from None
    if not text or len(data) > _MAX_SECRET_BYTES:
        problems.error(path, 0, f"secret file for {name} is empty or over {_MAX_SECRET_BYTES} bytes")
        raise LoadError(problems)
    return text


class AdminToken:
    """The admin bearer token, kept only as a digest and compared in constant time."""

    def __init__(self, token: str) -> None:
        self._digest = hashlib.sha256(token.encode("utf-8")).digest()

    def matches(self, presented: str) -> bool:
        # Comparing digests keeps the time independent of where the texts differ and of their lengths.
        # surrogatepass: a header that is not UTF-8 arrives with lone surrogates; it never matches, never raises.
        candidate = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
        return hmac.compare_digest(self._digest, candidate)


def admin_token(file_setting: Path | None) -> AdminToken | None:
    """The configured admin token; None disables the admin API. Raises ``LoadError`` when it is too short."""
    token = secret_from_env_or_file(ADMIN_TOKEN_ENV, file_setting)
    if token is None:
        return None
    if len(token) < MIN_TOKEN_LENGTH:
        message = f"the admin token must be at least {MIN_TOKEN_LENGTH} characters; admin API not started"
        raise LoadError([Problem(Path(f"${ADMIN_TOKEN_ENV}"), 0, Level.ERROR, message)])
    return AdminToken(token)
