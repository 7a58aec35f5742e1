"""Feed requests already checked: who asks for which page, remembered by the request's target and credentials.

Pollers repeat the very same request. Its key, page, format and permissions are checked once per Snapshot
(``views._checked``); later requests find the outcome by (request target, Authorization header) in a
bounded table that a new Snapshot empties. Refusals are never remembered: each is checked (and charged)
anew.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from syndicate.config import RateLimit
from syndicate.partners import Audience
from syndicate.publish import PageRequest

MAX_WANTED = 4096


@dataclass(frozen=True, slots=True)
class Wanted:
    """A feed request that passed every check."""

    page: PageRequest
    audience: Audience
    limit: RateLimit | None  # the bucket its answers spend, None when off
    bucket: str | None  # a partner's own bucket; None: the client address's, worked out per request


class KnownRequests:
    """The checked requests of one Snapshot generation, at most ``size`` of them (oldest forgotten first)."""

    def __init__(self, size: int = MAX_WANTED) -> None:
        self.size = size
        self.generation = -1
        self.table: dict[tuple[str, str | None], Wanted] = {}

    def get(self, request: web.BaseRequest, generation: int) -> Wanted | None:
        if generation != self.generation:
            return None
        return self.table.get((request.raw_path, request.headers.get("Authorization")))

    def put(self, request: web.BaseRequest, generation: int, wanted: Wanted) -> Wanted:
        if generation != self.generation:
            self.table.clear()
            self.generation = generation
        table = self.table
        if len(table) >= self.size:
            del table[next(iter(table))]
        table[(request.raw_path, request.headers.get("Authorization"))] = wanted
        return wanted

    def clear(self) -> None:
        self.table.clear()
