#!/usr/bin/env python3
"""Send a hundred thousand malformed requests to the webhook and check every answer.

Starts ``trainingjob-guard serve`` on 127.0.0.1 (the bundled baseline policy,
a generated certificate, default limits), then sends ``--cases`` malformed
requests (:mod:`fuzz_cases`, :mod:`fuzz_protocol`) over ``--connections``
kept-alive TLS connections at once (the fixed cases each on a new one), and
checks every answer as it comes:

- no status of 500 or more, and no internal error (an AdmissionReview whose
  status code is 500, or an ``internal-error`` line in the server's log);
- no connection reset or closed before its answers, and none closed after
  an answer that did not say ``connection: close``; those that did (413 over
  the body limit, 400 for what the HTTP parser refuses) are counted apart,
  and so are requests that never end, which the server must drop in time;
- ``allowed: true`` only where :func:`fuzz_cases.may_allow` says it is right
  (every 200 answer is parsed), and the controls answered as the bases are;
- no answer over 64 KiB; afterwards ``/healthz`` and ``/readyz`` answer 200
  and every line the server wrote to standard error is JSON.

Reports the counts by kind of case and outcome, and the time taken. Exits 1
when a target is missed.

Usage: .venv/bin/python scripts/fuzz_server.py [--cases N] [--connections N] [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import uvloop
from fuzz_cases import Case, cases, may_allow
from fuzz_protocol import fixed_cases
from loopback import MAX_ANSWER, Connection, EndedError, Figures, Response, Served, http, mib

READ_TIMEOUT = 5.0
"""The server's default read timeout (webhook.server.limits.READ_TIMEOUT)."""
ANSWER_TIMEOUT = 30.0
LINGER = 0.2
"""Seconds a fresh connection is watched after its answers, for anything more."""
EXAMPLES_KEPT = 3
"""Examples kept of each kind of failure."""


