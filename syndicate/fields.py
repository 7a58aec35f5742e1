"""Typed, located reads of YAML mappings: every bad or unknown field is reported
with its file, line and dotted name, and reading goes on so all faults show at once."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from syndicate.problems import ProblemList
from syndicate.textclean import clean_text
from syndicate.timestamps import checked, parse_timestamp
from syndicate.urls import as_uri, is_http_url
from syndicate.yamlfile import YList, YMap

T = TypeVar("T")
#: A bad value is shown in an error up to this many characters.
MAX_SHOWN = 200
_KINDS = {
    "YList": "a list",
    "list": "a list",
    "YMap": "a mapping",
    "dict": "a mapping",
    "bool": "true or false",
    "int": "a number",
    "float": "a number",
    "str": "a text",
    "date": "a date",
    "datetime": "a timestamp",
}
#: Bounds for any whole number or number read from a file: what JSON and JavaScript hold exactly,
#: and far from float overflow when numbers are summed (weights) or multiplied (sizes).
MAX_INTEGER = 2**53 - 1
MAX_PIXELS = 100_000  # an image's or a creative's width or height
MAX_NUMBER = 1e15
_LANGUAGE = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$")


class Fields:
    """Reads the keys of one mapping; ``finish()`` reports keys nobody asked for.

    A section that is missing, or is not a mapping, is read through an empty reader (``written`` false):
    every read gives its default and nothing more is reported, so readers need no branch for it.
    """

    def __init__(
        self, mapping: YMap, path: Path, problems: ProblemList, prefix: str = "", anchor: int = 0, written: bool = True
    ) -> None:
        self.mapping = mapping
        self.anchor = anchor or mapping.line  # where a missing key is reported: the parent key's line
        self.path = path
        self.problems = problems
        self.prefix = prefix
        self.written = written  # false: stands for a missing or faulty section, already reported if it matters
        self.seen: set[str] = set()

    @classmethod
    def empty(cls, path: Path, problems: ProblemList, prefix: str, anchor: int) -> Fields:
        """A reader of nothing: each read gives its default, no ``required`` is reported."""
        mapping = YMap()
        mapping.line, mapping.key_lines = anchor, {}
        return cls(mapping, path, problems, prefix, anchor, written=False)

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

    def _required(self, key: str) -> None:
        if self.written:
            self.problems.error(self.path, self.line(key), f"{self.name(key)}: required")

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

    def _typed(
        self, key: str, default: T, required: bool, check: Callable[[Any], T | None], what: str, secret: bool = False
    ) -> T:
        value = self.raw(key)
        if value is None:
            if required:
                self._required(key)
            return default
        converted = check(value)
        if converted is None:
            self.error(key, f"expected {what}, got {self.got(value, secret)}")
            return default
        return converted

    def text(self, key: str, default: str = "", required: bool = False, secret: bool = False) -> str:
        """Text as written, less the characters XML forbids (a YAML escape can write any of them)."""

        def check(v: Any) -> str | None:
            if isinstance(v, (bool, dict, list)):
                return None
            if isinstance(v, (dt.date, dt.datetime)):
                return None
            text = clean_text(str(v))
            return text if (text.strip() or not required) else None

        return self._typed(key, default, required, check, "text", secret)

    def url(
        self, key: str, absolute: Callable[[str], str] | None = None, required: bool = False, default: str = ""
    ) -> str:
        """An http(s) URL, relative ones resolved by ``absolute``; any other scheme, a space or a
        control character in it is an error (and gives ``""``). Other characters a URI may not hold
        are percent-encoded (``urls.as_uri``)."""
        value = self.raw(key)
        if value is None:
            if required:
                self._required(key)
            return default
        url = value.strip() if isinstance(value, str) else ""
        if url and absolute is not None:
            try:
                url = absolute(url)
            except ValueError:  # urljoin refuses e.g. "http://[::1"
                url = ""
        if not is_http_url(url):
            kind = "an http(s) URL" if absolute is not None else "an absolute http(s) URL"
            self.error(key, f"expected {kind}, got {self.got(value)}")
            return ""
        return as_uri(url)

    def language(self, key: str, default: str) -> str:
        """A language tag such as ``en`` or ``pt-BR`` (RFC 5646's shape; feeds carry it as it is)."""
        return self._typed(
            key,
            default,
            False,
            lambda v: v if isinstance(v, str) and _LANGUAGE.match(v) else None,
            "a language tag like en or pt-BR",
        )

    def integer(
        self, key: str, default: int = 0, required: bool = False, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        """A whole number within the bounds, and within ``MAX_INTEGER`` either way (no bool, no float)."""
        low = -MAX_INTEGER if minimum is None else minimum
        high = MAX_INTEGER if maximum is None else maximum

        def check(v: Any) -> int | None:
            if isinstance(v, bool) or not isinstance(v, int):
                return None
            return v if low <= v <= high else None

        bounds = ""
        if minimum is not None and maximum is not None:
            bounds = f" from {minimum} to {maximum}"
        elif minimum is not None:
            bounds = f" of at least {minimum}"
        elif maximum is not None:
            bounds = f" of at most {maximum}"
        return self._typed(key, default, required, check, f"a whole number{bounds}")

    def number(
        self, key: str, default: float = 0.0, minimum: float | None = None, maximum: float = MAX_NUMBER
    ) -> float:
        """A finite number within the bounds (no NaN, no infinity, no bool)."""

        def check(v: Any) -> float | None:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return None
            if not math.isfinite(v) or abs(v) > MAX_NUMBER:
                return None
            if (minimum is not None and v < minimum) or v > maximum:
                return None
            return float(v)

        what = "a finite number"
        if minimum is not None and maximum != MAX_NUMBER:
            what += f" from {minimum:g} to {maximum:g}"
        elif minimum is not None:
            what += f" of at least {minimum:g}"
        elif maximum != MAX_NUMBER:
            what += f" of at most {maximum:g}"
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
            return (clean_text(str(value)),)
        if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
            return tuple(clean_text(str(v)) for v in value)
        self.error(key, f"expected a list of texts, got {self.got(value, secret)}")
        return ()

    def datetime(self, key: str, required: bool = False) -> dt.datetime | None:
        """A timezone-aware timestamp in range; a naive one, a bare date or an impossible one is an error."""
        value = self.raw(key)
        if value is None:
            if required:
                self._required(key)
            return None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            self.error(key, "a date alone has no time or timezone; write e.g. 2020-09-14T10:00:00+00:00")
            return None
        if not isinstance(value, (str, dt.datetime)):
            self.error(key, f"expected a timestamp, got {self.got(value)}")
            return None
        try:
            return parse_timestamp(value) if isinstance(value, str) else checked(value)
        except ValueError as exc:
            self.error(key, str(exc))
            return None

    def section(self, key: str, required: bool = False) -> Fields:
        """The mapping under ``key``; an empty reader when it is missing or not a mapping (which is reported)."""
        value = self.raw(key)
        if value is None:
            if required:
                self._required(key)
        elif (fields := Fields.of(value, self.path, self.problems, self.name(key), self.line(key))) is not None:
            return fields
        return Fields.empty(self.path, self.problems, self.name(key), self.line(key))

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
