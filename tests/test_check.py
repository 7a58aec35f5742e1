"""``syndicate check`` covers config, ad spaces, articles and the references between them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from syndicate.advice import advice
from syndicate.cli import main
from syndicate.snapshot import build_snapshot
from tests.conftest import FEED_YAML, SiteFactory, article
from tests.opsite import CONFIG, space

BODY = """Intro with a [link](https://x.test/) and an aside [sic] and a footnote [1].

[gallery ids="1,2"]

[contact-form-7 id=3]

[note]Careful[/note] and [poll id=4] and [bsa_pro_ad_space id=top]
"""


def site(
    make_site: SiteFactory,
    body: str = "[bsa_pro_ad_space id=top]",
    extra: dict[str, str] | None = None,
    config: str = CONFIG,
) -> Path:
    return make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/one.md": article("One", body=body),
            "adspaces/top.yaml": space("Top ad"),
            "adspaces/acme-top.yaml": space("Acme ad"),
            **(extra or {}),
        },
        config=config,
    )


def check(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["check", "--config", str(config)])
    return code, capsys.readouterr().out.splitlines()


def test_a_clean_site_passes(make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(site(make_site), capsys) == (0, [])


def test_shortcode_like_text_is_a_warning_with_its_line(
    make_site: SiteFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = check(site(make_site, BODY), capsys)
    assert code == 0
    hint = (
        "looks like a shortcode that nothing handles; readers see it as text (list it in ads.strip_tags to remove it)"
    )
    assert lines == [
        f"feeds/news/one.md:7: warning: [gallery] {hint}",
        f"feeds/news/one.md:9: warning: [contact-form-7] {hint}",
        f"feeds/news/one.md:11: warning: [note] {hint}",
        f"feeds/news/one.md:11: warning: [poll] {hint}",
    ]


def test_stripped_tags_are_not_reported(make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> None:
    config = CONFIG + "ads:\n  strip_tags: [gallery, contact-form-7, note, poll]\n"
    assert check(site(make_site, BODY, config=config), capsys) == (0, [])


def test_unused_spaces_and_units_out_of_schedule(make_site: SiteFactory) -> None:
    schedule = (
        "  - id: old\n    type: text\n    url: https://ad.test/o\n    title: Old\n"
        "    start: 2001-01-01T00:00:00Z\n    end: 2002-01-01T00:00:00Z\n"
        "  - id: later\n    type: text\n    url: https://ad.test/l\n    title: Later\n"
        "    start: 2999-01-01T00:00:00Z\n"
    )
    config = site(make_site, extra={"adspaces/spare.yaml": space("Spare", schedule)})
    snapshot = build_snapshot(config)
    found = [p.format(config.parent) for p in advice(snapshot, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))]
    assert found == [
        "adspaces/spare.yaml: warning: ad space 'spare' is not used: no article, alias, partner override "
        "or if_empty names it",
        "adspaces/spare.yaml:7: warning: units[1] 'old': ended 2002-01-01T00:00:00+00:00; it is never served",
        "adspaces/spare.yaml:13: warning: units[2] 'later': starts 2999-01-01T00:00:00+00:00; not served before then",
    ]


def test_spaces_named_only_by_aliases_overrides_or_fallbacks_are_used(make_site: SiteFactory) -> None:
    config = CONFIG + 'ads:\n  aliases:\n    the_ad:\n      spaces: {"7": aliased}\n'
    path = site(
        make_site,
        "[bsa_pro_ad_space id=top if_empty=fallback]",
        config=config,
        extra={
            "adspaces/aliased.yaml": space("A"),
            "adspaces/fallback.yaml": space("F", "if_empty: chained\n"),
            "adspaces/chained.yaml": space("C"),
        },
    )
    assert advice(build_snapshot(path)) == []


@pytest.mark.parametrize(
    ("files", "config", "expected"),
    [
        (
            {},
            CONFIG.replace("top: {use: acme-top}", "top: {use: ghost}"),
            "config.yaml:17: error: acme: override names unknown ad space 'ghost'",
        ),
        (
            {"adspaces/top.yaml": space("Top", "if_empty: ghost\n")},
            CONFIG,
            "adspaces/top.yaml:7: error: if_empty: no ad space 'ghost'",
        ),
        (
            {"feeds/news/two.md": article("Two", body="x\n\n[bsa_pro_ad_space id=ghost]")},
            CONFIG,
            "feeds/news/two.md:7: warning: [bsa_pro_ad_space]: no ad space 'ghost'",
        ),
        (
            {"feeds/news/two.md": article("Two", body="[bsa_pro_ad_space id=top if_empty=ghost]")},
            CONFIG,
            "feeds/news/two.md:5: warning: [bsa_pro_ad_space]: if_empty: no ad space 'ghost'",
        ),
    ],
)
def test_cross_references(
    make_site: SiteFactory, capsys: pytest.CaptureFixture[str], files: dict[str, str], config: str, expected: str
) -> None:
    code, lines = check(site(make_site, extra=files, config=config), capsys)
    assert expected in lines
    assert code == (1 if ": error: " in expected else 0)


def test_json_output_counts_warnings_and_errors(make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> None:
    config = site(make_site, BODY, extra={"adspaces/top.yaml": space("Top", "if_empty: ghost\n")})
    assert main(["check", "--config", str(config), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == 1 and report["warnings"] == 4
    assert report["problems"][0] == {
        "path": "adspaces/top.yaml",
        "line": 7,
        "level": "error",
        "message": "if_empty: no ad space 'ghost'",
    }
    assert all(not p["path"].startswith("/") for p in report["problems"])
