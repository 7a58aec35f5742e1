"""YAML with line numbers, duplicate-key errors and a cap on alias expansion.

PyYAML's plain ``safe_load`` forgets where each value came from and happily
expands a "billion laughs" of nested aliases. Ops need ``file:line`` in every
message and the server must survive any file, so we compose the node graph and
convert it ourselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

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
