"""Real processes for the replica proof: ``syndicate serve`` replicas, each with its own site and data folder,
behind a real nginx; free loopback ports, and everything stopped afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fleet_support import replica_site
from tests.tracking_support import ADMIN_TOKEN, SIGNING_KEYS

NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")


def shutil_nginx() -> str | None:
    """The nginx binary, if installed (Debian puts it in /usr/sbin, often not on a user's PATH)."""
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def nginx_or_skip() -> str:
    found = shutil_nginx()
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("nginx is required in CI (.ci/run installs Debian's nginx-light)")
    pytest.skip("no nginx binary (apt-get install nginx-light)")
    raise AssertionError  # not reached


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer within {seconds} s")
        time.sleep(0.1)


@dataclass
class Replica:
    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "SYNDICATE_SIGNING_KEYS": SIGNING_KEYS, "SYNDICATE_ADMIN_TOKEN": ADMIN_TOKEN}
        for name in ("SYNDICATE_DATABASE_URL", "SYNDICATE_DATABASE_URL_FILE", "SYNDICATE_CONFIG"):
            env.pop(name, None)
        with (self.root / "server.log").open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "syndicate",
                    "serve",
                    "--config",
                    str(self.root / "config.yaml"),
                    "--port",
                    str(self.port),
                ],
                cwd=self.root,
                env=env,
                stdout=log,
                stderr=log,
            )
        wait_for(f"{self.url}/healthz")

    def kill(self) -> None:
        """``kill -9``: no cleanup, no last flush."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


NGINX_CONF = """\
{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{body}
}}
"""


@dataclass
class Nginx:
    prefix: Path
    port: int
    upstreams: list[int]
    binary: str
    process: subprocess.Popen[bytes] | None = field(default=None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, body: str) -> None:
        self.prefix.mkdir(parents=True, exist_ok=True)
        # as root, workers would drop to nobody, who cannot enter the test's private temp folder
        user = "user root;\n" if os.geteuid() == 0 else ""
        config = NGINX_CONF.format(prefix=self.prefix, body=body, user=user)
        (self.prefix / "nginx.conf").write_text(config, encoding="utf-8")
        with (self.prefix / "stderr.log").open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        wait_for(f"{self.url}/healthz")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def fleet_sites(root: Path, url: str, public_url: str, count: int = 3) -> list[Path]:
    """``count`` copies of the site, as on ``count`` machines; links in feeds point at the proxy."""
    sites = []
    for index in range(count):
        config = replica_site(root / f"replica-{index + 1}", url)
        text = config.read_text(encoding="utf-8").replace("public_url: https://feeds.test", f"public_url: {public_url}")
        config.write_text(text, encoding="utf-8")
        sites.append(config)
    return sites


def proxy_config(port: int, upstreams: list[int], prefix: Path) -> str:
    """The nginx configuration of docs/deploy.md, on loopback ports."""
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in upstreams)
    return f"""\
    upstream syndicate {{
{servers}
        keepalive 32;
    }}
    proxy_cache_path {prefix}/cache levels=1:2 keys_zone=feeds:10m max_size=64m inactive=10m use_temp_path=off;
    map $http_authorization$arg_key $partner {{ "" 0; default 1; }}
    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_connect_timeout 1s;
        proxy_next_upstream error timeout http_502 http_503;
        proxy_next_upstream_tries 3;
        location /feeds/ {{
            proxy_pass http://syndicate;
            proxy_cache feeds;
            proxy_cache_key $scheme$host$request_uri;
            proxy_cache_bypass $partner;
            proxy_no_cache $partner;
            proxy_cache_revalidate on;
            proxy_cache_lock on;
            proxy_cache_use_stale error timeout updating http_502 http_503;
        }}
        location / {{
            proxy_pass http://syndicate;
        }}
    }}"""
