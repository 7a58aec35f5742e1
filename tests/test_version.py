"""One version string: written in syndicate/__init__.py, read by the package metadata and ``--version``."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest

import syndicate
from syndicate.cli import main
from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_version_is_written_once() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "syndicate.__version__"}
    assert importlib.metadata.version("syndicate") == syndicate.__version__


def test_version_flag_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"syndicate {syndicate.__version__}\n"


def test_the_package_says_it_is_typed() -> None:
    """PEP 561: type checkers read the annotations of an installed syndicate only with this marker."""
    assert (Path(syndicate.__file__).parent / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["syndicate"]
