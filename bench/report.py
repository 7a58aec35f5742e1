"""Printing for the benchmark: aligned tables, target verdicts, and a copy of everything in bench/out/.

The copy is written as the run goes (not at the end), so an interrupted run still leaves what it measured.
"""

from __future__ import annotations

import datetime as dt
import math
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TextIO


class Tee:
    """Everything printed goes to the terminal and to ``path``."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.file: TextIO = path.open("w", encoding="utf-8")
        self.stdout = sys.stdout

    def write(self, text: str) -> int:
        self.stdout.write(text)
        self.file.write(text)
        return len(text)

    def flush(self) -> None:
        self.stdout.flush()
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def teed(name: str, out: Path, repo: Path, run: Callable[[Path], None]) -> int:
    """Run a benchmark command: ``run`` gets a temporary folder, and everything it prints is also written to
    ``out/<name>-<time>.txt``. SIGTERM and SIGHUP unwind through every ``finally``, so servers and files go."""

    def exit_on_signal(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, exit_on_signal)
    signal.signal(signal.SIGHUP, exit_on_signal)
    tee = Tee(out / f"{name}-{dt.datetime.now():%Y%m%d-%H%M%S}.txt")
    sys.stdout = tee
    try:
        with tempfile.TemporaryDirectory(prefix="syndicate-bench-") as tmp:
            run(Path(tmp))
    finally:
        sys.stdout = tee.stdout
        tee.close()
        print(f"output written to {tee.path.relative_to(repo)}")
    return 0


def fmt(value: float, digits: int = 1) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned first column, right-aligned others: numbers line up."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def section(title: str, reproduce: str) -> None:
    print(f"\n== {title}\n   reproduce: {reproduce}", flush=True)


@dataclass(frozen=True, slots=True)
class Target:
    """One line of the summary: what was promised, what was measured, and whether it holds."""

    name: str
    goal: str
    measured: str
    ok: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return "n/a" if self.ok is None else ("PASS" if self.ok else "MISS")


def _measured(value: float, unit: str) -> str:
    return "not run" if math.isnan(value) else f"{fmt(value, 2)}{unit}"


def at_least(name: str, ratio: float, goal: float, unit: str = "×") -> Target:
    return Target(name, f">= {goal:.2f}{unit}", _measured(ratio, unit), None if math.isnan(ratio) else ratio >= goal)


def at_most(name: str, value: float, goal: float, unit: str = "×") -> Target:
    return Target(name, f"<= {goal:g}{unit}", _measured(value, unit), None if math.isnan(value) else value <= goal)


def summary(targets: Sequence[Target]) -> str:
    rows = [[t.name, t.goal, t.measured, t.verdict] for t in targets]
    passed = sum(1 for t in targets if t.ok)
    missed = sum(1 for t in targets if t.ok is False)
    return table(["target", "goal", "measured", "verdict"], rows) + f"\n{passed} PASS, {missed} MISS"