@dataclass
class Tally:
    """What the run saw."""

    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(kind of case, outcome) counts: cases, allowed, denied, other statuses, closed, dropped."""
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    closes: Counter[str] = field(default_factory=Counter)
    """Answers that said connection: close, by outcome."""
    after_close: Counter[str] = field(default_factory=Counter)
    """How the connection ended after such an answer: eof, reset (or open, if it did not)."""
    malformed: int = 0
    controls: int = 0
    largest: int = 0

    def fail(self, what: str, case: Case, detail: str = "") -> None:
        """Count a missed target, and keep the first few examples of it."""
        self.failures[what] += 1
        kept = self.examples.setdefault(what, [])
        if len(kept) < EXAMPLES_KEPT:
            kept.append(f"{case.kind}: {case.data[:200]!r} {detail[:300]}")


def judge(case: Case, answers: list[Response], ended: str | None, tally: Tally) -> None:
    """Check the answers to *case* (and how its connection ended) against the targets."""
    if case.control:
        tally.controls += 1
    else:
        tally.malformed += 1
    tally.outcomes[case.kind, "cases"] += 1
    for answer in answers:
        outcome = str(answer.status)
        tally.largest = max(tally.largest, len(answer.body))
        if answer.status >= 500:
            tally.fail("status >= 500", case, repr(answer.body))
        if len(answer.body) > MAX_ANSWER:
            tally.fail("answer over 64 KiB", case, mib(len(answer.body)))
        if answer.status == 200:
            try:
                response = orjson.loads(answer.body)["response"]
                allowed = response["allowed"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                tally.fail("200 without an AdmissionReview", case, repr(answer.body))
                continue
            outcome = "allowed" if allowed else "denied"
            if (response.get("status") or {}).get("code") == 500:
                tally.fail("internal error", case, repr(answer.body))
            if case.control and allowed != may_allow(case):
                tally.fail("control answered wrongly", case, repr(answer.body))
            elif allowed and not may_allow(case):
                tally.fail("allowed: true", case)
        tally.outcomes[case.kind, outcome] += 1
        if answer.closes:
            tally.outcomes[case.kind, "closed"] += 1
            tally.closes[outcome] += 1
    if answers and answers[-1].closes:
        tally.after_close[ended or "open"] += 1
    if case.answers == 0 and not answers:
        if ended in (None, "timeout"):
            tally.fail("never-ending request not dropped in time", case)
        else:
            tally.outcomes[case.kind, "dropped"] += 1
    elif len(answers) < case.answers and not (answers and answers[-1].closes):
        tally.fail(f"connection {ended or 'still open'} before its answers", case)
    elif ended not in (None, "timeout") and not (answers and answers[-1].closes):
        tally.fail(f"connection {ended} after an answer without connection: close", case)


class Client:
    """Sends cases one after another, on one kept connection (or a new one for each fresh case)."""

    def __init__(self, port: int, context: ssl.SSLContext, tally: Tally) -> None:
        self.port, self.context, self.tally = port, context, tally
        self.kept: Connection | None = None

    async def run(self, source: Iterator[Case]) -> None:
        """Send cases until *source* runs out."""
        for case in source:
            await self.send(case)

    async def send(self, case: Case) -> None:
        """Send one case, read its answers, judge them."""
        if case.fresh:
            connection = await Connection.open(self.port, self.context)
        else:
            if self.kept is None or self.kept.end is not None or self.kept.buffer:
                if self.kept is not None:
                    self.kept.close()
                self.kept = await Connection.open(self.port, self.context)
            connection = self.kept
        connection.send(case.data)
        answers: list[Response] = []
        ended: str | None = None
        timeout = READ_TIMEOUT + 3 if case.answers == 0 else ANSWER_TIMEOUT
        try:
            while len(answers) < max(case.answers, 1) and not (answers and answers[-1].closes):
                answers.append(await connection.response(head=case.head, timeout=timeout))
            if case.fresh:  # anything more: another answer, or the end of the connection
                while True:
                    answers.append(await connection.response(head=case.head, timeout=LINGER))
        except EndedError as error:
            ended = None if error.reason == "timeout" and answers else error.reason
        if ended is None and connection.end is not None:
            ended = connection.end
        judge(case, answers, ended, self.tally)
        if case.fresh or ended is not None or (answers and answers[-1].closes):
            connection.close()
            if connection is self.kept:
                self.kept = None


async def fuzz(port: int, ca: Path, every: Iterable[Case], connections: int) -> Tally:
    """Send every case over *connections* connections at once; what was seen."""
    context = ssl.create_default_context(cafile=str(ca))
    tally = Tally()
    source = iter(every)
    clients = [Client(port, context, tally) for _ in range(connections)]
    await asyncio.gather(*(client.run(source) for client in clients))
    for client in clients:
        if client.kept is not None:
            client.kept.close()
    return tally


async def health(port: int, ca: Path) -> tuple[int, int]:
    """Statuses of /healthz and /readyz, on a new connection."""
    connection = await Connection.open(port, ssl.create_default_context(cafile=str(ca)))
    statuses = []
    for path in ("/healthz", "/readyz"):
        connection.send(http("GET", path, headers=[(b"Host", b"localhost")]))
        statuses.append((await connection.response()).status)
    connection.close()
    return statuses[0], statuses[1]


def report(tally: Tally, seconds: float) -> None:
    """The counts by kind of case and outcome."""
    kinds = list(dict.fromkeys(kind for kind, _ in tally.outcomes))
    statuses = sorted({o for _, o in tally.outcomes if o.isdigit()})
    columns = ["cases", "allowed", "denied", *statuses, "closed", "dropped"]
    print("answers by kind of case (200: allowed or denied; closed: with connection: close;")
    print("dropped: a request that never ends, dropped unanswered by the server)")
    print(f"{'':<24}" + "".join(f"{column:>9}" for column in columns))
    for kind in kinds:
        cells = [tally.outcomes.get((kind, column), 0) for column in columns]
        print(f"{kind:<24}" + "".join(f"{cell or '':>9}" for cell in cells))
    rate = (tally.malformed + tally.controls) / seconds
    print(f"{tally.malformed} malformed requests and {tally.controls} controls in {seconds:.0f} s "
          f"({rate:.0f} requests/s)")  # fmt: skip


def main() -> int:
    """Start the server, fuzz it, print the figures next to the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="malformed requests to send")
    parser.add_argument("--connections", type=int, default=16, help="kept connections at once")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random cases")
    args = parser.parse_args()
    figures = Figures()
    with tempfile.TemporaryDirectory() as name, Served(Path(name)) as served:
        start = time.monotonic()
        every = cases(args.cases, fixed_cases(), args.seed)
        tally = uvloop.run(fuzz(served.port, served.ca, every, args.connections))
        seconds = time.monotonic() - start
        healthz, readyz = uvloop.run(health(served.port, served.ca))
        events = served.log_events()
    report(tally, seconds)
    for what, examples in tally.examples.items():
        print(f"{what} ({tally.failures[what]}), for example:")
        for example in examples:
            print(f"  {example}")
    fails = tally.failures
    closes = ", ".join(f"{n} {outcome}" for outcome, n in sorted(tally.closes.items()))
    drops = sum(n for (_, outcome), n in tally.outcomes.items() if outcome == "dropped")
    print(
        f"answers with connection: close (expected: 413 over the limit, 400 for what HTTP/1.1 "
        f"refuses, HTTP/1.0 and Connection: close): {closes}; then the server ended the "
        f"connection: {', '.join(f'{n} {how}' for how, n in sorted(tally.after_close.items()))}"
    )
    print(f"requests that never end, dropped unanswered within the read timeout: {drops}")
    lost = sum(n for what, n in fails.items() if what.startswith(("connection", "never-ending")))
    checks = [
        (
            "malformed requests",
            f"{tally.malformed}",
            f">= {args.cases}",
            tally.malformed >= args.cases,
        ),
        ("statuses >= 500", f"{fails['status >= 500']}", "0", not fails["status >= 500"]),
        ("resets, unexpected closes, no answer", f"{lost}", "0", not lost),
        (
            "allowed: true the oracle refuses",
            f"{fails['allowed: true']}",
            "0",
            not fails["allowed: true"],
        ),
        (
            "controls answered wrongly",
            f"{fails['control answered wrongly']}",
            "0",
            not fails["control answered wrongly"],
        ),
        (
            "internal errors (answers, log)",
            f"{fails['internal error']}, {events['internal-error']}",
            "0, 0",
            not fails["internal error"] and not events["internal-error"],
        ),
        (
            "200 answers that are no AdmissionReview",
            f"{fails['200 without an AdmissionReview']}",
            "0",
            not fails["200 without an AdmissionReview"],
        ),
        ("largest answer", mib(tally.largest), "<= 64.0 KiB", tally.largest <= MAX_ANSWER),
        (
            "/healthz, /readyz after",
            f"{healthz}, {readyz}",
            "200, 200",
            (healthz, readyz) == (200, 200),
        ),
        ("log lines that are not JSON", f"{events['(not JSON)']}", "0", not events["(not JSON)"]),
    ]
    for label, shown, target, met in checks:
        figures.check(label, shown, target, met)
    return figures.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
