"""The syndicate command: check, render, and clean failures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from syndicate.cli import main
from tests.conftest import FEED_YAML, SAMPLE_CONFIG, SiteFactory, article
from tests.feedcheck import check_any


def test_check_passes_on_the_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(SAMPLE_CONFIG)]) == 0
    assert "0 error(s)" in capsys.readouterr().err


def test_check_lists_problems_and_fails(make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_site({"feeds/news/_feed.yaml": FEED_YAML, "feeds/news/bad.md": article(date="2024-01-01T00:00:00")})
    assert main(["check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "feeds/news/bad.md:3: error: front matter.date: timestamp has no timezone" in out


def test_check_json(make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_site({"feeds/news/_feed.yaml": FEED_YAML, "feeds/news/bad.md": "oops\n"})
    assert main(["check", "--config", str(config), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == 1
    assert report["problems"][0] == {
        "path": "feeds/news/bad.md",
        "line": 1,
        "level": "error",
        "message": "no front matter: an article starts with a '---' line, its YAML, then '---'",
    }


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_render_prints_a_valid_feed(capsysbinary: pytest.CaptureFixture[bytes], fmt: str) -> None:
    assert main(["render", "world", "--format", fmt, "--config", str(SAMPLE_CONFIG)]) == 0
    check_any(fmt, capsysbinary.readouterr().out.strip())


def test_serve_with_broken_config_prints_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("site: [\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "config.yaml:" in lines[0] and "invalid YAML" in lines[0]
    assert "Traceback" not in result.stderr
