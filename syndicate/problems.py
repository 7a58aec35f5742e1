"""Problems found while loading files: each names a file, a line and what is wrong.

Every loader reports through these instead of raising on the first fault, so
``syndicate check`` can list everything at once and the server can skip one bad
article while keeping the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    path: Path
    line: int  # 1-based; 0 when the problem concerns the file as a whole
    level: Level
    message: str

    def shown_path(self, root: Path | None) -> Path:
        """The path relative to ``root`` when inside it, else as it is."""
        if root is not None and self.path.is_relative_to(root):
            return self.path.relative_to(root)
        return self.path

    def format(self, root: Path | None = None) -> str:
        """``path:line: level: message``."""
        shown = self.shown_path(root)
        where = f"{shown}:{self.line}" if self.line else f"{shown}"
        return f"{where}: {self.level}: {self.message}"

    def as_dict(self, root: Path | None = None) -> dict[str, object]:
        return {
            "path": str(self.shown_path(root)),
            "line": self.line,
            "level": str(self.level),
            "message": self.message,
        }


class ProblemList(list[Problem]):
    """Collects problems; ``error``/``warning`` are shorthands that fill in the level."""

    def error(self, path: Path, line: int, message: str) -> None:
        self.append(Problem(path, line, Level.ERROR, message))

    def warning(self, path: Path, line: int, message: str) -> None:
        self.append(Problem(path, line, Level.WARNING, message))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self if p.level is Level.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self if p.level is Level.WARNING]


class LoadError(Exception):
    """Raised when a file cannot be used at all; carries the problems that say why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.format() for p in problems))
