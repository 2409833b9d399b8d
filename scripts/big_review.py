#!/usr/bin/env python3
"""Send AdmissionReviews as large as the API server lets through and measure what they cost.

Starts ``trainingjob-guard serve`` on 127.0.0.1 (the bundled baseline policy,
a generated certificate), warms it up with small reviews, reads its idle
resident memory (RSS), then sends each review below to ``/validate`` on a
connection of its own, ``--rounds`` times, while another connection asks
``/healthz`` every 10 ms:

- a CREATE whose ``spec.inputDataConfig`` is ``[{}] * 1_000_000`` (2.9 MiB,
  under the API server's 3 MiB limit for a request);
- a CREATE with a 6 MiB hyperparameter value (under the webhook's 7 MiB);
- a CREATE with 100,000 empty input channels;
- an UPDATE of a job stored with 500,000 empty channels (1.4 MiB, about the
  most etcd stores) to a million (4.4 MiB in all).

It measures the time from the first byte sent to the whole answer, the
answer's size, the slowest ``/healthz`` while the review was in flight, the
peak RSS, and the RSS after the review and ``--settle`` seconds of rest.

Targets (the hardening issue): each answered (denied) in at most 1 s with an
answer of at most 64 KiB; ``/healthz`` never waits more than 200 ms
meanwhile; RSS after at most twice the idle RSS. Exits 1 when one is missed.

Usage: .venv/bin/python scripts/big_review.py [--rounds N] [--settle SECONDS]
"""

from __future__ import annotations

import argparse
import copy
import json
import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
from loopback import MAX_ANSWER, Figures, Served, http, mib, post, valid_review

ANSWER_SECONDS = 1.0
HEALTHZ_SECONDS = 0.2
RSS_FACTOR = 2.0
POLL_INTERVAL = 0.01
HEALTHZ = http("GET", "/healthz", headers=[(b"Host", b"localhost")])


def big_reviews() -> dict[str, bytes]:
    """The reviews to send, by name, as HTTP requests."""
    job = valid_review()

    def create(edit: Any) -> bytes:
        data = copy.deepcopy(job)
        edit(data["request"]["object"]["spec"])
        return http("POST", "/validate", orjson.dumps(data))

    def update() -> bytes:
        data = copy.deepcopy(job)
        data["request"]["operation"] = "UPDATE"
        data["request"]["oldObject"] = copy.deepcopy(data["request"]["object"])
        data["request"]["oldObject"]["spec"]["inputDataConfig"] = [{}] * 500_000
        data["request"]["object"]["spec"]["inputDataConfig"] = [{}] * 1_000_000
        return http("POST", "/validate", orjson.dumps(data))

    return {
        "a million input channels": create(
            lambda spec: spec.update(inputDataConfig=[{}] * 1_000_000)
        ),
        "a 6 MiB hyperparameter value": create(
            lambda spec: spec["hyperParameters"].update(eta="x" * 6 * 2**20)
        ),
        "100,000 input channels": create(lambda spec: spec.update(inputDataConfig=[{}] * 100_000)),
        "UPDATE to a million channels from 500,000": update(),
    }


def read_answer(tls: ssl.SSLSocket) -> tuple[int, bytes]:
    """Status and body of the next answer on a blocking connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(65536)
        if not chunk:
            raise ConnectionError("closed before an answer")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(body) < length:
        chunk = tls.recv(65536)
        if not chunk:
            raise ConnectionError("closed in an answer")
        body += chunk
    return int(head.split(b" ", 2)[1]), body


def connect(served: Served) -> ssl.SSLSocket:
    """A blocking TLS connection to the server."""
    raw = socket.create_connection(("127.0.0.1", served.port), timeout=30)
    return served.context().wrap_socket(raw, server_hostname="localhost")


class Watch(threading.Thread):
    """Asks /healthz every 10 ms on a connection of its own, and samples the server's RSS."""

    def __init__(self, served: Served) -> None:
        super().__init__(daemon=True)
        self.served = served
        self.latencies: list[float] = []
        self.peak_rss = 0.0
        self.failures = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        """Poll until told to stop."""
        with connect(self.served) as tls:
            while not self.stopping.is_set():
                start = time.perf_counter()
                tls.sendall(HEALTHZ)
                status, _ = read_answer(tls)
                elapsed = time.perf_counter() - start
                self.latencies.append(elapsed)
                self.failures += status != 200
                self.peak_rss = max(self.peak_rss, self.served.rss_mib())
                time.sleep(max(POLL_INTERVAL - elapsed, 0))


