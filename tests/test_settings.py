"""Settings declared once (syndicate/settings.py): the reader, the defaults, ``syndicate config`` and the
docs all follow the declarations, and a setting nobody declared or documented fails here."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from syndicate.cli import main
from syndicate.config import (
    AdsConfig,
    Config,
    FeedDefaults,
    HttpConfig,
    MetricsConfig,
    ServerConfig,
    SiteConfig,
    StoreConfig,
    TrackingConfig,
    load_config,
    read_config,
)
from syndicate.configdump import settings_tree
from syndicate.fields import Fields
from syndicate.problems import ProblemList
from syndicate.settings import SETTINGS, Kind, Setting, reference
from syndicate.yamlfile import load_yaml
from tests.conftest import MINIMAL_CONFIG, ROOT, SAMPLE_CONFIG, SiteFactory

#: Config fields that are not settings: where the file is, and whether public_url was written or derived.
NOT_SETTINGS = {"path", "root", "server.public_url_given"}
_TABLE = re.compile(r"<!-- settings:[^\n]*-->\n(.*?)<!-- end of settings -->", re.DOTALL)
SECTION_TYPES = (
    SiteConfig,
    ServerConfig,
    FeedDefaults,
    AdsConfig,
    HttpConfig,
    TrackingConfig,
    StoreConfig,
    MetricsConfig,
)
BASE = "site:\n  title: T\n  base_url: https://news.test\n"


def _config_fields() -> set[str]:
    """Every leaf of ``Config``, dotted: the fields of its section dataclasses, its other fields as they are."""
    out: set[str] = set()
    for name, hint in typing.get_type_hints(Config).items():
        if hint in SECTION_TYPES:
            out |= {f"{name}.{f.name}" for f in dataclasses.fields(hint)}
        else:
            out.add(name)
    return out


def test_every_config_field_is_a_declared_setting() -> None:
    """A field added to a Config dataclass without a declaration (and so without docs) fails here."""
    declared = {s.path for s in SETTINGS}
    assert _config_fields() - NOT_SETTINGS == declared


def test_the_docs_table_is_the_declarations() -> None:
    """docs/configuration.md carries ``syndicate config --reference``: regenerate it after changing a setting."""
    found = _TABLE.search((ROOT / "docs/configuration.md").read_text(encoding="utf-8"))
    assert found is not None, "docs/configuration.md lost its settings table markers"
    assert found.group(1) == reference()


def test_config_reference_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--reference"]) == 0
    assert capsys.readouterr().out == reference()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.key)
def test_every_setting_says_what_it_is(setting: Setting) -> None:
    assert setting.help.strip() and setting.type_text() and setting.default_text()
    assert len(set(s.key for s in SETTINGS)) == len(SETTINGS)


def test_a_minimal_config_has_every_declared_default(make_site: SiteFactory) -> None:
    """The defaults are written once, in the declarations: no section gives another value when left out."""
    config = load_config(make_site(config=BASE))
    tree = settings_tree(config)
    for s in SETTINGS:
        if s.kind in (Kind.CUSTOM, Kind.PATH) or s.required or s.shown:
            continue
        value = _at(tree, s.key)
        default = list(s.default) if isinstance(s.default, tuple) else s.default
        assert value == default, s.key
    assert config.feeds_dir == config.root / "feeds" and config.tracking.keys_file is None


def _at(tree: dict[str, Any], key: str) -> Any:
    node: Any = tree
    for part in key.split("."):
        node = node[part]
    return node


def test_the_dump_reads_back_as_the_same_config(tmp_path: Path) -> None:
    """``syndicate config`` writes config.yaml's own shape: read back, it is the config it came from
    (partners and the public profile aside: their keys are masked)."""
    config = load_config(SAMPLE_CONFIG)
    tree = settings_tree(config)
    del tree["partners"], tree["public"]
    tree["http"]["rate_limits"]["per_partner"] = {}
    copy = tmp_path / "config.yaml"
    copy.write_text(yaml.safe_dump(tree, sort_keys=False), encoding="utf-8")
    again = load_config(copy)
    assert [dataclasses.replace(a, line=0) for a in again.ads.aliases] == [
        dataclasses.replace(a, line=0) for a in config.ads.aliases
    ]
    assert dataclasses.replace(again.ads, aliases=()) == dataclasses.replace(config.ads, aliases=())
    unchanged = (
        "site",
        "feed_defaults",
        "tracking",
        "store",
        "metrics",
        "feeds_dir",
        "adspaces_dir",
        "data_dir",
        "admin_token_file",
    )
    assert {name: getattr(again, name) for name in unchanged} == {name: getattr(config, name) for name in unchanged}
    assert dataclasses.replace(again.http, partner_limits={}) == dataclasses.replace(config.http, partner_limits={})
    assert (again.server.host, again.server.port, again.server.public_url) == (
        config.server.host,
        config.server.port,
        config.server.public_url,
    )


def _bounded() -> list[Setting]:
    return [s for s in SETTINGS if s.kind in (Kind.INTEGER, Kind.NUMBER) and s.maximum is not None]


@pytest.mark.parametrize("setting", _bounded(), ids=lambda s: s.key)
def test_a_value_past_a_declared_bound_is_a_located_error(make_site: SiteFactory, setting: Setting) -> None:
    """Every bound in the table is the one the reader applies, named with the file, line and key."""
    assert setting.maximum is not None
    *sections, name = setting.key.split(".")
    integer = setting.kind is Kind.INTEGER
    too_big = str(int(setting.maximum) + 1) if integer else repr(setting.maximum + 1)
    text = BASE + "".join(f"{'  ' * depth}{section}:\n" for depth, section in enumerate(sections))
    text += f"{'  ' * len(sections)}{name}: {too_big}\n"
    path = make_site(config=text)
    config, problems = read_config(path)
    low, high = (str(int(v)) if integer else f"{v:g}" for v in (setting.minimum or 0, setting.maximum))
    kind = "a whole number" if integer else "a finite number"
    assert [p.format(path.parent) for p in problems] == [
        f"config.yaml:{text.count(chr(10))}: error: {setting.key}: expected {kind} from {low} to {high}, got {too_big}"
    ]
    assert _at(settings_tree(config), setting.key) == setting.default


def test_a_missing_section_reads_as_an_empty_one() -> None:
    problems = ProblemList()
    top = Fields.of(load_yaml("site: {title: T}\n", Path("c.yaml")), Path("c.yaml"), problems, "", 1)
    assert top is not None
    missing = top.section("server")
    assert (missing.written, missing.integer("port", 8080), missing.text("host", required=True)) == (False, 8080, "")
    missing.finish()
    assert problems == []


def test_a_section_that_is_not_a_mapping_is_reported_once(make_site: SiteFactory) -> None:
    path = make_site(config=MINIMAL_CONFIG + "tracking: [1, 2]\nmetrics: off\n")
    config, problems = read_config(path)
    assert [p.format(path.parent) for p in problems] == [
        "config.yaml:8: error: tracking: expected a mapping of keys to values",
        "config.yaml:9: error: metrics: expected a mapping of keys to values",
    ]
    assert (config.tracking.enabled, config.metrics.port) == (True, 9464)


def test_a_missing_site_is_one_error(make_site: SiteFactory) -> None:
    path = make_site(config="server:\n  port: 8080\n")
    _, problems = read_config(path)
    assert [p.format(path.parent) for p in problems] == ["config.yaml:1: error: site: required"]
