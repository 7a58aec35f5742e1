"""Typed, located reads of YAML mappings: every bad or unknown field is reported
with its file, line and dotted name, and reading goes on so all faults show at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from syndicate.problems import ProblemList
from syndicate.yamlfile import YList, YMap

T = TypeVar("T")
#: A bad value is shown in an error up to this many characters.
MAX_SHOWN = 200
_KINDS = {"YList": "a list", "list": "a list", "YMap": "a mapping", "dict": "a mapping", "bool": "true or false",
          "int": "a number", "float": "a number", "str": "a text", "date": "a date", "datetime": "a timestamp"}


class Fields:
    """Reads the keys of one mapping; ``finish()`` reports keys nobody asked for."""

    def __init__(self, mapping: YMap, path: Path, problems: ProblemList, prefix: str = "", anchor: int = 0) -> None:
        self.mapping = mapping
        self.anchor = anchor or mapping.line  # where a missing key is reported: the parent key's line
        self.path = path
        self.problems = problems
        self.prefix = prefix
        self.seen: set[str] = set()

    @classmethod
    def of(cls, value: Any, path: Path, problems: ProblemList, prefix: str, line: int) -> Fields | None:
        """Wrap ``value`` if it is a mapping, else report that it should be one."""
        if isinstance(value, YMap):
            return cls(value, path, problems, prefix, line)
        problems.error(path, line, f"{prefix or 'document'}: expected a mapping of keys to values")
        return None

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def line(self, key: str | None = None) -> int:
        return self.mapping.key_lines.get(key, self.anchor) if key else self.anchor

    def error(self, key: str, message: str) -> None:
        self.problems.error(self.path, self.line(key), f"{self.name(key)}: {message}")

    def warning(self, key: str, message: str) -> None:
        self.problems.warning(self.path, self.line(key), f"{self.name(key)}: {message}")

    def has(self, key: str) -> bool:
        return key in self.mapping and self.mapping[key] is not None

    def raw(self, key: str) -> Any:
        self.seen.add(key)
        return self.mapping.get(key)

    def got(self, value: Any, secret: bool = False) -> str:
        """How an error shows a bad value: ``repr`` cut short, or, for a field holding secrets, only its kind."""
        if secret:
            return f"{_KINDS.get(type(value).__name__, 'a value')} (not shown: this field holds secrets)"
        shown = repr(value)
        return shown if len(shown) <= MAX_SHOWN else shown[:MAX_SHOWN] + "…"

    def _typed(self, key: str, default: T, required: bool, check: Callable[[Any], T | None], what: str,
               secret: bool = False) -> T:
        value = self.raw(key)
        if value is None:
            if required:
                self.problems.error(self.path, self.line(key), f"{self.name(key)}: required")
            return default
        converted = check(value)
        if converted is None:
            self.error(key, f"expected {what}, got {self.got(value, secret)}")
            return default
        return converted

    def text(self, key: str, default: str = "", required: bool = False, secret: bool = False) -> str:
        def check(v: Any) -> str | None:
            if isinstance(v, (bool, dict, list)):
                return None
            if isinstance(v, (dt.date, dt.datetime)):
                return None
            text = str(v)
            return text if (text.strip() or not required) else None

        return self._typed(key, default, required, check, "text", secret)

    def integer(self, key: str, default: int = 0, required: bool = False, minimum: int | None = None,
            maximum: int | None = None) -> int:
        def check(v: Any) -> int | None:
            if isinstance(v, bool) or not isinstance(v, int):
                return None
            if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
                return None
            return v

        bounds = ""
        if minimum is not None and maximum is not None:
            bounds = f" from {minimum} to {maximum}"
        elif minimum is not None:
            bounds = f" of at least {minimum}"
        return self._typed(key, default, required, check, f"a whole number{bounds}")

    def number(self, key: str, default: float = 0.0, minimum: float | None = None) -> float:
        def check(v: Any) -> float | None:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return None
            if minimum is not None and v < minimum:
                return None
            return float(v)

        what = "a number" + (f" of at least {minimum}" if minimum is not None else "")
        return self._typed(key, default, False, check, what)

    def flag(self, key: str, default: bool = False) -> bool:
        return self._typed(key, default, False, lambda v: v if isinstance(v, bool) else None, "true or false")

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        def check(v: Any) -> str | None:
            return v if isinstance(v, str) and v in choices else None

        return self._typed(key, default, False, check, "one of " + ", ".join(choices))

    def str_list(self, key: str, secret: bool = False) -> tuple[str, ...]:
        """A list of texts; a single text is accepted as a list of one. ``secret``: errors never show the value."""
        value = self.raw(key)
        if value is None:
            return ()
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return (str(value),)
        if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
            return tuple(str(v) for v in value)
        self.error(key, f"expected a list of texts, got {self.got(value, secret)}")
        return ()

    def datetime(self, key: str, required: bool = False) -> dt.datetime | None:
        """A timezone-aware timestamp; a naive one or a bare date is an error."""
        value = self.raw(key)
        if value is None:
            if required:
                self.problems.error(self.path, self.line(key), f"{self.name(key)}: required")
            return None
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                self.error(key, f"expected a timestamp like 2020-09-14T10:00:00+03:00, got {value!r}")
                return None
        if isinstance(value, dt.datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                self.error(key, "timestamp has no timezone; add one, e.g. +00:00 or Z")
                return None
            return value
        if isinstance(value, dt.date):
            self.error(key, "a date alone has no time or timezone; write e.g. 2020-09-14T10:00:00+00:00")
            return None
        self.error(key, f"expected a timestamp, got {value!r}")
        return None

    def section(self, key: str, required: bool = False) -> Fields | None:
        value = self.raw(key)
        if value is None:
            if required:
                self.problems.error(self.path, self.line(key), f"{self.name(key)}: required")
            return None
        return Fields.of(value, self.path, self.problems, self.name(key), self.line(key))

    def sections(self, key: str) -> list[Fields]:
        """A list of mappings, each wrapped for reading."""
        value = self.raw(key)
        if value is None:
            return []
        if not isinstance(value, YList):
            self.error(key, "expected a list")
            return []
        out: list[Fields] = []
        for index, (item, line) in enumerate(zip(value, value.item_lines, strict=True)):
            fields = Fields.of(item, self.path, self.problems, f"{self.name(key)}[{index}]", line)
            if fields is not None:
                out.append(fields)
        return out

    def finish(self) -> None:
        """Report every key that no reader consumed: usually a typo."""
        for key in self.mapping:
            if key not in self.seen:
                self.error(key, "unknown field")
