"""Timestamps from files, admin bodies and query parameters: parsed, timezone-aware and in range.

Python accepts ``0001-01-01T00:00:00+14:00``, but turning it into UTC, a POSIX
time or a rotation window overflows, deep inside a request. Every timestamp that
enters the product goes through here first, so such values are refused where
they are written, with a message that says why. ``EverySecond`` is the other way round: a time the
server writes (a Date header, a log line), formatted once per second it is asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

#: Four-digit years, with room on both sides for time zones and rotation windows: a year like 0202 is a typo.
EARLIEST = dt.datetime(1000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9998, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
EXAMPLE = "2020-09-14T10:00:00+03:00"
#: The time of what has none of its own (a feed with no items, a file whose time cannot be read):
#: fixed, so the same content always gives the same bytes and validators.
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def out_of_range(value: dt.datetime) -> str | None:
    """Why an aware ``value`` cannot be used, or None when it can."""
    try:
        utc = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        return f"{value.isoformat()} is out of range: use a time from {EARLIEST.year} to {LATEST.year}"
    return None


def parse_timestamp(text: str) -> dt.datetime:
    """An ISO 8601 / RFC 3339 time with its offset; ``ValueError`` says what is wrong with ``text``."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        reason = str(exc)
        detail = "" if reason.startswith("Invalid isoformat") else f" ({reason})"
        shown = repr(text) if len(text) <= 100 else repr(text[:100]) + "…"
        raise ValueError(f"expected a timestamp like {EXAMPLE}, got {shown}{detail}") from None
    return checked(value)


def checked(value: dt.datetime) -> dt.datetime:
    """``value`` when it has a timezone and is in range; else ``ValueError``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp has no timezone; add one, e.g. +00:00 or Z")
    problem = out_of_range(value)
    if problem:
        raise ValueError(problem)
    return value


class EverySecond(Generic[T]):
    """``make(second)`` for the whole second of a POSIX time, made again only when the second changes:
    requests ask for the time far more often than it changes."""

    def __init__(self, make: Callable[[int], T]) -> None:
        self.make = make
        self.second = -1
        self.made: T | None = None

    def at(self, when: float) -> T:
        second = int(when)
        if second != self.second or self.made is None:
            self.made = self.make(second)
            self.second = second
        return self.made
