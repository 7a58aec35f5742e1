"""The URLs a server announces are the URLs it answers on; ``render`` is what the server sends;
``syndicate config`` shows the effective settings without a secret."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from syndicate.cli import main
from syndicate.config import default_public_url
from syndicate.configdump import MASK, plain
from syndicate.snapshot import Snapshot
from syndicate.tracking.keys import parse_keys
from syndicate.web.app import create_app
from tests.conftest import ROOT, SAMPLE_CONFIG, AppClient
from tests.feedcheck import NS, strict_xml

Client = Callable[..., Any]
SIGNING = "k1:render-and-serve-share-this-secret"
PARTNER_A = {"Authorization": "Bearer partner-a-demo-key"}


def sample_copy(folder: Path, config_extra: str = "") -> Path:
    for name in ("feeds", "adspaces"):
        shutil.copytree(ROOT / name, folder / name)
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    if config_extra:
        text = text.replace("server:\n", f"server:\n{config_extra}", 1)
    (folder / "config.yaml").write_text(text, encoding="utf-8")
    return folder / "config.yaml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextlib.contextmanager
def serving(config: Path, port: int, *extra: str) -> Iterator[Path]:
    """``syndicate serve`` in a subprocess until the block ends; yields the file its stderr goes to."""
    env = {**os.environ, "SYNDICATE_SIGNING_KEYS": SIGNING}
    env.pop("SYNDICATE_ADMIN_TOKEN", None)
    log = config.parent / "serve.log"
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "syndicate", "serve", "--config", str(config), "--port", str(port), *extra],
            env=env,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if fetch(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve did not start: {log.read_text(encoding='utf-8')}")
            time.sleep(0.1)
        yield log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def self_link(body: bytes) -> str:
    return next(
        link.get("href", "") for link in strict_xml(body).iterfind("channel/atom:link", NS) if link.get("rel") == "self"
    )


def generation(port: int) -> int:
    return int(orjson.loads(fetch(f"http://127.0.0.1:{port}/healthz")[1])["generation"])


def test_serve_port_flows_into_every_announced_url(tmp_path: Path) -> None:
    config = sample_copy(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serving(config, port) as log:
        status, rss = fetch(f"{base}/feeds/world.rss")
        assert status == 200 and self_link(rss) == f"{base}/feeds/world.rss"
        assert "127.0.0.1:8080" not in rss.decode()
        index = fetch(f"{base}/")[1].decode()
        assert f'href="{base}/feeds/world.rss"' in index and ":8080" not in index
        opml = fetch(f"{base}/feeds.opml")[1].decode()
        assert f'xmlUrl="{base}/feeds/world.rss"' in opml and ":8080" not in opml
        text = rss.decode().replace("&amp;", "&")
        clicks = set(re.findall(r"http://127\.0\.0\.1:\d+/c/[A-Za-z0-9_.-]+", text))
        pixels = set(re.findall(r"http://127\.0\.0\.1:\d+/i/[A-Za-z0-9_.-]+\.gif", text))
        assert clicks and pixels
        for url in clicks | pixels:
            assert url.startswith(f"{base}/")
            assert fetch(url)[0] in (200, 302)  # announced, and answered
        # A reload keeps the address: the derived public URL is not reset to config's port.
        before = generation(port)
        os.kill(int(orjson.loads(fetch(f"{base}/healthz")[1])["pid"]), signal.SIGHUP)
        deadline = time.monotonic() + 20
        while generation(port) == before:
            assert time.monotonic() < deadline, "SIGHUP did not reload"
            time.sleep(0.1)
        assert self_link(fetch(f"{base}/feeds/world.rss")[1]) == f"{base}/feeds/world.rss"
    assert f"public URL {base}" in log.read_text(encoding="utf-8")


def test_an_explicit_public_url_wins_over_the_port(tmp_path: Path) -> None:
    config = sample_copy(tmp_path, "  public_url: https://feeds.example.org\n")
    port = free_port()
    with serving(config, port) as log:
        rss = fetch(f"http://127.0.0.1:{port}/feeds/world.rss")[1]
        assert self_link(rss) == "https://feeds.example.org/feeds/world.rss"
    assert "public URL https://feeds.example.org" in log.read_text(encoding="utf-8")


def test_render_with_the_servers_port_prints_the_bytes_it_serves(tmp_path: Path) -> None:
    config = sample_copy(tmp_path)
    port = free_port()
    env = {**os.environ, "SYNDICATE_SIGNING_KEYS": SIGNING}
    with serving(config, port):
        for _ in range(3):  # a rotation window may end between the two; then both are asked again
            served = fetch(f"http://127.0.0.1:{port}/feeds/world.rss", PARTNER_A)[1]
            rendered = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "syndicate",
                    "render",
                    "world",
                    "--partner",
                    "partner-a",
                    "--config",
                    str(config),
                    "--port",
                    str(port),
                ],
                env=env,
                capture_output=True,
                timeout=60,
                check=True,
            ).stdout
            if served == rendered:
                break
        assert rendered == served


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 9101, "http://127.0.0.1:9101"),
        ("::1", 80, "http://[::1]:80"),
        ("0.0.0.0", 8000, "http://127.0.0.1:8000"),
        ("::", 8000, "http://[::1]:8000"),
        ("feeds.local", 8141, "http://feeds.local:8141"),
    ],
)
def test_the_default_public_url_is_reachable_text(host: str, port: int, url: str) -> None:
    assert default_public_url(host, port) == url


def test_config_prints_effective_settings_with_secrets_masked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", "admin-token-never-printed-123")
    monkeypatch.setenv("SYNDICATE_SIGNING_KEYS", "k9:signing-secret-never-printed")
    assert main(["config", "--config", str(SAMPLE_CONFIG), "--port", "9101"]) == 0
    out = capsys.readouterr().out
    for secret in (
        "admin-token-never-printed",
        "signing-secret-never-printed",
        "partner-a-demo-key",
        "partner-b-demo-key",
    ):
        assert secret not in out
    settings = yaml.safe_load(out)
    assert settings["server"] == {"host": "127.0.0.1", "port": 9101, "public_url": "http://127.0.0.1:9101"}
    partner_a = next(p for p in settings["partners"] if p["id"] == "partner-a")
    assert partner_a["keys"] == ["********"] and partner_a["query"]["utm_source"] == "partner-a"
    assert settings["http"]["rate_limits"]["public"] == {"rate": 2.0, "burst": 60.0}
    assert settings["http"]["cache_mb"] == 64
    assert settings["secrets"]["admin_token"].startswith("$SYNDICATE_ADMIN_TOKEN")
    assert settings["secrets"]["signing_keys"].startswith("$SYNDICATE_SIGNING_KEYS")


# -- render is what the server sends ---------------------------------------------------------------------


def test_render_refuses_what_the_server_refuses(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["render", "world", "--format", "rss", "--partner", "partner-b", "--config", str(SAMPLE_CONFIG)]) == 1
    captured = capsysbinary.readouterr()
    assert captured.out == b"" and b"403" in captured.err and b"partner-b" in captured.err


@pytest.mark.parametrize(
    ("fmt", "partner"), [("rss", "partner-a"), ("atom", "public"), ("json", "partner-b"), ("json", "partner-a")]
)
async def test_render_prints_the_servers_bytes(
    aiohttp_client: Client,
    sample: Snapshot,
    fmt: str,
    partner: str,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SYNDICATE_SIGNING_KEYS", SIGNING)
    client: AppClient = await aiohttp_client(create_app(sample))
    headers = {"Authorization": f"Bearer {partner}-demo-key"} if partner != "public" else {}
    for _ in range(3):  # a rotation window may end between the two; then both are asked again
        served = await (await client.get(f"/feeds/world.{fmt}", headers=headers)).read()
        assert main(["render", "world", "--format", fmt, "--partner", partner, "--config", str(SAMPLE_CONFIG)]) == 0
        rendered = capsysbinary.readouterr().out
        if rendered == served:
            break
    assert rendered == served
    if partner == "partner-a":  # and its ad links are the server's: signed with the same key, verifying
        tokens = re.findall(rb"/c/([A-Za-z0-9_.-]+)", rendered)
        assert tokens
        keys = parse_keys(SIGNING, "test")
        assert {keys.verify(t.decode()).partner for t in tokens} == {"partner-a"}


def test_render_without_signing_keys_links_directly_and_says_why(
    capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNDICATE_SIGNING_KEYS", raising=False)
    monkeypatch.delenv("SYNDICATE_SIGNING_KEYS_FILE", raising=False)
    assert main(["render", "world", "--partner", "partner-a", "--config", str(SAMPLE_CONFIG)]) == 0
    captured = capsysbinary.readouterr()
    assert b"/c/" not in captured.out and b"https://partner-a.example.com" in captured.out
    assert b"no signing keys" in captured.err


@pytest.mark.parametrize("command", ["render", "config"])
@pytest.mark.parametrize("port", ["0", "65536", "99999", "-1"])
def test_a_port_no_server_can_announce_is_a_usage_error(
    command: str, port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Port 0 listens on a port nobody knows (the links would say :0); above 65535 bind() raises."""
    args = [command, *(["world"] if command == "render" else []), "--config", str(SAMPLE_CONFIG), "--port", port]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--port" in err and "1 to 65535" in err


