"""adspaces/*.yaml: the sample loads, and every mistake is named with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.ads.loader import load_spaces
from syndicate.ads.model import Fallback, Selection, UnitType
from syndicate.problems import ProblemList
from tests.conftest import ROOT


def absolute(url: str) -> str:
    return url if "://" in url else "https://news.test/" + url.lstrip("/")


def load(folder: Path) -> tuple[dict[str, object], list[str]]:
    problems = ProblemList()
    spaces = load_spaces(folder, problems, absolute, lambda html: html.replace("<script>x</script>", ""))
    return dict(spaces), [p.format(folder) for p in problems]


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


UNIT = "  - id: u1\n    type: image\n    url: https://ad.test/\n    src: /a.png\n"


def test_sample_spaces_load() -> None:
    problems = ProblemList()
    spaces = load_spaces(ROOT / "adspaces", problems, absolute, str)
    assert list(problems) == []
    four = spaces["4"]
    assert (four.selection, four.fallback, four.if_empty, four.label) == (
        Selection.WEIGHTED,
        Fallback.HIDE,
        "5",
        "Advertisement",
    )
    assert [u.type for u in four.units] == [UnitType.IMAGE, UnitType.IMAGE, UnitType.TEXT]
    assert four.units[2].house and four.units[0].weight == 3


def test_defaults_and_relative_src(tmp_path: Path) -> None:
    spaces, problems = load(write(tmp_path, "7.yaml", "units:\n" + UNIT))
    assert problems == []
    space = spaces["7"]
    assert space.max_ads == 1 and space.label == "Advertisement"  # type: ignore[attr-defined]
    assert space.units[0].src == "https://news.test/a.png"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("units:\n" + UNIT + "    wieght: 3\n", "7.yaml:6: error: units[0].wieght: unknown field"),
        ("units:\n  - id: u1\n    type: image\n    src: /a.png\n", "7.yaml:2: error: units[0].url: required"),
        (
            "units:\n" + UNIT.replace("image", "video"),
            "7.yaml:3: error: units[0].type: expected one of image, text, html, got 'video'",
        ),
        (
            "units:\n" + UNIT + "    start: 2024-02-01T00:00:00Z\n    end: 2024-01-01T00:00:00Z\n",
            "7.yaml:7: error: units[0].end: must be after start",
        ),
        (
            "units:\n" + UNIT + "    start: 2024-02-01T00:00:00\n",
            "7.yaml:6: error: units[0].start: timestamp has no timezone",
        ),
        ("units:\n" + UNIT + UNIT, "7.yaml:6: error: units[1].id: duplicate unit id 'u1'"),
        ("id: '8'\nunits:\n" + UNIT, "7.yaml:1: error: id: must match the file name '7'"),
        ("units:\n" + UNIT + "    url: javascript:alert(1)\n", "7.yaml:6: error: duplicate key 'url'"),
        ("selection: random\nunits:\n" + UNIT, "7.yaml:1: error: selection: expected one of weighted"),
        (
            "units:\n  - id: h\n    type: html\n    html: <script>x</script>\n",
            "7.yaml:4: error: units[0].html: nothing is left after removing scripts",
        ),
        (
            "units:\n  - id: h\n    type: html\n    url: https://ad.test/\n    html: '" + "<div>" * 5000 + "'\n",
            "7.yaml:5: error: units[0].html: markup nests deeper than 100 elements",
        ),
        ("units: [\n", "7.yaml:2: error: invalid YAML"),
    ],
)
def test_mistakes_are_located(tmp_path: Path, text: str, expected: str) -> None:
    spaces, problems = load(write(tmp_path, "7.yaml", text))
    assert "7" not in spaces
    assert any(p.startswith(expected) for p in problems), problems


def test_click_url_must_be_http(tmp_path: Path) -> None:
    _, problems = load(write(tmp_path, "7.yaml", "units:\n" + UNIT.replace("https://ad.test/", "ftp://x/")))
    assert problems == ["7.yaml:4: error: units[0].url: expected an http(s) URL, got 'ftp://x/'"]


def test_cross_references(tmp_path: Path) -> None:
    write(tmp_path, "1.yaml", "if_empty: '2'\nunits:\n" + UNIT)
    write(tmp_path, "2.yaml", "if_empty: '1'\nunits:\n" + UNIT)
    write(tmp_path, "3.yaml", "if_empty: '9'\nunits:\n" + UNIT)
    _, problems = load(tmp_path)
    assert "1.yaml: warning: if_empty chain loops: 1 -> 2 -> 1" in problems
    assert "3.yaml:1: error: if_empty: no ad space '9'" in problems


def test_missing_folder_is_a_warning(tmp_path: Path) -> None:
    problems = ProblemList()
    assert load_spaces(tmp_path / "nope", problems, absolute, str) == {}
    assert [p.format(tmp_path) for p in problems] == [
        "nope: warning: ad spaces folder not found: every ad shortcode renders as nothing"
    ]
