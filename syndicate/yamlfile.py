"""YAML with line numbers, duplicate-key errors and a cap on alias expansion.

PyYAML's plain ``safe_load`` forgets where each value came from and happily
expands a "billion laughs" of nested aliases. Ops need ``file:line`` in every
message and the server must survive any file, so we compose the node graph and
convert it ourselves.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from syndicate.problems import Level, LoadError, Problem

MAX_NODES = 100_000
#: libyaml's parser when PyYAML was built with it (several times faster on front matter), else pure Python.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 100  # nesting levels; far beyond any real file, far below Python's recursion limit
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_STR = "tag:yaml.org,2002:str"


class YMap(dict[str, Any]):
    """A YAML mapping that remembers its own line and the line of each key."""

    line: int
    key_lines: dict[str, int]


class YList(list[Any]):
    """A YAML sequence that remembers its own line and each item's line."""

    line: int
    item_lines: list[int]


class _Converter:
    def __init__(self, path: Path, line_offset: int) -> None:
        self.path = path
        self.offset = line_offset
        self.budget = MAX_NODES
        self.depth = 0
        self.scalars = SafeConstructor()

    def line(self, node: Node) -> int:
        return int(node.start_mark.line) + 1 + self.offset

    def fail(self, node: Node, message: str) -> LoadError:
        return LoadError([Problem(self.path, self.line(node), Level.ERROR, message)])

    def convert(self, node: Node) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise self.fail(node, f"document too large: more than {MAX_NODES} values (nested aliases?)")
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:  # also stops an alias that contains itself
                raise self.fail(node, f"nested more than {MAX_DEPTH} levels deep (an alias inside itself?)")
            return self.container(node)
        finally:
            self.depth -= 1

    def scalar(self, node: ScalarNode) -> Any:
        if node.tag == _STR:  # what the constructor would return for text, without its bookkeeping
            return node.value
        try:
            return self.scalars.construct_object(node, deep=True)
        except (ValueError, OverflowError, TypeError) as exc:
            if node.tag == _TIMESTAMP:
                # "2020-09-31" looks like a date but is none: keep the text, so the field that reads it
                # reports it with its name and line (and a text field may use it as it is).
                return node.value
            raise self.fail(node, f"bad value: {exc}") from None
        except yaml.YAMLError as exc:
            raise self.fail(node, f"bad value: {getattr(exc, 'problem', exc)}") from None

    def container(self, node: Node) -> Any:
        if isinstance(node, SequenceNode):
            seq = YList(self.convert(child) for child in node.value)
            seq.line = self.line(node)
            seq.item_lines = [self.line(child) for child in node.value]
            return seq
        if isinstance(node, MappingNode):
            self.scalars.flatten_mapping(node)  # resolves "<<" merge keys
            mapping = YMap()
            mapping.line = self.line(node)
            mapping.key_lines = {}
            for key_node, value_node in node.value:
                key = self.convert(key_node)
                if not isinstance(key, (str, int, float, bool)) or key is None:
                    raise self.fail(key_node, "mapping keys must be plain text")
                key = str(key)
                if key in mapping:
                    raise self.fail(key_node, f"duplicate key {key!r}")
                mapping[key] = self.convert(value_node)
                mapping.key_lines[key] = self.line(key_node)
            return mapping
        raise self.fail(node, "unsupported YAML node")


def load_yaml(text: str, path: Path, line_offset: int = 0) -> Any:
    """Parse one YAML document; raise ``LoadError`` naming file and line on any fault.

    ``line_offset`` shifts reported lines, for YAML embedded in a larger file
    (front matter).
    """
    simple = read_simple(text, line_offset)
    if simple is not None:
        return simple
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except RecursionError:
        raise LoadError([Problem(path, 0, Level.ERROR, "invalid YAML: nested too deeply")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + line_offset) if mark is not None else 0
        message = str(exc.problem or exc.context or "invalid YAML")
        raise LoadError([Problem(path, line, Level.ERROR, f"invalid YAML: {message}")]) from None
    except yaml.YAMLError as exc:
        raise LoadError([Problem(path, 0, Level.ERROR, f"invalid YAML: {exc}")]) from None
    if node is None:
        return None
    try:
        return _Converter(path, line_offset).convert(node)
    except RecursionError:  # PyYAML's own merge-key ("<<") resolution recurses through aliases
        raise LoadError([Problem(path, 0, Level.ERROR, "invalid YAML: nested too deeply")]) from None


# The plain subset most front matter is written in: ``key: value`` lines, and under a key a list (``- item``
# lines, or ``[a, b]``) or a mapping of ``key: value`` lines; every value a one-line scalar that YAML reads
# as text (or a plain decimal integer). Read line by line, it takes a fraction of the time of libyaml and
# PyYAML's node objects; anything else (comments, blank lines, tabs, anchors, block scalars, dates, ...) is
# left to the full parser. ``tests/test_yaml_simple.py`` holds the two to the same values and lines.

_SIMPLE_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*+):(?: ++(.*+))?")
_SIMPLE_ITEM = re.compile(r"- ++(.++)")
_NOT_SIMPLE = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_PLAIN_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
_DECIMAL = re.compile(r"0|[1-9][0-9]*+")
_IMPLICIT = Resolver()  # the tags CSafeLoader gives plain scalars
_STR_TAG = Resolver.DEFAULT_SCALAR_TAG
_INT_TAG = "tag:yaml.org,2002:int"
# Resolver.resolve looks a plain scalar's tag up by its first character: one no implicit tag starts with is text.
_TAGGED_START = (
    frozenset(Resolver.yaml_implicit_resolvers)
    if None not in Resolver.yaml_implicit_resolvers and not Resolver.yaml_path_resolvers
    else None
)
_text_keys: dict[str, bool] = {}  # whether a plain key reads as text (keys repeat from file to file)