def send(served: Served, request: bytes) -> dict[str, Any]:
    """Send one big review while /healthz is polled; what it took."""
    watch = Watch(served)
    watch.start()
    time.sleep(0.1)  # a few polls first: the connection is up and warm
    with connect(served) as tls:
        start = time.perf_counter()
        tls.sendall(request)
        status, body = read_answer(tls)
        seconds = time.perf_counter() - start
    time.sleep(0.05)
    watch.stopping.set()
    watch.join(10)
    answer = json.loads(body)["response"]
    return {
        "status": status,
        "allowed": answer["allowed"],
        "message": answer.get("status", {}).get("message", ""),
        "seconds": seconds,
        "answer bytes": len(body),
        "healthz max": max(watch.latencies),
        "healthz polls": len(watch.latencies),
        "healthz failures": watch.failures,
        "peak rss": watch.peak_rss,
    }


def warm_up(served: Served) -> None:
    """Small reviews, allowed and denied, and one large enough for the worker thread."""
    valid = valid_review()
    denied = copy.deepcopy(valid)
    denied["request"]["object"]["spec"]["resourceConfig"]["instanceCount"] = 0
    medium = copy.deepcopy(valid)
    medium["request"]["object"]["metadata"]["annotations"] = {"notes": "x" * 100_000}
    with connect(served) as tls:
        for request in [post("/validate", valid), post("/validate", denied)] * 100 + [
            post("/validate", medium),
            post("/mutate", valid),
            HEALTHZ,
        ]:
            tls.sendall(request)
            read_answer(tls)


def main() -> int:
    """Start the server, send the big reviews, print the figures next to the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="times each review is sent")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds of rest before RSS")
    args = parser.parse_args()
    reviews = big_reviews()
    figures = Figures()
    with tempfile.TemporaryDirectory() as name, Served(Path(name)) as served:
        warm_up(served)
        time.sleep(args.settle)
        idle = served.rss_mib()
        print(f"server RSS idle (after 200 small reviews): {idle:.0f} MiB")
        for label, request in reviews.items():
            runs = [send(served, request) for _ in range(args.rounds)]
            time.sleep(args.settle)
            after = served.rss_mib()
            worst = {key: max(run[key] for run in runs) for key in runs[0] if key != "message"}
            print(f"\n{label}: body {mib(len(request))}, worst of {args.rounds} rounds")
            print(f"  message: {' '.join(runs[0]['message'].splitlines())[:150]}")
            figures.check(
                "answered, denied",
                f"{runs[0]['status']}, allowed {str(worst['allowed']).lower()}",
                "200, false",
                all(run["status"] == 200 and run["allowed"] is False for run in runs),
            )
            figures.check(
                "time to the whole answer",
                f"{worst['seconds'] * 1e3:.0f} ms",
                f"<= {ANSWER_SECONDS * 1e3:.0f} ms",
                worst["seconds"] <= ANSWER_SECONDS,
            )
            figures.check(
                "answer size",
                mib(worst["answer bytes"]),
                f"<= {mib(MAX_ANSWER)}",
                worst["answer bytes"] <= MAX_ANSWER,
            )
            figures.check(
                f"slowest /healthz (of {sum(r['healthz polls'] for r in runs)} polls)",
                f"{worst['healthz max'] * 1e3:.0f} ms",
                f"<= {HEALTHZ_SECONDS * 1e3:.0f} ms",
                worst["healthz max"] <= HEALTHZ_SECONDS and not worst["healthz failures"],
            )
            print(f"  {'peak RSS while deciding':<52}{worst['peak rss']:>12.0f} MiB")
            answers = "/".join(f"{run['seconds'] * 1e3:.0f}" for run in runs)
            polls = "/".join(f"{run['healthz max'] * 1e3:.0f}" for run in runs)
            print(f"  {'each round: answer ms, slowest /healthz ms':<52}{answers:>10}, {polls}")
            figures.check(
                f"RSS after, {args.settle:g} s later",
                f"{after:.0f} MiB ({after / idle:.2f}x)",
                f"<= {RSS_FACTOR * idle:.0f} MiB",
                after <= RSS_FACTOR * idle,
            )
    return figures.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
