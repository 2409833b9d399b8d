"""What the stress scripts share: a served instance on loopback and a raw HTTP/1.1 client for it.

:class:`Served` runs ``trainingjob-guard serve`` (the bundled baseline policy,
a certificate generated into a temporary folder, default limits unless more
flags are given) on 127.0.0.1 and reads its resident memory and its log.
:class:`Connection` speaks HTTP/1.1 over TLS with bytes the script chooses,
malformed ones included, and reads answers as they come: it keeps what
arrived before a reset, so an answer followed by a reset is told apart from
a reset that took the answer with it. :class:`Figures` prints each figure
next to its target and gives the exit code.

Used by ``big_review.py``, ``fuzz_server.py`` and ``soak_server.py``.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml
from bench_server import wait_for_port
from bench_slow_clients import rss_kib

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT / "webhook" / "examples"
BANNER = r"serving https://localhost:(\d+)"
MAX_ANSWER = 64 * 1024
"""Largest answer the webhook promises, whatever comes in (webhook.server.admission)."""


def example_review() -> dict[str, Any]:
    """The bundled AdmissionReview: a CREATE of a job the baseline denies (a secret, a bad name)."""
    data: dict[str, Any] = json.loads((EXAMPLES / "admission-review.json").read_text())
    return data


def valid_review() -> dict[str, Any]:
    """The bundled AdmissionReview with the bundled valid TrainingJob in it: allowed."""
    data = example_review()
    job = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text(encoding="utf-8"))
    data["request"].update(
        object=job, name=job["metadata"]["name"], namespace=job["metadata"]["namespace"]
    )
    return data


def http(
    method: str,
    path: str,
    body: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    version: bytes = b"HTTP/1.1",
) -> bytes:
    """A request: *headers* as given, or Host, Content-Type (JSON) and Content-Length."""
    if headers is None:
        headers = [
            (b"Host", b"localhost"),
            (b"Content-Type", b"application/json"),
            (b"Content-Length", b"%d" % len(body)),
        ]
    lines = [b"%s %s %s" % (method.encode(), path.encode(), version)]
    lines += [name + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def post(path: str, document: Any) -> bytes:
    """POST *document* as JSON to *path*."""
    return http("POST", path, json.dumps(document, separators=(",", ":")).encode())


class Served:
    """``trainingjob-guard serve`` on 127.0.0.1, started in *folder* (its certificates and log)."""

    def __init__(self, folder: Path, *flags: str) -> None:
        self.log_file = folder / "serve.log"
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "webhook", "serve", "--port", "0", "--cert-dir",
                 str(folder / "certs"), *flags],
                cwd=PROJECT, stdout=subprocess.PIPE, stderr=log, text=True,
            )  # fmt: skip
        self.port = wait_for_port(self.process, BANNER)
        self.ca = folder / "certs" / "ca.crt"

    def context(self) -> ssl.SSLContext:
        """A client context that trusts the generated CA, as the API server trusts its caBundle."""
        return ssl.create_default_context(cafile=str(self.ca))

    def rss_mib(self) -> float:
        """Resident memory of the server process, in MiB."""
        return rss_kib(self.process.pid) / 1024

    def log_events(self) -> Counter[str]:
        """Events of the JSON log lines so far; ``(not JSON)`` counts any other line."""
        events: Counter[str] = Counter()
        for line in self.log_file.read_bytes().splitlines():
            try:
                events[json.loads(line).get("event", "(no event)")] += 1
            except (ValueError, AttributeError):
                events["(not JSON)"] += 1
        return events

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop in time."""
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


@dataclass(frozen=True, slots=True)
class Response:
    """One answer as it came over the wire."""

    status: int
    headers: dict[bytes, bytes]
    body: bytes

    @property
    def closes(self) -> bool:
        """The server said it closes the connection after this answer."""
        return self.headers.get(b"connection", b"").lower() == b"close"


