#!/usr/bin/env python3
"""Load the webhook steadily for minutes and watch its resident memory.

Starts ``trainingjob-guard serve`` on 127.0.0.1 (the bundled baseline policy,
a generated certificate, default limits). ``--connections`` clients send,
in all, ``--rate`` requests a second for ``--minutes`` minutes, each one
drawn from this mix:

- 30 % a CREATE of the valid job to ``/validate`` (allowed);
- 10 % the bundled example CREATE to ``/validate`` (denied), 10 % to ``/mutate``
  (allowed, with a patch);
- 15 % an UPDATE of the valid job that adds a label (allowed), 10 % one that
  changes its spec (denied), 5 % a DELETE (allowed);
- 20 % a malformed request of the fuzz run's random kinds (:mod:`fuzz_cases`).

Each client keeps its connection, and one request in 20 goes on a new one (a
TLS handshake). Every answer is checked as the fuzz run checks it (known
answers exactly; ``allowed: true`` against the oracle; no status of 500 or
more; no reset). The server's RSS is sampled every ``--sample`` seconds.

Target (the hardening issue): the RSS at the end (the median of the last 10 s
of samples) at most 10 % above the first minute's level (the median of its
last 10 s of samples), with no error. Exits 1 when a target is missed.

Usage: .venv/bin/python scripts/soak_server.py [--minutes N] [--rate N] [--connections N]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import random
import ssl
import statistics
import tempfile
import time
from pathlib import Path

import uvloop
from fuzz_cases import Case, random_case, render
from fuzz_server import Client, Tally, health
from loopback import Figures, Served, example_review, http, valid_review

GROWTH = 0.10
NEW_CONNECTION_EVERY = 20
WINDOW = 10.0
"""Seconds of samples whose median is a level."""


def known_cases() -> list[tuple[float, Case]]:
    """The requests of the mix whose answers are known, with their shares."""
    valid, example = valid_review(), example_review()
    update = copy.deepcopy(valid)
    request = update["request"]
    request.update(operation="UPDATE", oldObject=copy.deepcopy(request["object"]))
    request["object"]["metadata"]["labels"] = {"team": "a"}
    change = copy.deepcopy(update)
    change["request"]["object"]["spec"]["resourceConfig"]["instanceCount"] = 2
    delete = copy.deepcopy(valid)
    delete["request"].update(operation="DELETE", oldObject=valid["request"]["object"], object=None)
    mix = [
        (0.30, "CREATE, valid", "/validate", valid, True),
        (0.10, "CREATE, denied", "/validate", example, False),
        (0.10, "CREATE, /mutate", "/mutate", example, False),
        (0.15, "UPDATE, a label", "/validate", update, True),
        (0.10, "UPDATE, the spec", "/validate", change, False),
        (0.05, "DELETE", "/validate", delete, True),
    ]
    cases = []
    for share, kind, path, data, passes in mix:
        body = render(data)
        cases.append(
            (share, Case(kind, http("POST", path, body), path, body, passes, control=True))
        )
    return cases


class Soak:
    """The clients, the pace they keep and the samples taken."""

    def __init__(self, served: Served, connections: int, rate: float, seconds: float) -> None:
        self.served, self.seconds = served, seconds
        self.interval = connections / rate
        self.context = ssl.create_default_context(cafile=str(served.ca))
        self.tally = Tally()
        self.clients = [Client(served.port, self.context, self.tally) for _ in range(connections)]
        self.latencies: list[float] = []
        self.samples: list[tuple[float, float]] = []
        """(seconds since the start, RSS in MiB)."""
        known = known_cases()
        self.shares = [share for share, _ in known]
        self.known = [case for _, case in known]

    async def client(self, client: Client, seed: int) -> None:
        """One client's requests, at its pace, until the time is up."""
        rng = random.Random(seed)  # noqa: S311 (a reproducible mix, no secret)
        start = time.monotonic()
        due = start + rng.random() * self.interval  # spread the clients over one interval
        count = 0
        while due < start + self.seconds:
            await asyncio.sleep(max(due - time.monotonic(), 0))
            due += self.interval
            count += 1
            if count % NEW_CONNECTION_EVERY == 0 and client.kept is not None:
                client.kept.close()
                client.kept = None
            if rng.random() < 0.2:
                case = random_case(rng)
            else:
                case = rng.choices(self.known, self.shares)[0]
            sent = time.perf_counter()
            await client.send(case)
            self.latencies.append(time.perf_counter() - sent)

    async def sample(self, every: float) -> None:
        """Sample the server's RSS until cancelled."""
        start = time.monotonic()
        while True:
            self.samples.append((time.monotonic() - start, self.served.rss_mib()))
            await asyncio.sleep(every)

    async def run(self, every: float) -> None:
        """Run the clients and the sampler for the whole time."""
        sampler = asyncio.create_task(self.sample(every))
        await asyncio.gather(*(self.client(c, n) for n, c in enumerate(self.clients)))
        await asyncio.sleep(every)  # one sample after the load
        sampler.cancel()
        for client in self.clients:
            if client.kept is not None:
                client.kept.close()


