"""The docs show what the code does: their examples load, their tables render whole."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from syndicate.cli import main
from tests.conftest import ROOT

DOCS = ROOT / "docs"
_YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def sample_copy(tmp_path: Path) -> Path:
    """The bundled sample site in a temp folder, to change one file of it."""
    for name in ("feeds", "adspaces"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    return tmp_path / "config.yaml"


def yaml_examples(doc: str) -> list[str]:
    return _YAML_BLOCK.findall((DOCS / doc).read_text(encoding="utf-8"))


def test_ads_doc_has_examples() -> None:
    assert yaml_examples("ads.md"), "docs/ads.md lost its adspaces/<id>.yaml example"


@pytest.mark.parametrize("example", yaml_examples("ads.md"))
def test_ads_doc_examples_pass_check(tmp_path: Path, capsys: pytest.CaptureFixture[str], example: str) -> None:
    """Each example, as the sample site's adspaces/4.yaml, loads without an error."""
    config = sample_copy(tmp_path)
    (tmp_path / "adspaces/4.yaml").write_text(example, encoding="utf-8")
    code = main(["check", "--config", str(config)])
    errors = [line for line in capsys.readouterr().out.splitlines() if ": error: " in line]
    assert (code, errors) == (0, [])


@pytest.mark.parametrize("doc", [*sorted(p.name for p in DOCS.glob("*.md")), "../README.md"])
def test_every_table_row_renders(doc: str) -> None:
    """A blank line or a broken row ends a Markdown table: the rows after it show as a paragraph of pipes."""
    text = (DOCS / doc).read_text(encoding="utf-8")
    outside_code = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    rows = [
        line
        for line in outside_code.splitlines()
        if line.startswith("|") and not re.fullmatch(r"\|(?:\s*:?-+:?\s*\|)+", line.strip())
    ]
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert html.count("<tr>") == len(rows)
