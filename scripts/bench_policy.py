#!/usr/bin/env python3
"""Benchmark the decision function with policies, in process.

Measures, per TrainingJob (the bundled valid example, in namespace team-7):

- the whole review with no policy (SageMaker constraints only) and with the
  bundled baseline policy, each with the native proof (as served) and
  with every check in Python (``Config(native=False)``, the reference);
- the baseline policy's defaults and rules alone, in Python;
- the whole review with the two policies that apply to the job: the baseline and
  team-7's policy (tenancy, network, resources, a CEL rule);
- the same with 100 loaded policies: the baseline plus 99 team policies, each
  scoped to its own namespace, as a platform with one policy per team loads
  them (the same two apply);
- the webhook's fast path with the baseline (:mod:`webhook.server.fast`): the
  whole AdmissionReview around the job proved clean in one native check.

Targets (the policy issue): the baseline policy costs under 50 µs per object;
100 loaded policies cost at most twice one policy.

Usage: .venv/bin/python scripts/bench_policy.py [--rounds N]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from webhook.engine import Config, Context, review
from webhook.policy.compiled import PolicySet
from webhook.policy.load import baseline_policy, load_policies
from webhook.policy.subject import Subject
from webhook.server.fast import FastPath

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLE = PROJECT / "webhook" / "examples" / "training-job.yaml"

TEAM_POLICY = """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {{name: team-{n}}}
id: team-{n}
match: {{namespaces: [team-{n}]}}
params: {{maxInstances: 8}}
rules:
  - {{id: own, kind: tenancy, roles: ["arn:aws:iam::123456789012:role/{{namespace}}-*"],
     s3: ["s3://ml-{{namespace}}/"]}}
  - {{id: vpc, kind: network, requireVpc: true, subnets: ["subnet-*"]}}
  - {{id: limits, kind: resources, instanceTypes: ["ml.m5.*", "ml.g5.*"], maxInstanceCount: 8}}
  - {{id: budget, kind: cel,
     expression: "object.spec.resourceConfig.instanceCount <= params.maxInstances"}}
"""


def per_call_us(function: Callable[[], object], rounds: int, calls: int = 2000) -> float:
    """Median microseconds per call over *rounds* rounds."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


def team_policies(folder: Path, count: int) -> list[Path]:
    """Write *count* team policies into *folder*."""
    paths = []
    for n in range(count):
        path = folder / f"team-{n}.yaml"
        path.write_text(TEAM_POLICY.format(n=n), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> int:
    """Print the figures next to the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    job: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    job = copy.deepcopy(job)
    job["metadata"]["namespace"] = "team-7"
    job["spec"]["roleARN"] = "arn:aws:iam::123456789012:role/team-7-sagemaker"
    for channel in job["spec"]["inputDataConfig"]:
        channel["dataSource"]["s3DataSource"]["s3URI"] = "s3://ml-team-7/churn/train/"
    job["spec"]["outputDataConfig"]["s3OutputPath"] = "s3://ml-team-7/churn/output/"
    context = Context(namespace="team-7")
    baseline = load_policies([baseline_policy()])
    with tempfile.TemporaryDirectory() as folder:
        teams = team_policies(Path(folder), 99)
        two = load_policies([baseline_policy(), teams[7]])
        many = load_policies([baseline_policy(), *teams])
    none = Config()
    none_python = Config(native=False)
    one = Config(policies=baseline)
    one_python = Config(policies=baseline, native=False)
    applying = Config(policies=two)
    hundred = Config(policies=many)
    for config in (none, none_python, one, one_python, applying, hundred):  # a clean job
        assert review(job, context=context, config=config).findings == (), config

    def policy_part(policies: PolicySet) -> Callable[[], object]:
        return lambda: (
            policies.patch(job, Subject.of(job, context)),
            policies.evaluate(Subject.of(job, context)),
        )

    rows = [
        (
            "review, no policy (SageMaker constraints)",
            per_call_us(lambda: review(job, context=context, config=none), args.rounds),
        ),
        (
            "review, baseline policy",
            per_call_us(lambda: review(job, context=context, config=one), args.rounds),
        ),
        (
            "  the same, every check in Python: no policy",
            per_call_us(lambda: review(job, context=context, config=none_python), args.rounds),
        ),
        (
            "  the same, every check in Python: baseline",
            per_call_us(lambda: review(job, context=context, config=one_python), args.rounds),
        ),
        (
            "review, 2 loaded policies (baseline + team-7)",
            per_call_us(lambda: review(job, context=context, config=applying), args.rounds),
        ),
        (
            "  of which the 2 policies, in Python",
            per_call_us(policy_part(two), args.rounds),
        ),
        (
            "review, 100 loaded policies (the same 2 apply)",
            per_call_us(lambda: review(job, context=context, config=hundred), args.rounds),
        ),
        (
            "  of which the 100 policies, in Python",
            per_call_us(policy_part(many), args.rounds),
        ),
    ]
    fast = FastPath.of(dataclasses.replace(one, mutate=False))
    assert fast is not None
    body = {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "b6f3c1de-0000-4000-8000-000000000001",
            "kind": {"group": "sagemaker.services.k8s.aws", "version": "v1alpha1",
                     "kind": "TrainingJob"},
            "namespace": "team-7",
            "operation": "CREATE",
            "object": job,
        },
    }  # fmt: skip
    assert fast.clean(body)
    rows.append(
        (
            "webhook fast path: baseline review proved clean",
            per_call_us(lambda: fast.clean(body), args.rounds),
        )
    )
    for label, value in rows:
        print(f"{label:<50} {value:8.1f} us")
    ratio = rows[6][1] / rows[4][1]
    print(f"{'100 loaded / 2 loaded (whole review)':<50} {ratio:8.2f} x   (target <= 2)")
    ratio = rows[6][1] / rows[1][1]
    print(f"{'100 loaded / baseline alone (whole review)':<50} {ratio:8.2f} x")
    print(f"{'target for the baseline policy':<50} {'< 50 us':>11}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
