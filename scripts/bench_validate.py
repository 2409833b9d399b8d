#!/usr/bin/env python3
"""Benchmark ``trainingjob-guard validate`` on a directory of generated manifests.

Writes N TrainingJob manifests (default 1,000; a third of them with mistakes)
into a temporary directory, then measures:

- the whole CLI as CI runs it (a new process: start-up, reading, YAML parsing,
  checks, output), median of several runs; target: under 2 s for 1,000;
- the decision function alone, per object, in process.

Usage: .venv/bin/python scripts/bench_validate.py [--count N] [--runs R]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from webhook.engine import Config, review

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLE = PROJECT / "webhook" / "examples" / "training-job.yaml"
TARGET_SECONDS = 2.0


def manifests(count: int) -> list[dict[str, Any]]:
    """Return *count* TrainingJobs: valid ones, and every third with mistakes."""
    base = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    jobs = []
    for index in range(count):
        job = copy.deepcopy(base)
        name = f"churn-xgboost-{index:05d}"
        job["metadata"]["name"] = name
        job["spec"]["trainingJobName"] = name
        job["spec"]["hyperParameters"]["num_round"] = str(50 + index % 100)
        if index % 3 == 0:
            job["spec"]["trainingJobName"] = name.replace("-", "_")
            job["spec"]["resourceConfig"]["instanceType"] = "ml.t2.medium"
            job["spec"]["stoppingCondition"]["maxWaitTimeInSeconds"] = 3600
        jobs.append(job)
    return jobs


def time_cli(directory: Path, runs: int) -> list[float]:
    """Wall-clock seconds of ``trainingjob-guard validate DIR -o json``, per run."""
    command = [sys.executable, "-m", "webhook", "validate", str(directory), "-o", "json"]
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, check=False)
        seconds.append(time.perf_counter() - start)
        if result.returncode not in (0, 1):
            raise SystemExit(f"validate failed ({result.returncode}): {result.stderr.decode()}")
    return seconds


def time_review(jobs: list[dict[str, Any]], rounds: int = 5) -> float:
    """Median microseconds per object of the decision function."""
    config = Config()
    per_object = []
    for _ in range(rounds):
        start = time.perf_counter()
        for job in jobs:
            review(job, config=config)
        per_object.append((time.perf_counter() - start) / len(jobs) * 1e6)
    return statistics.median(per_object)


def main() -> int:
    """Run the benchmark and print the figures next to the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    jobs = manifests(args.count)
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        for index, job in enumerate(jobs):
            text = yaml.safe_dump(job, sort_keys=False)
            (directory / f"job-{index:05d}.yaml").write_text(text, encoding="utf-8")
        cli = time_cli(directory, args.runs)
    review_us = time_review(jobs)
    median = statistics.median(cli)
    print(f"manifests:                      {args.count} ({args.count // 3 + 1} with mistakes)")
    print(f"CLI wall time, median of {args.runs}:    {median:.3f} s (min {min(cli):.3f} s)")
    print(f"target:                         < {TARGET_SECONDS:.1f} s for 1,000 manifests")
    print(f"decision function per object:   {review_us:.1f} us")
    verdict = "meets" if median < TARGET_SECONDS * args.count / 1000 else "MISSES"
    print(f"result:                         {verdict} the target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