class EndedError(Exception):
    """The connection ended before a whole answer: ``reason`` is eof, reset or timeout."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Connection(asyncio.Protocol):
    """One TLS connection: bytes out as they are given, answers in as they come."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.end: str | None = None
        """None while open; then eof or reset."""
        self.transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[None] | None = None

    @classmethod
    async def open(cls, port: int, context: ssl.SSLContext) -> Connection:
        """Connect to 127.0.0.1:*port* and finish the TLS handshake."""
        _, connection = await asyncio.get_running_loop().create_connection(
            cls, "127.0.0.1", port, ssl=context, server_hostname="localhost"
        )
        return connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Connected, the handshake done."""
        self.transport = cast(asyncio.Transport, transport)  # uvloop's TLS one is no subclass

    def data_received(self, data: bytes) -> None:
        """Keep what came."""
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool:
        """The server closed its side: nothing more will come."""
        self.end = self.end or "eof"
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: say how."""
        # A peer that aborts (or closes with bytes unread) resets; a TLS stream that ends
        # without its close_notify is reported as an error of its own.
        if exc is None or self.end is not None:
            self.end = self.end or "eof"
        else:
            self.end = "reset" if isinstance(exc, ConnectionResetError) else type(exc).__name__
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _more(self, deadline: float) -> None:
        """Wait for more bytes; EndedError when none will come (or none came in time)."""
        if self.end is not None:
            raise EndedError(self.end)
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(self._waiter, max(deadline - time.monotonic(), 0))
        except TimeoutError:
            raise EndedError("timeout") from None

    def send(self, data: bytes) -> None:
        """Write *data* (buffered by the transport)."""
        assert self.transport is not None
        if not self.transport.is_closing():
            self.transport.write(data)

    async def response(self, *, head: bool = False, timeout: float = 10.0) -> Response:
        """The next whole answer (1xx skipped; no body after HEAD); EndedError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            while (split := self.buffer.find(b"\r\n\r\n")) < 0:
                await self._more(deadline)
            lines = bytes(self.buffer[:split]).split(b"\r\n")
            del self.buffer[: split + 4]
            status = int(lines[0].split(b" ", 2)[1])
            if status >= 200:
                break
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if head or status in (204, 304):
            return Response(status, headers, b"")
        if b"content-length" in headers:
            size = int(headers[b"content-length"])
            while len(self.buffer) < size:
                await self._more(deadline)
        else:  # no length (nor chunks: the server never sends them): the end of the connection
            while True:
                try:
                    await self._more(deadline)
                except EndedError as ended:
                    if ended.reason == "timeout":
                        raise
                    break
            size = len(self.buffer)
        body = bytes(self.buffer[:size])
        del self.buffer[:size]
        return Response(status, headers, body)

    async def closed(self, timeout: float) -> str:
        """Wait until the server ends the connection: eof, reset, or open (still, at *timeout*)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                await self._more(deadline)
            except EndedError as ended:
                return "open" if ended.reason == "timeout" else ended.reason

    def close(self) -> None:
        """Close our side, without waiting."""
        if self.transport is not None:
            self.transport.abort()


class Figures:
    """Figures printed next to their targets; the exit code says whether all were met."""

    def __init__(self) -> None:
        self.missed: list[str] = []

    def check(self, label: str, shown: str, target: str, met: bool) -> None:
        """Print one figure, its target and whether it is met."""
        print(f"  {label:<52}{shown:>16}   target {target:<14}{'ok' if met else 'MISSED'}")
        if not met:
            self.missed.append(label)

    def exit_code(self) -> int:
        """0 when every target was met, else 1 (after saying which were not)."""
        if self.missed:
            print(f"targets missed: {', '.join(self.missed)}")
            return 1
        print("every target met")
        return 0


def mib(size: float) -> str:
    """*size* bytes in MiB, KiB or bytes, whichever reads best."""
    if size >= 2**20:
        return f"{size / 2**20:.1f} MiB"
    return f"{size / 1024:.1f} KiB" if size >= 1024 else f"{size:.0f} B"
