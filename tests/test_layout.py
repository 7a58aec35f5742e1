"""The package's layout rules: names that say where things are, one home for each shared value."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import syndicate

PACKAGE = Path(syndicate.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def test_no_module_shadows_the_standard_library() -> None:
    """A module named like a standard one (``secrets``) is what ``import secrets`` finds when run from its folder."""
    shadowing = [_relative(p) for p in MODULES if p.stem in sys.stdlib_module_names]
    assert shadowing == []


def test_top_level_modules_and_subpackage_modules_do_not_share_a_name_for_different_jobs() -> None:
    """``syndicate/x.py`` beside ``syndicate/pkg/x.py`` reads as one thing in two places."""
    top = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    clashes = [_relative(p) for p in MODULES if p.parent != PACKAGE and p.stem in top]
    assert clashes == []


def _places(pattern: str) -> list[str]:
    regex = re.compile(pattern)
    return [
        f"{_relative(p)}:{n}"
        for p in MODULES
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if regex.search(line)
    ]


def test_the_format_names_are_written_once() -> None:
    """Partners, ad units and the OpenAPI document take the names from ``formats.FORMATS``."""
    assert _places(r"""["']rss["'],\s*["']atom["'],\s*["']json["']""") == []
    assert _files(_places(r"""^\s*["']rss["']: Format\(""")) == ["syndicate/formats/__init__.py"]


def _files(places: list[str]) -> list[str]:
    return [place.rsplit(":", 1)[0] for place in places]


def test_the_epoch_is_written_once() -> None:
    assert _files(_places(r"datetime\(2000, 1, 1\b")) == ["syndicate/timestamps.py"]


def test_the_content_file_reader_lives_with_the_other_file_readers() -> None:
    assert _files(_places(r"^def read_text\(")) == ["syndicate/files.py"]
