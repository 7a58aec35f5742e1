"""A real WordPress (Debian's package) for the import and upstream tests, on loopback, with its own config and data.

The site is built through WordPress's own API (``build_site.php`` includes wp-load.php and calls
wp_install, wp_insert_user, wp_insert_post, update_option, export_wp); its database and its config
file carry the test process id, so two test runs on one machine never share a site. The web server
(php-fpm + nginx) is only started for the tests that follow the site's ``/feed/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

WORDPRESS = Path("/usr/share/wordpress")
CONFIG_DIR = Path("/etc/wordpress")
DATA = Path(__file__).resolve().parent / "data" / "wordpress"
SAMPLE_ARTICLE = Path(__file__).resolve().parent.parent / "feeds" / "world" / "2020-09-14-putin-lukashenko-sochi.md"
DB_HOST, DB_PORT = "127.0.0.1", 3306
TIMEZONE = "Europe/Riga"  # local post_date differs from post_date_gmt, so a wrong zone shows


def _php_fpm() -> str | None:
    found = sorted(Path("/usr/sbin").glob("php-fpm*"))
    return str(found[-1]) if found else None


def missing_parts() -> list[str]:
    """What this machine lacks for a real WordPress; empty when everything is there."""
    missing = []
    if not (WORDPRESS / "wp-load.php").is_file():
        missing.append("Debian package wordpress")
    if not shutil.which("php"):
        missing.append("php")
    if _php_fpm() is None:
        missing.append("php-fpm")
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        missing.append("nginx-light")
    if not os.access(CONFIG_DIR, os.W_OK):
        missing.append(f"write access to {CONFIG_DIR} (Debian's wp-config.php reads its config there)")
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex((DB_HOST, DB_PORT)) != 0:
            missing.append(f"MariaDB on {DB_HOST}:{DB_PORT}")
    return missing


def require_wordpress() -> None:
    """Skip (outside CI) or fail (under CI=true) when WordPress cannot run here."""
    missing = missing_parts()
    if not missing:
        return
    reason = "a real WordPress needs: " + ", ".join(missing) + " (.ci/run installs them)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _sample_body() -> str:
    text = SAMPLE_ARTICLE.read_text(encoding="utf-8")
    return text.split("\n---\n", 1)[1]


def site_spec() -> dict[str, Any]:
    """What the site holds: every case the import must get right, plus filler up to 50+ posts."""
    posts: list[dict[str, Any]] = []

    def post(
        key: str,
        title: str,
        content: str,
        *,
        date: str,
        status: str = "publish",
        kind: str = "post",
        author: str = "ann",
        categories: tuple[str, ...] = ("World",),
        tags: tuple[str, ...] = (),
        excerpt: str = "",
        image: str = "",
        edit: str = "",
    ) -> None:
        posts.append(
            {
                "key": key,
                "title": title,
                "content": content,
                "date": date,
                "status": status,
                "type": kind,
                "author": author,
                "categories": list(categories),
                "tags": list(tags),
                "excerpt": excerpt,
                "image": image,
                "edit": edit,
            }
        )

    post(
        "sample",
        "Recapping Putin & Lukashenko’s Big Meeting in Sochi",
        "[bsa_pro_ad_space id=4]\n\n" + _sample_body(),
        date="2020-09-14 21:30:00",
        tags=("Russia", "Belarus", "Politics"),
        image="sochi",
        excerpt="Putin and Lukashenko met for almost five hours in Sochi.",
    )
    post(
        "classic",
        "Classic editor post",
        "First paragraph with the ad [bsa_pro_ad_space id=4] mid-sentence.\nA second line.\n\n"
        "[bsa_pro_ad_space id=4]\n\nLast paragraph.\n<pre>code\n\n  stays</pre>",
        date="2021-03-01 09:15:00",
        categories=("Économie",),
        tags=("Ads",),
    )
    post(
        "blocks",
        "Block editor post",
        "<!-- wp:paragraph -->\n<p>Block one, “quoted” and non\u00a0breaking.</p>\n<!-- /wp:paragraph -->\n\n"
        "<!-- wp:shortcode -->\n[bsa_pro_ad_space id=4]\n<!-- /wp:shortcode -->\n\n"
        '<!-- wp:heading {"level":3} -->\n<h3>Über uns</h3>\n<!-- /wp:heading -->\n\n'
        "<!-- wp:paragraph -->\n<p>Block two.</p>\n<!-- /wp:paragraph -->",
        date="2021-04-02 18:00:00",
        author="bob",
        tags=("Blocks", "Ünïcode"),
    )
    post(
        "caption",
        "Captioned photo",
        'Before.\n\n[caption id="attachment_9" align="aligncenter" width="300"]'
        '<img src="https://cdn.example.test/harbour.jpg" alt="Harbour" width="300" height="200" /> '
        "The harbour at dawn[/caption]\n\nAfter.",
        date="2021-05-03 07:00:00",
        image="harbour",
    )
    post(
        "others",
        "Other plugins' shortcodes",
        'A gallery [gallery ids="1,2"] and a form [contact-form-7 id="5"] and [sic] text.',
        date="2021-06-04 12:00:00",
        categories=("Sports",),
    )
    post("edited", "Edited later", "Original text.", date="2021-07-05 12:00:00", edit="Edited text.")
    post("future", "Scheduled for later", "Not yet.", date="2031-01-01 08:00:00", status="future")
    post("draft", "A draft", "Unfinished.", date="2021-08-01 10:00:00", status="draft")
    post("private", "A private post", "Secret.", date="2021-08-02 10:00:00", status="private")
    post("pending", "Pending review", "Waiting.", date="2021-08-03 10:00:00", status="pending")
    post("trashed", "Trashed post", "Gone.", date="2021-08-04 10:00:00")
    posts[-1]["status"] = "trash"
    post("page", "About us", "We are a newsroom.", date="2020-01-01 10:00:00", kind="page", categories=())
    for n in range(1, 46):
        ad = "\n\n[bsa_pro_ad_space id=4]\n\n" if n % 3 == 0 else "\n\n"
        post(
            f"filler{n}",
            f"Filler story number {n}",
            f"Story {n} opens here.{ad}Story {n} ends – “done”.",
            date=f"2022-{(n % 12) + 1:02d}-{(n % 27) + 1:02d} {(n % 24):02d}:30:00",
            author="bob" if n % 2 else "ann",
            categories=("World", "Sports")[n % 2 : n % 2 + 1],
            tags=(f"t{n % 5}",),
        )
    images = [
        {
            "key": "sochi",
            "title": "Sochi meeting",
            "url": "https://cdn.example.test/sochi.jpg",
            "file": "sochi.jpg",
            "alt": "Putin and Lukashenko in Sochi",
            "width": 1200,
            "height": 675,
        },
        {
            "key": "harbour",
            "title": "Harbour",
            "url": "https://cdn.example.test/harbour.jpg",
            "file": "harbour.jpg",
            "alt": "The harbour",
            "width": 300,
            "height": 200,
        },
    ]
    return {
        "site": {"title": "Riga Daily", "description": "News from the Baltics", "timezone": TIMEZONE},
        "users": [{"login": "ann", "display_name": "Ann Åberg"}, {"login": "bob", "display_name": "Bob Writer"}],
        "images": images,
        "posts": posts,
    }


@dataclass
class WordPressSite:
    """A built site: its export, WordPress's own data per post key, and how to reach it."""

    root: Path
    port: int
    config_name: str
    database: str
    export: Path
    truth: dict[str, dict[str, Any]]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _mysql(sql: str) -> None:
    script = (
        f"$db = new mysqli('{DB_HOST}', 'root', '', '', {DB_PORT}); if ($db->connect_error) exit(1);"
        f"foreach (explode(';', {json.dumps(sql)}) as $q) if (trim($q) !== '' && !$db->query($q)) exit(2);"
    )
    subprocess.run(["php", "-r", script], check=True, timeout=30)


