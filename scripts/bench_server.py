#!/usr/bin/env python3
"""Benchmark the webhook over TLS against a bare ASGI app on the same uvicorn settings.

Starts, on 127.0.0.1 with one certificate for both:

- ``trainingjob-guard serve`` with the bundled baseline policy;
- a bare ASGI app that returns a fixed AdmissionReview, on the same uvicorn
  settings (TLS, uvloop, httptools, no access log): the floor of this stack;
- ``serve`` again with a decision that costs nothing (every request gets the
  shared "allowed" answer): what the webhook's own HTTP layer costs (parsing
  and typing the AdmissionReview, the answer, metrics and the decision log).

Then drives each with wrk (Debian's ``wrk`` package: ``apt-get install wrk``),
keep-alive, one thread and 16 connections, POSTing the same AdmissionReview
(CREATE of the bundled valid TrainingJob), and reports throughput and
p50 / p99 latency of ``/validate`` and ``/mutate`` next to the bare app,
measured in the same run: each row runs ``--rounds`` times, the rows taking
turns, and the run with the median throughput is shown, so a host that
slows down for a while weighs on every row alike.

Target (the server issue): ``/validate`` with the baseline policy reaches at
least half the bare app's throughput, with p99 under 5 ms at 16 connections
on a 2-core machine.

The two are served differently on purpose: the bare app goes through uvicorn's
ASGI cycle (a task per request, ``receive`` and two ``send`` calls), which is
the floor of any ASGI application on this stack; the webhook's connections
answer a small review themselves, without that cycle
(:mod:`webhook.server.direct`), as they do in production.

Usage: .venv/bin/python scripts/bench_server.py [--seconds N] [--connections N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLE = PROJECT / "webhook" / "examples" / "training-job.yaml"
BARE_APP = """
import sys, ssl, uvicorn
RESPONSE = open(sys.argv[4], "rb").read()
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(RESPONSE)).encode())]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": RESPONSE})
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.minimum_version = ssl.TLSVersion.TLSv1_2
context.load_cert_chain(sys.argv[2], sys.argv[3])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), ssl_context_factory=lambda c, d: context,
            loop="uvloop", http="httptools", lifespan="off", access_log=False, log_level="warning")
"""
NO_DECISION = """
import sys
from webhook.server import admission, app
app.HANDLERS["/validate"] = lambda request, config, labels: admission.ALLOWED
from webhook.cli import main
sys.exit(main(["serve", "--port", "0", "--cert-dir", sys.argv[1]]))
"""
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{body}", "rb")
wrk.body = f:read("*all")
f:close()
"""


def review() -> dict[str, Any]:
    """An AdmissionReview v1 CREATE of the bundled valid TrainingJob."""
    obj = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "b6f3c1de-0000-4000-8000-000000000001",
            "kind": {
                "group": "sagemaker.services.k8s.aws",
                "version": "v1alpha1",
                "kind": "TrainingJob",
            },
            "resource": {
                "group": "sagemaker.services.k8s.aws",
                "version": "v1alpha1",
                "resource": "trainingjobs",
            },
            "name": obj["metadata"]["name"],
            "namespace": obj["metadata"]["namespace"],
            "operation": "CREATE",
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": obj,
            "oldObject": None,
            "dryRun": False,
        },
    }


def review_body(folder: Path) -> Path:
    """:func:`review`, written to a file in *folder* (for wrk)."""
    path = folder / "review.json"
    path.write_text(json.dumps(review()), encoding="utf-8")
    return path


def wait_for_port(process: subprocess.Popen[str], pattern: str, timeout: float = 30) -> int:
    """Read the server's stdout until *pattern* gives its port."""
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        match = re.search(pattern, line)
        if match:
            return int(match.group(1))
        if not line and process.poll() is not None:
            break
    raise SystemExit(f"server did not start (exit code {process.poll()})")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_tls(port: int, timeout: float = 30) -> None:
    """Wait until something accepts connections on *port*."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, Any]:
    """Run wrk; return requests/s and p50 / p99 latency in ms."""
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def percentile(name: str) -> float:
        value, unit = re.search(rf"\s{name}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rate,
        "p50": percentile("50"),
        "p99": percentile("99"),
        "non2xx": int(errors.group(1)) if errors else 0,
    }


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median throughput (its latencies with it)."""
    ordered = sorted(runs, key=lambda run: run["rps"])
    return ordered[len(ordered) // 2]


def main() -> int:
    """Run both servers, measure, print the table next to the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each row, alternating")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        body = review_body(folder)
        script = folder / "post.lua"
        script.write_text(WRK_SCRIPT.format(body=body), encoding="utf-8")
        guard = subprocess.Popen(
            [sys.executable, "-m", "webhook", "serve", "--port", "0", "--cert-dir",
             str(folder / "certs")],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        bare = floor = None
        try:
            port = wait_for_port(guard, r"serving https://localhost:(\d+)")
            answer = subprocess.run(
                ["curl", "-s", "--cacert", str(folder / "certs" / "ca.crt"), "-H",
                 "Content-Type: application/json", "--data", f"@{body}",
                 f"https://localhost:{port}/validate"],
                capture_output=True, check=True,
            ).stdout  # fmt: skip
            assert json.loads(answer)["response"]["allowed"] is True, answer
            fixed = folder / "fixed.json"
            fixed.write_bytes(answer)
            bare_port = free_port()
            bare = subprocess.Popen(
                [sys.executable, "-c", BARE_APP, str(bare_port), str(folder / "certs" / "tls.crt"),
                 str(folder / "certs" / "tls.key"), str(fixed)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            wait_tls(bare_port)
            floor = subprocess.Popen(
                [sys.executable, "-c", NO_DECISION, str(folder / "certs")],
                cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            )  # fmt: skip
            floor_port = wait_for_port(floor, r"serving https://localhost:(\d+)")
            urls = {
                "bare ASGI app": f"https://127.0.0.1:{bare_port}/",
                "/validate": f"https://127.0.0.1:{port}/validate",
                "/mutate": f"https://127.0.0.1:{port}/mutate",
                "no decision": f"https://127.0.0.1:{floor_port}/validate",
            }
            runs: dict[str, list[dict[str, Any]]] = {label: [] for label in urls}
            for _ in range(args.rounds):  # rows alternate, so drift on the host hits them all
                for label, url in urls.items():
                    runs[label].append(wrk(url, script, args.seconds, args.connections))
            results = {label: median_run(each) for label, each in runs.items()}
        finally:
            guard.terminate()
            guard.wait(15)
            for process in (bare, floor):
                if process is not None:
                    process.terminate()
                    process.wait(15)
    print(
        f"wrk -t1 -c{args.connections} -d{args.seconds}s, keep-alive, TLS, one uvicorn worker; "
        f"median of {args.rounds} alternating runs per row"
    )
    print(f"{'':<16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}")
    for label, result in results.items():
        print(
            f"{label:<16}{result['rps']:>10.0f}{result['p50']:>10.2f}{result['p99']:>10.2f}"
            f"{result['non2xx']:>10}"
        )
    ratio = results["/validate"]["rps"] / results["bare ASGI app"]["rps"]
    p99 = results["/validate"]["p99"]
    print(f"/validate / bare throughput: {ratio:.2f} (target >= 0.50)")
    print(f"/validate p99: {p99:.2f} ms (target < 5 ms)")
    floor_ratio = results["no decision"]["rps"] / results["bare ASGI app"]["rps"]
    print(f"no decision / bare throughput: {floor_ratio:.2f} (the HTTP layer alone)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