def level(samples: list[tuple[float, float]], until: float) -> float:
    """The median RSS of the samples in the WINDOW seconds up to *until*."""
    return statistics.median(rss for at, rss in samples if until - WINDOW <= at <= until)


def main() -> int:
    """Start the server, soak it, print the figures next to the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="how long to load it")
    parser.add_argument("--rate", type=float, default=600.0, help="requests a second, in all")
    parser.add_argument("--connections", type=int, default=32, help="clients at once")
    parser.add_argument("--sample", type=float, default=2.0, help="seconds between RSS samples")
    args = parser.parse_args()
    seconds = args.minutes * 60
    figures = Figures()
    with tempfile.TemporaryDirectory() as name, Served(Path(name)) as served:
        soak = Soak(served, args.connections, args.rate, seconds)
        uvloop.run(soak.run(args.sample))
        healthz, readyz = uvloop.run(health(served.port, served.ca))
        events = served.log_events()
    tally, samples = soak.tally, soak.samples
    requests = tally.malformed + tally.controls
    ordered = sorted(soak.latencies)
    print(f"{args.minutes:g} min, {args.connections} connections, {requests} requests "
          f"({requests / seconds:.0f}/s; target {args.rate:g}/s), {tally.malformed} of them "
          f"malformed; latency p50 {ordered[len(ordered) // 2] * 1e3:.1f} ms, "
          f"p99 {ordered[int(len(ordered) * 0.99)] * 1e3:.1f} ms")  # fmt: skip
    every_30 = [f"{rss:.0f}" for at, rss in samples if at % 30 < args.sample]
    print(f"RSS (MiB) every 30 s: {', '.join(every_30)}")
    first = level(samples, min(60.0, seconds / 5))
    end = level(samples, samples[-1][0])
    peak = max(rss for _, rss in samples)
    print(f"RSS: start {samples[0][1]:.0f} MiB, first minute {first:.0f}, max {peak:.0f}, "
          f"end {end:.0f} ({len(samples)} samples)")  # fmt: skip
    for what, examples in tally.examples.items():
        print(f"{what} ({tally.failures[what]}), for example: {examples[0]}")
    errors = sum(tally.failures.values())
    figures.check(
        "RSS growth from the first minute to the end",
        f"{(end / first - 1) * 100:+.1f} %",
        f"<= +{GROWTH * 100:.0f} %",
        end <= first * (1 + GROWTH),
    )
    figures.check("errors (>= 500, resets, wrong answers)", str(errors), "0", not errors)
    figures.check(
        "internal errors in the log",
        str(events["internal-error"]),
        "0",
        not events["internal-error"],
    )
    figures.check("/healthz, /readyz after", f"{healthz}, {readyz}", "200, 200",
                  (healthz, readyz) == (200, 200))  # fmt: skip
    return figures.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