def _config_php(site_root: Path, database: str, port: int) -> str:
    content = site_root / "wp-content"
    return f"""<?php
define('DB_NAME', '{database}');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', '{DB_HOST}:{DB_PORT}');
define('WP_CONTENT_DIR', '{content}');
define('WP_HOME', 'http://127.0.0.1:{port}');
define('WP_SITEURL', 'http://127.0.0.1:{port}');
define('DISABLE_WP_CRON', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_DEBUG', false);
$table_prefix = 'wp_';
"""


@contextlib.contextmanager
def built_site(root: Path) -> Iterator[WordPressSite]:
    """Install WordPress into a fresh database, fill it, export it; remove config and database after."""
    port = free_port()
    name = f"syndicatetest{os.getpid()}"
    database = f"wp_syndicate_test_{os.getpid()}"
    config_file = CONFIG_DIR / f"config-{name}.php"
    for sub in ("wp-content/plugins", "wp-content/themes", "wp-content/uploads", "out"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    _mysql(f"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database} CHARACTER SET utf8mb4")
    config_file.write_text(_config_php(root, database, port), encoding="utf-8")
    try:
        spec = root / "spec.json"
        spec.write_text(json.dumps(site_spec(), ensure_ascii=False), encoding="utf-8")
        env = {**os.environ, "WORDPRESS_CONFIG": name, "WP_TEST_HOST": f"127.0.0.1:{port}"}
        subprocess.run(
            [
                "php",
                "-d",
                "display_errors=stderr",
                "-d",
                "memory_limit=512M",
                str(DATA / "build_site.php"),
                str(spec),
                str(root / "out"),
            ],
            check=True,
            env=env,
            timeout=300,
            stdout=subprocess.DEVNULL,
        )
        truth = json.loads((root / "out" / "truth.json").read_text(encoding="utf-8"))
        yield WordPressSite(root, port, name, database, root / "out" / "export.xml", truth)
    finally:
        config_file.unlink(missing_ok=True)
        with contextlib.suppress(subprocess.SubprocessError):
            _mysql(f"DROP DATABASE IF EXISTS {database}")


def _nginx_conf(site: WordPressSite, fpm_socket: Path) -> str:
    run = site.root / "run"
    return f"""
daemon off;
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/nginx-error.log;
{"user root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    fastcgi_temp_path {run}/fastcgi;
    proxy_temp_path {run}/proxy;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    server {{
        listen 127.0.0.1:{site.port};
        root {WORDPRESS};
        index index.php;
        location / {{ try_files $uri $uri/ /index.php?$args; }}
        location ~ \\.php$ {{
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_param WORDPRESS_CONFIG {site.config_name};
            fastcgi_pass unix:{fpm_socket};
        }}
    }}
}}
"""


def _fpm_conf(site: WordPressSite, fpm_socket: Path) -> str:
    run = site.root / "run"
    user = "" if os.geteuid() != 0 else "user = root\ngroup = root\n"
    return f"""[global]
pid = {run}/fpm.pid
error_log = {run}/fpm-error.log
daemonize = no
[site]
{user}listen = {fpm_socket}
pm = static
pm.max_children = 2
clear_env = no
"""


@contextlib.contextmanager
def running(site: WordPressSite) -> Iterator[None]:
    """php-fpm and nginx serving ``site`` on its port, until the block ends."""
    run = site.root / "run"
    run.mkdir(exist_ok=True)
    fpm_socket = run / "fpm.sock"
    (run / "fpm.conf").write_text(_fpm_conf(site, fpm_socket), encoding="utf-8")
    (run / "nginx.conf").write_text(_nginx_conf(site, fpm_socket), encoding="utf-8")
    fpm_binary = _php_fpm()
    assert fpm_binary is not None
    fpm_args = [fpm_binary, "--nodaemonize", "--fpm-config", str(run / "fpm.conf")]
    if os.geteuid() == 0:
        fpm_args.append("--allow-to-run-as-root")
    fpm = subprocess.Popen(fpm_args, stderr=subprocess.DEVNULL)
    nginx = subprocess.Popen(
        [shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(run / "nginx.conf"), "-p", str(run)],
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            if time.monotonic() > deadline or fpm.poll() is not None or nginx.poll() is not None:
                raise RuntimeError("php-fpm or nginx did not start (port taken?); see " + str(run))
            with socket.socket() as probe:
                if fpm_socket.exists() and probe.connect_ex(("127.0.0.1", site.port)) == 0:
                    break
            time.sleep(0.05)
        time.sleep(0.2)
        if nginx.poll() is not None:
            raise RuntimeError(f"nginx exited at once: port {site.port} is taken by another server")
        yield
    finally:
        stop(nginx, fpm)


def stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
