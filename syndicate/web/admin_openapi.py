"""The OpenAPI 3.1 description of the admin API, served at /admin/openapi.json.

Written by hand next to the handlers and checked against them by tests/test_admin.py:
every route is described, every status an endpoint answers is declared, and
every JSON body matches its schema.
"""

from __future__ import annotations

import copy
from typing import Any

from syndicate.formats import FORMATS
from syndicate.web.admin_preview import PREVIEW_FORMATS

_PROBLEM = {
    "type": "object",
    "required": ["path", "line", "level", "message"],
    "properties": {
        "path": {"type": "string", "description": "relative to the config file's folder"},
        "line": {"type": "integer", "minimum": 0, "description": "0: the file as a whole"},
        "level": {"enum": ["error", "warning"]},
        "message": {"type": "string"},
    },
    "additionalProperties": False,
}
_PROBLEMS = {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}}
_OUTCOME = {
    "type": "object",
    "required": ["trigger", "at", "accepted", "generation", "seconds", "errors"],
    "properties": {
        "trigger": {"type": "string"},
        "at": {"type": "string", "format": "date-time"},
        "accepted": {"type": "boolean"},
        "generation": {"type": "integer", "description": "the generation served after this attempt"},
        "seconds": {"type": "number"},
        "errors": _PROBLEMS,
    },
    "additionalProperties": False,
}
_COUNT = {"type": "integer", "minimum": 0}
_STAMP = {"type": ["string", "null"], "format": "date-time"}
_UPSTREAM = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "feed",
        "url",
        "ok",
        "last_attempt",
        "last_success",
        "last_status",
        "kind",
        "error",
        "failures",
        "items",
        "written",
        "rejected",
    ],
    "properties": {
        "feed": {"type": "string"},
        "url": {"type": "string"},
        "ok": {"type": "boolean", "description": "the last poll worked"},
        "last_attempt": _STAMP,
        "last_success": _STAMP,
        "last_status": {"type": ["integer", "null"], "description": "HTTP status of the last answer"},
        "kind": {"enum": ["rss", "atom", None]},
        "error": {"type": ["string", "null"], "description": "why the last poll failed; the last good items stay"},
        "failures": _COUNT,
        "items": _COUNT,
        "written": _COUNT,
        "rejected": {"type": "array", "items": {"type": "string"}, "description": "items left out, with why"},
    },
}
_STATUS = {
    "type": "object",
    "required": [
        "generation",
        "loaded_at",
        "uptime_seconds",
        "pid",
        "counts",
        "scheduled",
        "errors",
        "warnings",
        "reload",
        "upstreams",
    ],
    "properties": {
        "generation": {"type": "integer"},
        "loaded_at": {"type": "string", "format": "date-time"},
        "uptime_seconds": {"type": "number"},
        "pid": {"type": "integer", "description": "the worker that answered (see serve --workers)"},
        "counts": {
            "type": "object",
            "required": ["feeds", "articles", "spaces", "partners", "scheduled"],
            "properties": {k: _COUNT for k in ("feeds", "articles", "spaces", "partners", "scheduled")},
            "additionalProperties": False,
            "description": "articles: published now; scheduled: dated later, in no feed yet",
        },
        "scheduled": {
            "type": "array",
            "description": "the next 100 scheduled articles, soonest first",
            "items": {
                "type": "object",
                "required": ["path", "id", "at"],
                "additionalProperties": False,
                "properties": {
                    "path": {"type": "string"},
                    "id": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"},
                },
            },
        },
        "errors": _PROBLEMS,
        "warnings": _PROBLEMS,
        "reload": {
            "type": "object",
            "required": ["attempts", "last", "rejected"],
            "properties": {
                "attempts": _COUNT,
                "last": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/ReloadOutcome"}]},
                "rejected": {
                    "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/ReloadOutcome"}],
                    "description": "the latest rejected reload, until one is accepted",
                },
            },
            "additionalProperties": False,
        },
        "upstreams": {"type": "array", "items": _UPSTREAM, "description": "feeds followed from elsewhere"},
    },
    "additionalProperties": False,
}
_SPACES = {
    "type": "object",
    "required": ["spaces"],
    "additionalProperties": False,
    "properties": {
        "spaces": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "path", "units", "live_units", "if_empty"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "path": {"type": "string"},
                    "units": _COUNT,
                    "live_units": _COUNT,
                    "if_empty": {"type": ["string", "null"]},
                },
            },
        }
    },
}
_SOURCE = {
    "type": "object",
    "required": ["id", "path", "etag", "loaded", "source"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string"},
        "path": {"type": "string"},
        "etag": {"type": "string"},
        "loaded": {"type": "boolean", "description": "false: the file has errors (see status)"},
        "source": {"type": "string"},
    },
}
_WRITTEN = {
    "type": "object",
    "required": ["id", "path", "generation", "etag", "backup"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string"},
        "path": {"type": "string"},
        "generation": {"type": "integer"},
        "etag": {"type": "string"},
        "backup": {"type": ["string", "null"]},
    },
}
_DELETED = {
    "type": "object",
    "required": ["id", "generation", "backup"],
    "additionalProperties": False,
    "properties": {"id": {"type": "string"}, "generation": {"type": "integer"}, "backup": {"type": ["string", "null"]}},
}
_ARTICLE_WRITTEN = {
    "type": "object",
    "required": ["feed", "id", "path", "generation", "etag", "backup"],
    "additionalProperties": False,
    "properties": {
        "feed": {"type": "string"},
        "id": {"type": "string"},
        "path": {"type": "string"},
        "generation": {"type": "integer"},
        "etag": {"type": "string"},
        "backup": {"type": ["string", "null"]},
    },
}
_ARTICLE_DELETED = {
    "type": "object",
    "required": ["feed", "id", "generation", "backup"],
    "additionalProperties": False,
    "properties": {
        "feed": {"type": "string"},
        "id": {"type": "string"},
        "generation": {"type": "integer"},
        "backup": {"type": ["string", "null"]},
    },
}
_ARTICLE_JSON = {
    "type": "object",
    "required": ["body"],
    "description": "the front matter fields of an article file (title, date, ... see README), plus its body",
    "properties": {"body": {"type": "string"}, "format": {"enum": ["markdown", "html"], "default": "markdown"}},
}
_NUMBER = {"type": ["integer", "number", "null"]}
#: Counting columns (docs/tracking.md): integers, and ``ctr`` a fraction or null when nothing was served.
_COUNT_COLUMNS = {
    "served": _COUNT,
    "rendered": _COUNT,
    "clicks": _COUNT,
    "ctr": {"type": ["number", "null"], "minimum": 0},
}
#: Totals also carry ``fetches`` (responses with ads); rows per space or unit do not (a fetch has no space).
_COUNTS = {
    "type": "object",
    "required": [*_COUNT_COLUMNS, "fetches"],
    "additionalProperties": _NUMBER,
    "properties": {**_COUNT_COLUMNS, "fetches": _COUNT},
}
#: A row: its group's key (``day``; ``space``; ``space`` and ``unit``; ``partner``) and its counts.
_ROW = {
    "type": "object",
    "required": list(_COUNT_COLUMNS),
    "additionalProperties": _NUMBER,
    "properties": {**_COUNT_COLUMNS, **{k: {"type": "string"} for k in ("day", "space", "unit", "partner")}},
}
_STATS = {
    "type": "object",
    "required": ["since", "until", "by", "totals", "dropped", "rows", "replica"],
    "additionalProperties": False,
    "properties": {
        "since": {"type": ["string", "null"], "format": "date"},
        "until": {"type": ["string", "null"], "format": "date"},
        "by": {"enum": ["day", "space", "unit", "partner"]},
        "totals": {"$ref": "#/components/schemas/Counts"},
        "dropped": {**_COUNT, "description": "events lost to a full buffer"},
        "rows": {"type": "array", "items": {"$ref": "#/components/schemas/StatsRow"}},
        "replica": {
            "type": "object",
            "required": ["dropped_since_start", "pending"],
            "additionalProperties": False,
            "description": "the answering server's own running totals (the counts above are the store's)",
            "properties": {
                "dropped_since_start": {**_COUNT, "description": "events it lost to a full buffer since it started"},
                "pending": {**_COUNT, "description": "events it holds, not yet stored"},
            },
        },
    },
}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {"error": {"type": "string"}, "problems": _PROBLEMS},
}


