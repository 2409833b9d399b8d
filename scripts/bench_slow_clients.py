#!/usr/bin/env python3
"""Measure the webhook's answers while a thousand slow or idle clients hold connections.

Starts ``trainingjob-guard serve`` (default limits unless flags are given
after ``--``) on 127.0.0.1, then keeps ``--slow`` TLS connections open against
it, a third each:

- idle: the TLS handshake, then nothing;
- half a header: ``POST /validate HTTP/1.1`` and part of a header line;
- a stalled body: the headers of a 4 KiB body and its first bytes.

The server drops them (read timeout, connection limit); each dropped one is
opened again at once, so the count holds. Meanwhile one client sends
``/validate`` reviews (the bundled valid TrainingJob), each on a new
connection and then on a keep-alive one, and the latencies are reported with
the server's resident memory before and with the slow connections.

Target (the slow-clients issue): with 1,000 slow connections, every review
is answered, in under 50 ms. With the default limits the server drops the
slow connections (after the read timeout, or to make room) and they come
back at once, so the reviews also compete with a stream of TLS handshakes;
``-- --read-timeout 30 --max-connections 2000`` keeps them all open instead.

Usage: .venv/bin/python scripts/bench_slow_clients.py [--slow N] [--seconds N] [-- SERVE FLAGS]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_server import review

KINDS = ("idle", "half a header", "a stalled body")


def review_request() -> bytes:
    """A CREATE of the bundled valid TrainingJob as an HTTP request."""
    body = json.dumps(review()).encode()
    head = (
        b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    return head + body


SLOW_BYTES = {
    "idle": b"",
    "half a header": b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Ty",
    "a stalled body": b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4096"
    b'\r\n\r\n{"apiVersion": ',
}


class Slow:
    """Keeps *count* slow connections open, reopening each one the server drops."""

    def __init__(self, port: int, context: ssl.SSLContext, count: int) -> None:
        self.port, self.context, self.count = port, context, count
        self.open = 0
        self.reopened = 0
        self.stop = asyncio.Event()

    async def one(self, kind: str) -> None:
        """Keep one connection of *kind* open until told to stop."""
        first = True
        while not self.stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", self.port, ssl=self.context, server_hostname="localhost"
                )
            except OSError:
                await asyncio.sleep(0.05)
                continue
            if not first:
                self.reopened += 1
            first = False
            self.open += 1
            try:
                writer.write(SLOW_BYTES[kind])
                stop = asyncio.ensure_future(self.stop.wait())
                read = asyncio.ensure_future(reader.read())  # returns when dropped
                await asyncio.wait({stop, read}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                read.cancel()
            except OSError:
                pass
            finally:
                self.open -= 1
                writer.transport.abort()


def hold(port: int, ca: str, count: int, *, ready: Any, stop: Any, reopened: Any) -> None:
    """Hold *count* slow connections until *stop* is set.

    It runs in a process of its own, so that its TLS work is not the measuring client's.
    """

    async def run() -> None:
        slow = Slow(port, ssl.create_default_context(cafile=ca), count)
        tasks = []
        for n in range(count):
            tasks.append(asyncio.create_task(slow.one(KINDS[n % len(KINDS)])))
            if n % 50 == 49:
                await asyncio.sleep(0.05)  # a pace the handshakes keep up with
        while slow.open < count:
            await asyncio.sleep(0.05)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        slow.stop.set()
        await asyncio.gather(*tasks)
        reopened.value = slow.reopened

    asyncio.run(run())


async def ask(port: int, context: ssl.SSLContext, request: bytes, keep: list[object]) -> float:
    """One review on a new connection (*keep* empty) or the kept one; its latency in s."""
    start = time.perf_counter()
    if not keep:
        keep[:] = await asyncio.open_connection(
            "127.0.0.1", port, ssl=context, server_hostname="localhost"
        )
    reader, writer = keep
    assert isinstance(reader, asyncio.StreamReader)
    assert isinstance(writer, asyncio.StreamWriter)
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE).group(1))  # type: ignore[union-attr]
    answer = json.loads(await reader.readexactly(length))
    assert answer["response"]["allowed"] is True, answer
    return time.perf_counter() - start


def rss_kib(pid: int) -> int:
    """Resident memory of *pid* in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]


async def measure(port: int, ca: Path, pid: int, slow_count: int, seconds: float) -> None:
    """Hold the slow connections, send reviews meanwhile, print what it took."""
    context = ssl.create_default_context(cafile=str(ca))
    request = review_request()
    before = rss_kib(pid)
    ready, stop, reopened = (
        multiprocessing.Event(),
        multiprocessing.Event(),
        multiprocessing.Value("i"),
    )
    holder = multiprocessing.Process(
        target=hold,
        args=(port, str(ca), slow_count),
        kwargs={"ready": ready, "stop": stop, "reopened": reopened},
    )
    holder.start()
    while not ready.wait(0.1):
        if not holder.is_alive():
            raise SystemExit("the slow connections could not be opened")
    with_slow = rss_kib(pid)
    fresh: list[float] = []
    kept: list[float] = []
    connection: list[object] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        fresh.append(await ask(port, context, request, []))
        kept.append(await ask(port, context, request, connection))
        await asyncio.sleep(0.01)
    stop.set()
    holder.join(60)
    print(
        f"{slow_count} slow connections held ({', '.join(KINDS)}), "
        f"reopened {reopened.value} times after the server dropped them"
    )
    print(f"server RSS: {before / 1024:.0f} MiB before, {with_slow / 1024:.0f} MiB with them")
    print(f"{'':<26}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label, latencies in (("review, new connection", fresh), ("review, kept connection", kept)):
        ordered = sorted(latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(
            f"{label:<26}{len(ordered):>7}{statistics.median(ordered) * 1e3:>9.2f}"
            f"{p99 * 1e3:>9.2f}{ordered[-1] * 1e3:>9.2f}"
        )
    worst = max(fresh + kept)
    print(f"every review answered; slowest {worst * 1e3:.1f} ms (target < 50 ms)")


def main() -> int:
    """Start the server, hold the slow connections, measure, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=1000, help="slow connections to hold")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to measure")
    parser.add_argument("serve_flags", nargs="*", help="after --: more flags for serve")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        server = subprocess.Popen(
            [sys.executable, "-m", "webhook", "serve", "--port", "0", "--cert-dir",
             str(folder / "certs"), *args.serve_flags],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            for line in server.stdout:
                match = re.search(r"serving https://localhost:(\d+)", line)
                if match:
                    break
            else:
                raise SystemExit(f"server did not start (exit code {server.poll()})")
            port = int(match.group(1))
            ca = folder / "certs" / "ca.crt"
            asyncio.run(measure(port, ca, server.pid, args.slow, args.seconds))
        finally:
            server.terminate()
            server.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
