"""config.yaml: defaults, and errors that name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.config import config_path, load_config
from syndicate.problems import LoadError
from tests.conftest import MINIMAL_CONFIG, SAMPLE_CONFIG, SiteFactory


def messages(path: Path) -> list[str]:
    with pytest.raises(LoadError) as caught:
        load_config(path)
    return [p.format(path.parent) for p in caught.value.problems]


def test_sample_config_loads() -> None:
    config = load_config(SAMPLE_CONFIG)
    assert config.site.base_url == "https://news.example.com"
    assert config.server.public_url == "http://127.0.0.1:8080"
    assert config.feeds_dir == SAMPLE_CONFIG.parent / "feeds"


def test_minimal_config_gets_defaults(make_site: SiteFactory) -> None:
    config = load_config(make_site())
    assert config.feed_defaults.items_per_page == 20
    assert config.site.tag_date == "2020-01-01"
    assert config.adspaces_dir.name == "adspaces"


def test_missing_required_field_names_it(make_site: SiteFactory) -> None:
    path = make_site(config="site:\n  base_url: https://x.test\n")
    assert messages(path) == ["config.yaml:1: error: site.title: required"]


def test_unknown_key_is_an_error_with_its_line(make_site: SiteFactory) -> None:
    path = make_site(config=MINIMAL_CONFIG + "  prot: 9090\n")
    assert messages(path) == ["config.yaml:8: error: server.prot: unknown field"]


def test_wrong_types_are_each_reported(make_site: SiteFactory) -> None:
    path = make_site(
        config=MINIMAL_CONFIG.replace("port: 8080", "port: eighty").replace("https://news.test", "news.test")
    )
    found = messages(path)
    assert "config.yaml:3: error: site.base_url: expected an absolute http(s) URL, got 'news.test'" in found
    assert "config.yaml:7: error: server.port: expected a whole number from 1 to 65535, got 'eighty'" in found


def test_yaml_syntax_error_names_the_line(make_site: SiteFactory) -> None:
    path = make_site(config=MINIMAL_CONFIG + "feeds: [unclosed\n")
    (found,) = messages(path)
    assert found.startswith("config.yaml:")
    assert "invalid YAML" in found


def test_duplicate_key_is_an_error(make_site: SiteFactory) -> None:
    path = make_site(config=MINIMAL_CONFIG + "site:\n  title: again\n")
    assert messages(path) == ["config.yaml:8: error: duplicate key 'site'"]


def test_alias_bomb_is_refused(make_site: SiteFactory) -> None:
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    for level in "bcdefghij":
        prev = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
    path = make_site(config=MINIMAL_CONFIG + bomb)
    (found,) = messages(path)
    assert "document too large" in found


def test_missing_file_is_reported(tmp_path: Path) -> None:
    assert messages(tmp_path / "nope.yaml") == ["nope.yaml: error: config file not found"]


def test_config_path_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_CONFIG", "/etc/from-env.yaml")
    assert config_path("given.yaml") == Path("given.yaml")
    assert config_path(None) == Path("/etc/from-env.yaml")
    monkeypatch.delenv("SYNDICATE_CONFIG")
    assert config_path(None) == Path("config.yaml")
