"""``srcset`` attributes read as the HTML standard's "parse a srcset attribute" algorithm reads them.

A candidate's URL runs until whitespace, so a comma inside it (``/w_300,h_200/a.jpg``, common on image
CDNs) is part of the URL; only commas at its end separate candidates. Candidates whose descriptors the
standard rejects are dropped, as a browser drops them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_SPACE = " \t\n\r\f"
_SKIP = re.compile(r"[ \t\n\r\f,]*")
_URL = re.compile(r"[^ \t\n\r\f]*")
_INTEGER = re.compile(r"[0-9]+")
_FLOAT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


@dataclass(frozen=True, slots=True)
class Candidate:
    url: str
    descriptors: tuple[str, ...]  # as written, e.g. ("300w",) or ("1.5x",); () means 1x

    def __str__(self) -> str:
        return " ".join((self.url, *self.descriptors))


def _descriptors(value: str, pos: int) -> tuple[list[str], int]:
    """The descriptor tokenizer: tokens split at whitespace, a comma outside parentheses ends the candidate."""
    tokens: list[str] = []
    current: list[str] = []
    in_parens = False
    while pos < len(value):
        char = value[pos]
        pos += 1
        if in_parens:
            current.append(char)
            in_parens = char != ")"
        elif char in _SPACE:
            if current:
                tokens.append("".join(current))
                current = []
        elif char == ",":
            break
        else:
            current.append(char)
            in_parens = char == "("
    if current:
        tokens.append("".join(current))
    return tokens, pos


def _valid(descriptors: list[str]) -> bool:
    """The standard's descriptor checks: at most one of w (integer > 0), x (number >= 0), h (with w only)."""
    seen: set[str] = set()
    for token in descriptors:
        kind, number = token[-1:], token[:-1]
        if kind in seen or kind not in "wxh" or not kind:
            return False
        seen.add(kind)
        if kind in "wh" and not (_INTEGER.fullmatch(number) and int(number) > 0):
            return False
        if kind == "x" and not (_FLOAT.fullmatch(number) and float(number) >= 0):
            return False
    return not ({"w", "x"} <= seen or ("h" in seen and "w" not in seen))


def parse_srcset(value: str) -> list[Candidate]:
    """Every valid image candidate in ``value``, in order."""
    candidates: list[Candidate] = []
    pos = 0
    while True:
        skip = _SKIP.match(value, pos)
        pos = skip.end() if skip else pos
        if pos >= len(value):
            return candidates
        found = _URL.match(value, pos)
        url = found.group() if found else ""
        pos += len(url)
        descriptors: list[str] = []
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            descriptors, pos = _descriptors(value, pos)
        if url and _valid(descriptors):
            candidates.append(Candidate(url, tuple(descriptors)))


def rewrite_srcset(value: str, rewrite: Callable[[str], str | None]) -> str | None:
    """``value`` with each candidate's URL passed through ``rewrite`` (None drops it); None when nothing is left."""
    kept = []
    for candidate in parse_srcset(value):
        url = rewrite(candidate.url)
        if url and not any(c in _SPACE for c in url) and not url.endswith(","):
            kept.append(str(Candidate(url, candidate.descriptors)))
    return ", ".join(kept) or None
