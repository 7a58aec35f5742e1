"""Errors about secret fields name the field, never the value: in check, logs, /admin/status and a 409 reload."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from syndicate.cli import main
from syndicate.problems import LoadError
from syndicate.tracking.keys import KEYS_ENV, load_keys
from syndicate.web.app import create_app
from tests.conftest import AppClient, SiteFactory
from tests.opsite import AUTH, PARTNER_KEY, TOKEN, ad_site

SECRET = "partner-a-demo-key"
#: Ways to get the type of a partner's keys wrong, each holding the secret.
BAD_KEYS = [f"[[{SECRET}]]", f"{{{SECRET}: 1}}", f"[{SECRET}, [x]]", f"[{SECRET}, true]", f"[{{a: {SECRET}}}]"]


def _with_keys(config: Path, keys: str) -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace(f"keys: [{PARTNER_KEY}]", f"keys: {keys}"), encoding="utf-8")


@pytest.mark.parametrize("keys", BAD_KEYS)
def test_check_names_the_field_not_the_keys(
    make_site: SiteFactory, capsys: pytest.CaptureFixture[str], keys: str
) -> None:
    config = ad_site(make_site)
    _with_keys(config, keys)
    for output in ("text", "json"):
        assert main(["check", "--config", str(config), "--format", output]) == 1
        shown = capsys.readouterr()
        assert "partners[0].keys" in shown.out + shown.err
        assert SECRET not in shown.out + shown.err


@pytest.mark.parametrize("keys", BAD_KEYS[:2])
async def test_a_rejected_reload_never_shows_the_keys(
    aiohttp_client: object,
    make_site: SiteFactory,
    keys: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    config = ad_site(make_site)
    client: AppClient = await aiohttp_client(create_app(config))  # type: ignore[operator]
    _with_keys(config, keys)
    with caplog.at_level(logging.DEBUG):
        response = await client.post("/admin/reload", headers=AUTH)
        assert response.status == 409
        rejected = await response.text()
        status = await (await client.get("/admin/status", headers=AUTH)).text()
    assert "partners[0].keys" in rejected and "partners[0].keys" in status
    for shown in (rejected, status, caplog.text):
        assert SECRET not in shown


@pytest.mark.parametrize(
    "entry",
    [
        "0123456789abcdefghij:k1",  # written secret:id, the secret not a valid id
        "sEcReT0123:k1",  # secret:id, the secret a valid id, the "secret" too short
        "k1:sEcReT0123,k1:sEcReT0123-sEcReT0123",
    ],
)
def test_signing_key_errors_never_print_what_may_be_the_secret(monkeypatch: pytest.MonkeyPatch, entry: str) -> None:
    monkeypatch.setenv(KEYS_ENV, entry)
    with pytest.raises(LoadError) as caught:
        load_keys(None)
    message = caught.value.problems[0].format()
    assert KEYS_ENV in message
    for part in entry.replace(",", ":").split(":"):
        if part != "k1" or entry.startswith("sEcReT"):
            assert part not in message