@pytest.mark.parametrize("port", ["0", "99999"])
def test_serve_refuses_a_port_it_could_not_announce(port: str) -> None:
    """``serve --port 0`` served while announcing ``http://127.0.0.1:0``; ``--port 99999`` died in bind()."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "syndicate", "serve", "--config", str(SAMPLE_CONFIG), "--port", port],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve --port {port} started serving")
    assert done.returncode == 2
    assert "1 to 65535" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://db.example/feeds?sslmode=require&password=query-secret-never-printed",
        "postgresql://app:query-secret-never-printed@[::1/feeds",
    ],
)
def test_a_store_url_with_a_password_anywhere_is_refused_and_never_printed(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """libpq reads ``?password=`` as the password, so config.yaml refuses it there as in ``user:password@``;
    a URL urlsplit cannot read (an unclosed ``[``) is the same located error, not a traceback."""
    config = sample_copy(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + f"\nstore:\n  url: {url!r}\n", encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 1
    captured = capsys.readouterr()
    assert "store.url" in captured.out + captured.err
    main(["config", "--config", str(config)])
    captured_config = capsys.readouterr()
    for text in (captured.out, captured.err, captured_config.out, captured_config.err):
        assert "query-secret-never-printed" not in text and "Traceback" not in text


def test_config_yaml_port_zero_is_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``server.port: 0`` would listen on a port nobody knows while every link says ``:0``."""
    config = sample_copy(tmp_path)
    config.write_text(config.read_text(encoding="utf-8").replace("port: 8080", "port: 0"), encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 1
    assert "server.port" in capsys.readouterr().out


def test_config_dump_masks_every_password_spelling() -> None:
    assert (
        plain("postgresql://app@db/feeds?sslmode=require&password=s3cret")
        == f"postgresql://app@db/feeds?sslmode=require&password={MASK}"
    )
    assert plain("postgresql://app:s3cret@db/feeds") == f"postgresql://app:{MASK}@db/feeds"
    assert plain("postgresql://app:s3cret@[::1/feeds") == MASK