def _plain_tag(value: str) -> str:
    if _TAGGED_START is not None and value[0] not in _TAGGED_START:
        return _STR_TAG
    return str(_IMPLICIT.resolve(ScalarNode, value, (True, False)))  # type: ignore[no-untyped-call]


def _text_key(key: str) -> bool:
    known = _text_keys.get(key)
    if known is None:
        if len(_text_keys) >= 1024:
            _text_keys.clear()
        known = _text_keys[key] = _plain_tag(key) == _STR_TAG
    return known


def read_simple(text: str, line_offset: int = 0) -> YMap | None:
    """``text`` as ``load_yaml`` reads it, when it is in the plain subset above; else None."""
    if not text or _NOT_SIMPLE.search(text) is not None:
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    read = _simple_mapping(lines, 0, "", line_offset)
    return read[0] if read is not None and read[1] == len(lines) else None


def _simple_mapping(lines: list[str], start: int, indent: str, offset: int) -> tuple[YMap, int] | None:
    """The mapping whose keys stand at ``indent`` from line ``start`` on, and the line after it."""
    mapping = YMap()
    mapping.key_lines = {}
    at, width, count = start, len(indent), len(lines)
    while at < count:
        line = lines[at]
        if width and (not line.startswith(indent) or line[width : width + 1] == " "):
            break
        found = _SIMPLE_KEY.fullmatch(line, width)
        if found is None:
            return None
        key, raw = found.group(1, 2)
        if key in mapping or not _text_key(key):
            return None
        line_number = at + 1 + offset
        value: Any
        if raw is not None and raw.strip(" "):
            value = _simple_value(raw, line_number)
            at += 1
        elif indent:
            return None  # a nested block: one level is all this reads
        else:
            nested = _simple_block(lines, at + 1, offset)
            if nested is None:
                return None
            value, at = nested
        if value is None:
            return None
        mapping[key] = value
        mapping.key_lines[key] = line_number
    if not mapping:
        return None
    mapping.line = start + 1 + offset
    return mapping, at


def _simple_block(lines: list[str], start: int, offset: int) -> tuple[YMap | YList, int] | None:
    """The list or mapping under a key with no value on its line."""
    if start >= len(lines):
        return None
    first = lines[start]
    indent = first[: len(first) - len(first.lstrip(" "))]
    if indent == first:
        return None  # a blank line
    if first.startswith("- ", len(indent)):
        return _simple_list(lines, start, indent, offset)
    return _simple_mapping(lines, start, indent, offset) if indent else None


def _simple_list(lines: list[str], start: int, indent: str, offset: int) -> tuple[YList, int] | None:
    items = YList()
    items.item_lines = []
    at = start
    while at < len(lines) and lines[at].startswith(indent) and lines[at].startswith("- ", len(indent)):
        found = _SIMPLE_ITEM.fullmatch(lines[at], len(indent))
        item = _simple_scalar(found.group(1)) if found is not None else None
        if item is None:
            return None
        items.append(item)
        items.item_lines.append(at + 1 + offset)
        at += 1
    items.line = start + 1 + offset
    return items, at


def _simple_value(raw: str, line_number: int) -> Any:
    if raw.startswith("["):
        return _simple_flow_list(raw.rstrip(" "), line_number)
    return _simple_scalar(raw)


def _simple_flow_list(raw: str, line_number: int) -> YList | None:
    """``[a, b]`` of plain scalars, on one line."""
    if not raw.endswith("]"):
        return None
    inner = raw[1:-1]
    items = YList()
    items.line = line_number
    if inner.strip(" "):
        for piece in inner.split(","):
            word = piece.strip(" ")
            if not word or any(c in word for c in "[]{}:'\""):
                return None
            item = _simple_scalar(word)
            if item is None:
                return None
            items.append(item)
    items.item_lines = [line_number] * len(items)
    return items


def _simple_scalar(raw: str) -> str | int | None:
    """A one-line scalar that YAML reads as text (or a plain decimal integer); None for any other."""
    raw = raw.rstrip(" ")
    if not raw:
        return None
    first = raw[0]
    if first == "'":
        inner = raw[1:-1]
        if len(raw) < 2 or not raw.endswith("'") or "'" in inner.replace("''", ""):
            return None
        return inner.replace("''", "'")
    if first == '"':
        inner = raw[1:-1]
        if len(raw) < 2 or not raw.endswith('"') or '"' in inner or "\\" in inner:
            return None
        return inner
    if first in _PLAIN_START or "#" in raw or ": " in raw or raw.endswith(":"):
        return None
    tag = _plain_tag(raw)
    if tag == _STR_TAG:
        return raw
    if tag == _INT_TAG and _DECIMAL.fullmatch(raw):
        return int(raw)
    return None