def _json(ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


def _error(description: str) -> dict[str, Any]:
    return _json("Error", description)


_UNAUTHORIZED = {"401": _error("missing or wrong admin token")}
_TEXT = {"text/plain": {"schema": {"type": "string"}}}
_STATS_QUERY = [
    {
        "name": "since",
        "in": "query",
        "schema": {"type": "string", "format": "date"},
        "description": "first day counted (YYYY-MM-DD, UTC), inclusive",
    },
    {
        "name": "until",
        "in": "query",
        "schema": {"type": "string", "format": "date"},
        "description": "last day counted, inclusive",
    },
]
_STATS_ERRORS = {
    "400": _error("bad since, until or by"),
    **_UNAUTHORIZED,
    "503": _error("the tracking store cannot be read (logged)"),
}


def _optional_header(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "schema": {"type": "string"}, "description": description}


#: The headers of an admin write: the ETag it replaces (optional), and who makes it.
_IF_MATCH = _optional_header("If-Match", "the ETag from GET")
_ACTOR = _optional_header("X-Admin-Actor", "who, for the audit log")
_LINK = "the file is a symbolic link or not a regular file: never read or written through"
_SPACE_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"},
}


def openapi_document() -> dict[str, Any]:
    """The document; a fresh copy each call, so a caller may change it."""
    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Syndicate admin API",
                "version": "1",
                "description": "Status, reload, ad space and article files, previews and stats. See docs/ops.md.",
            },
            "servers": [{"url": "/"}],
            "security": [{"bearer": []}, {"basic": []}],
            "paths": {
                "/admin/status": {
                    "get": {
                        "summary": "Snapshot generation, counts, current errors and warnings, last reload, uptime",
                        "responses": {"200": _json("Status", "the server's state"), **_UNAUTHORIZED},
                    }
                },
                "/admin/reload": {
                    "post": {
                        "summary": "Reload config.yaml, feeds/ and adspaces/ now",
                        "responses": {
                            "200": _json("ReloadOutcome", "the new Snapshot is served"),
                            "409": _json("ReloadOutcome", "rejected: the last good Snapshot is still served"),
                            **_UNAUTHORIZED,
                        },
                    }
                },
                "/admin/adspaces": {
                    "get": {
                        "summary": "The ad spaces being served",
                        "responses": {"200": _json("SpaceList", "every loaded ad space"), **_UNAUTHORIZED},
                    }
                },
                "/admin/adspaces/{id}": {
                    "parameters": [_SPACE_ID],
                    "get": {
                        "summary": "An ad space file as it is on disk",
                        "responses": {
                            "200": {
                                "description": "the file; its ETag works with If-Match on PUT",
                                "content": {
                                    "application/yaml": {"schema": {"type": "string"}},
                                    "application/json": {"schema": {"$ref": "#/components/schemas/SpaceSource"}},
                                },
                            },
                            "400": _error("not a valid ad space id"),
                            **_UNAUTHORIZED,
                            "404": _error("no such file"),
                            "409": _error(_LINK),
                        },
                    },
                    "put": {
                        "summary": "Create or replace an ad space file, checked first, then reload",
                        "parameters": [_IF_MATCH, _ACTOR],
                        "requestBody": {
                            "required": True,
                            "content": {
                                "application/yaml": {"schema": {"type": "string"}},
                                "application/json": {"schema": {"type": "object"}},
                            },
                        },
                        "responses": {
                            "200": _json("SpaceWritten", "replaced and live"),
                            "201": _json("SpaceWritten", "created and live"),
                            "400": _error("not a valid ad space id"),
                            **_UNAUTHORIZED,
                            "409": _error(
                                "written, but the reload was rejected, so the file was put back; or "
                                + _LINK
                                + " (nothing written)"
                            ),
                            "412": _error("If-Match does not match the file"),
                            "413": {
                                "description": "body over 1 MiB",
                                "content": {"text/plain": {"schema": {"type": "string"}}},
                            },
                            "415": _error("not YAML or JSON"),
                            "422": _error("invalid ad space; nothing was written"),
                        },
                    },
                    "delete": {
                        "summary": "Delete an ad space file (backed up first), then reload",
                        "parameters": [_ACTOR],
                        "responses": {
                            "200": _json("SpaceDeleted", "deleted and live"),
                            "400": _error("not a valid ad space id"),
                            **_UNAUTHORIZED,
                            "404": _error("no such file"),
                            "409": _error(
                                "the reload was rejected (something still needs this space); file put "
                                "back; or " + _LINK + " (nothing deleted)"
                            ),
                        },
                    },
                },
                "/admin/articles/{feed}/{id}": {
                    "parameters": [
                        {"name": "feed", "in": "path", "required": True, "schema": {"type": "string"}},
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$"},
                            "description": "the file name without its extension (feeds/<feed>/<id>.md or .html)",
                        },
                    ],
                    "get": {
                        "summary": "An article file as it is on disk",
                        "responses": {
                            "200": {
                                "description": "the file; its ETag works with If-Match on PUT",
                                "content": {t: {"schema": {"type": "string"}} for t in ("text/markdown", "text/html")},
                            },
                            "400": _error("not a valid article id"),
                            **_UNAUTHORIZED,
                            "404": _error("no such file"),
                            "409": _error(_LINK),
                        },
                    },
                    "put": {
                        "summary": "Create or replace an article, checked like a file, written atomically, then reload",
                        "description": "Live when the answer comes. See docs/ingest.md.",
                        "parameters": [_IF_MATCH, _ACTOR],
                        "requestBody": {
                            "required": True,
                            "content": {
                                "text/markdown": {
                                    "schema": {"type": "string"},
                                    "description": "front matter + Markdown",
                                },
                                "text/html": {"schema": {"type": "string"}, "description": "front matter + HTML"},
                                "application/json": {"schema": {"$ref": "#/components/schemas/ArticleJson"}},
                            },
                        },
                        "responses": {
                            "200": _json("ArticleWritten", "replaced and live"),
                            "201": _json("ArticleWritten", "created and live"),
                            "400": _error("not a valid article id"),
                            **_UNAUTHORIZED,
                            "409": _error(
                                "written, but the reload was rejected, so the file was put back; or "
                                + _LINK
                                + " (nothing written)"
                            ),
                            "412": _error("If-Match does not match the file"),
                            "413": {"description": "body over 1 MiB", "content": _TEXT},
                            "415": _error("not text/markdown, text/html or application/json"),
                            "422": _error("invalid article: every problem listed; nothing was written"),
                        },
                    },
                    "delete": {
                        "summary": "Delete an article file (backed up first), then reload",
                        "parameters": [_ACTOR],
                        "responses": {
                            "200": _json("ArticleDeleted", "deleted and live"),
                            "400": _error("not a valid article id"),
                            **_UNAUTHORIZED,
                            "404": _error("no such file"),
                            "409": _error("the reload was rejected; file put back; or " + _LINK),
                        },
                    },
                },
                "/admin/preview/{feed}/{article_id}": {
                    "get": {
                        "summary": "One article as a partner would receive it, with the ads resolved",
                        "parameters": [
                            {"name": "feed", "in": "path", "required": True, "schema": {"type": "string"}},
                            {
                                "name": "article_id",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "string"},
                                "description": "the article id (may contain '/') or its file name without extension",
                            },
                            {"name": "partner", "in": "query", "schema": {"type": "string", "default": "public"}},
                            {
                                "name": "format",
                                "in": "query",
                                "schema": {"enum": list(PREVIEW_FORMATS), "default": "html"},
                            },
                            {
                                "name": "via",
                                "in": "query",
                                "schema": {"enum": list(FORMATS), "default": "rss"},
                                "description": "html only: resolve ads as for this feed format",
                            },
                            {
                                "name": "at",
                                "in": "query",
                                "schema": {"type": "string", "format": "date-time"},
                                "description": "resolve ads for the rotation window holding this time",
                            },
                        ],
                        "responses": {
                            "200": {
                                "description": "a page for people, or a one-item feed",
                                "content": {
                                    t: {"schema": {"type": "string"}}
                                    for t in (
                                        "text/html",
                                        "application/rss+xml",
                                        "application/atom+xml",
                                        "application/feed+json",
                                    )
                                },
                            },
                            "400": _error("bad format, via or at"),
                            **_UNAUTHORIZED,
                            "403": _error("this partner may not read this feed in this format"),
                            "404": _error("unknown partner, feed or article"),
                        },
                    }
                },
                "/admin/stats": {
                    "get": {
                        "summary": "The stats page for people: a chart by day, tables by space, unit and partner",
                        "description": "Open it in a browser: it answers the 401 with a login prompt; "
                        "give any user name and the admin token as password (Basic).",
                        "parameters": _STATS_QUERY,
                        "responses": {
                            "200": {
                                "description": "an HTML page",
                                "content": {"text/html": {"schema": {"type": "string"}}},
                            },
                            **_STATS_ERRORS,
                        },
                    }
                },
                "/admin/stats.json": {
                    "get": {
                        "summary": "Served, rendered and clicked ads with CTR, grouped one way (see docs/tracking.md)",
                        "parameters": [
                            *_STATS_QUERY,
                            {
                                "name": "by",
                                "in": "query",
                                "schema": {"enum": ["day", "space", "unit", "partner"], "default": "space"},
                            },
                        ],
                        "responses": {"200": _json("Stats", "totals and one row per group"), **_STATS_ERRORS},
                    }
                },
                "/admin/metrics": {
                    "get": {
                        "summary": "Prometheus metrics (metrics.expose: admin, the default; see docs/ops.md, Metrics)",
                        "responses": {
                            "200": {
                                "description": "the Prometheus text format",
                                "content": {"text/plain": {"schema": {"type": "string"}}},
                            },
                            **_UNAUTHORIZED,
                        },
                    }
                },
                "/admin/openapi.json": {
                    "get": {
                        "summary": "This document",
                        "responses": {
                            "200": {
                                "description": "OpenAPI 3.1",
                                "content": {"application/json": {"schema": {"type": "object"}}},
                            },
                            **_UNAUTHORIZED,
                        },
                    }
                },
            },
            "components": {
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "the token from $SYNDICATE_ADMIN_TOKEN",
                    },
                    "basic": {
                        "type": "http",
                        "scheme": "basic",
                        "description": "any user name, the admin token as password (what browsers send)",
                    },
                },
                "schemas": {
                    "Problem": _PROBLEM,
                    "ReloadOutcome": _OUTCOME,
                    "Status": _STATUS,
                    "SpaceList": _SPACES,
                    "SpaceSource": _SOURCE,
                    "SpaceWritten": _WRITTEN,
                    "SpaceDeleted": _DELETED,
                    "ArticleWritten": _ARTICLE_WRITTEN,
                    "ArticleDeleted": _ARTICLE_DELETED,
                    "ArticleJson": _ARTICLE_JSON,
                    "Counts": _COUNTS,
                    "StatsRow": _ROW,
                    "Stats": _STATS,
                    "Error": _ERROR,
                },
            },
        }
    )
