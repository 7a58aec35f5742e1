"""Many connections and slow clients against a real server: it must keep answering everyone else.

    python bench/connections.py [--idle 2000] [--slow 200] [--seconds 20]

Starts ``syndicate serve`` on the bundled sample (a temp copy, loopback port),
opens ``--idle`` connections that send nothing, ``--slow`` clients that send a
request one byte every half second, and meanwhile fetches feeds normally,
printing their median and max latency and any failure. Exits 1 if a normal
request fails. Loopback only, bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from soak import free_port, make_site, rss_kib, start_server, wait_healthy


async def idle_connection(port: int, hold: float) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    await asyncio.sleep(hold)
    writer.close()
    return True


async def slow_client(port: int, deadline: float) -> None:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return
    request = b"GET /feeds/world.rss HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4000 + b"\r\n\r\n"
    try:
        for byte in request:
            if time.monotonic() > deadline:
                break
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.5)
    except OSError:
        pass
    writer.close()


async def normal_traffic(base: str, deadline: float) -> tuple[list[float], int]:
    latencies, failures = [], 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                async with session.get(f"{base}/feeds/all.json") as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
            except (aiohttp.ClientError, TimeoutError):
                failures += 1
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.05)
    return latencies, failures


async def run(args: argparse.Namespace) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * args.idle + 1000)), hard))
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="syndicate-conn-") as tmp, (Path(tmp) / "server.log").open("w") as log:
        config = make_site(Path(tmp), port)
        server = start_server(config, log)
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_healthy(base)
            deadline = time.monotonic() + args.seconds
            before = rss_kib(server.pid)
            idle = [asyncio.create_task(idle_connection(port, args.seconds)) for _ in range(args.idle)]
            slow = [asyncio.create_task(slow_client(port, deadline)) for _ in range(args.slow)]
            await asyncio.sleep(1)
            during = rss_kib(server.pid)
            latencies, failures = await normal_traffic(base, deadline)
            opened = sum(await asyncio.gather(*idle))
            await asyncio.gather(*slow)
            alive = server.poll() is None
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"connections: {opened}/{args.idle} idle connections held, {args.slow} slow clients, {args.seconds:.0f} s")
    median = statistics.median(latencies) * 1000
    print(
        f"  normal requests: {len(latencies)}, failed {failures}, median {median:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms"
    )
    print(
        f"  server RSS: {before / 1024:.1f} MiB before, {during / 1024:.1f} MiB with the connections open; "
        f"server alive: {alive}"
    )
    return 1 if failures or not alive else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
