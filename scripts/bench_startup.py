#!/usr/bin/env python3
"""Measure how fast ``trainingjob-guard serve`` is ready, and its memory then.

Starts ``serve`` (bundled baseline, a generated certificate in a temporary
folder, loopback, any free port) ``--runs`` times and for each measures the
time from the start of the process to the first ``GET /readyz`` answered 200
over TLS, and the process's resident memory (VmRSS) at that moment. Next to it,
in the same run, the bare interpreter's start (``python -c pass``): the floor.

Target (the delivery issue): ready in at most 1.0 s and at most 100 MB with the
baseline, on a laptop, without the cluster flags (the Kubernetes client is
imported only for ``--namespace-labels`` and ``--self-managed-certs``).

Usage: .venv/bin/python scripts/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def ready_once() -> tuple[float, int]:
    """Seconds to the first 200 of /readyz, and resident MB then."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "webhook", "serve", "--port", "0", "--cert-dir", folder],
            cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            found = re.search(r"https://localhost:(\d+)", process.stdout.readline())
            if found is None:
                raise SystemExit("serve did not start")
            context = ssl.create_default_context(cafile=str(Path(folder) / "ca.crt"))
            url = f"https://localhost:{found.group(1)}/readyz"
            while True:
                try:
                    with urllib.request.urlopen(url, context=context, timeout=5) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    time.sleep(0.005)
            seconds = time.perf_counter() - start
            status = Path(f"/proc/{process.pid}/status").read_text(encoding="utf-8")
            rss_kb = int(status.split("VmRSS:")[1].split()[0])
        finally:
            process.terminate()
            process.wait(15)
    return seconds, rss_kb // 1024


def interpreter_once() -> float:
    """Seconds for the bare interpreter to start and exit."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def main() -> int:
    """Measure, then print the medians next to the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ready, memory, floor = [], [], []
    for _ in range(args.runs):  # alternating, so a slow spell of the host hits both
        seconds, rss = ready_once()
        ready.append(seconds)
        memory.append(rss)
        floor.append(interpreter_once())
    median = statistics.median(ready)
    print(f"serve ready (median of {args.runs}): {median:.2f} s (target <= 1.0 s)")
    print(f"resident memory then: {statistics.median(memory):.0f} MB (target <= 100 MB)")
    print(f"bare interpreter start: {statistics.median(floor):.3f} s (the floor)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
