"""The server with the cluster's TrainingJobPolicy objects: one swap with the files, readiness.

The objects come from an in-memory source with the interface of the Kubernetes
adapter (tests/kube/test_policy_watch.py tests that one against the fake API
server); what is asserted is the decision on a job, the verdicts handed back for
the status, the log and ``/readyz``.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import EXAMPLES, PROJECT, write
from webhook.engine import review
from webhook.findings import Action
from webhook.policy.load import PolicyLoadError, baseline_policy
from webhook.policy.objects import DUPLICATE, INVALID, LOADED, PolicyObject, Verdict
from webhook.request import Context
from webhook.server.app import build_app
from webhook.server.cluster import ClusterPolicies
from webhook.server.state import JsonLog, ServerState

Obj = dict[str, Any]
TEAM = Context("CREATE", namespace="team-a")


class Source:
    """The objects the API server holds, as the watch hands them over; verdicts kept."""

    def __init__(self) -> None:
        self.objects: dict[str, Obj] = {}
        self.listed = False
        self.revision = 0
        self.reported: list[list[Verdict]] = []

    def put(self, obj: Obj) -> None:
        metadata = obj["metadata"]
        old = self.objects.get(metadata["name"])
        generation = old["metadata"]["generation"] + 1 if old else 1
        metadata.update(uid=metadata.get("uid", "uid-" + metadata["name"]), generation=generation)
        metadata["resourceVersion"] = str(self.revision + 100)
        self.objects[metadata["name"]] = obj
        self.revision += 1

    def delete(self, name: str) -> None:
        del self.objects[name]
        self.revision += 1

    def snapshot(self) -> tuple[int, Sequence[PolicyObject]] | None:
        if not self.listed:
            return None
        found = [PolicyObject.of(self.objects[name]) for name in sorted(self.objects)]
        return self.revision, [item for item in found if item is not None]

    def report(self, verdicts: Sequence[Verdict]) -> None:
        self.reported.append(list(verdicts))

    def last(self, name: str) -> Verdict:
        return next(v for v in self.reported[-1] if v.object.name == name)


def _policy(name: str) -> Obj:
    data: Obj = yaml.safe_load((PROJECT / "policies" / name / "policy.yaml").read_text())
    return data


def _job() -> Obj:
    job: Obj = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())
    del job["spec"]["vpcConfig"]
    return job


def _rules(state: ServerState) -> set[str]:
    decision = review(_job(), context=TEAM, config=state.config)
    return {finding.rule.split("/")[0] for finding in decision.findings}


class Served:
    def __init__(self, paths: Sequence[str | Path], **load: Any) -> None:
        self.stream = io.BytesIO()
        self.state = ServerState.load(
            paths, log=JsonLog(self.stream), cluster_policies=True, **load
        )
        self.source = Source()
        self.state.cluster = ClusterPolicies(self.source, self.state.log, self.state.metrics)

    def log(self) -> list[Obj]:
        self.state.log.flush()
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def ready(self) -> tuple[int, Obj]:
        """``GET /readyz``: status and body."""

        async def get() -> httpx.Response:
            transport = httpx.ASGITransport(app=build_app(self.state))
            async with httpx.AsyncClient(transport=transport, base_url="https://guard") as client:
                return await client.get("/readyz")

        response = asyncio.run(get())
        return response.status_code, response.json()


@pytest.fixture
def served() -> Served:
    return Served([baseline_policy()])


def test_not_ready_until_the_objects_are_listed(served: Served) -> None:
    status, body = served.ready()
    assert status == 503
    assert body["problems"] == ["the cluster's TrainingJobPolicy objects are not loaded yet"]
    served.state.reload()  # nothing listed yet: nothing changes
    assert served.ready()[0] == 503
    served.source.listed = True
    served.state.reload()
    status, body = served.ready()
    assert (status, body["problems"]) == (200, [])


def test_objects_are_enforced_with_the_files(served: Served) -> None:
    served.source.listed = True
    served.source.put(_policy("require-vpc"))
    served.state.reload()
    assert [p.id for p in served.state.config.policies.policies] == ["baseline", "require-vpc"]
    assert "require-vpc" in _rules(served.state)
    [verdict] = served.source.reported[-1]
    assert (verdict.reason, verdict.object.generation) == (LOADED, 1)
    assert {"event": "cluster-policy-loaded", "policy": "require-vpc", "generation": 1}.items() <= (
        next(line for line in served.log() if line["event"] == "cluster-policy-loaded").items()
    )


def test_a_broken_edit_keeps_the_last_good_version_and_a_fix_replaces_it(served: Served) -> None:
    served.source.listed = True
    good = _policy("require-vpc")
    served.source.put(good)
    served.state.reload()

    broken = copy.deepcopy(good)
    broken["rules"][0]["requireVolumeKey"] = True
    broken["rules"][0]["requireVpc"] = False
    served.source.put(broken)
    served.state.reload()
    assert "require-vpc" in _rules(served.state)  # still enforced: generation 1
    verdict = served.source.last("require-vpc")
    assert (verdict.ready, verdict.reason) == (False, INVALID)
    assert "did you mean" in verdict.message
    [refused] = [line for line in served.log() if line["event"] == "cluster-policy-refused"]
    assert (refused["level"], refused["generation"], refused["kept"]) == ("error", 2, True)

    fixed = copy.deepcopy(good)
    fixed["action"] = "warn"
    served.source.put(fixed)
    served.state.reload()
    decision = review(_job(), context=TEAM, config=served.state.config)
    vpc = [f for f in decision.findings if f.rule.startswith("require-vpc/")]
    assert vpc
    assert {f.action for f in vpc} <= {Action.WARN, Action.AUDIT}
    assert served.source.last("require-vpc").ready


def test_a_deleted_object_is_no_longer_enforced(served: Served) -> None:
    served.source.listed = True
    served.source.put(_policy("require-vpc"))
    served.state.reload()
    served.source.delete("require-vpc")
    served.state.reload()
    assert [p.id for p in served.state.config.policies.policies] == ["baseline"]
    assert "require-vpc" not in _rules(served.state)
    assert any(line["event"] == "cluster-policy-deleted" for line in served.log())


def test_an_object_with_a_file_policys_id_is_refused(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policies/require-vpc.yaml",
        (PROJECT / "policies/require-vpc/policy.yaml").read_text(),
    )
    served = Served([baseline_policy(), file.parent])
    served.source.listed = True
    served.source.put(_policy("require-vpc"))
    served.source.put(_policy("baseline"))
    served.state.reload()
    ids = [p.id for p in served.state.config.policies.policies]
    assert ids == ["baseline", "require-vpc"]
    assert [p.source for p in served.state.config.policies.policies] == [
        str(baseline_policy()),
        str(file),
    ]
    baseline = served.source.last("baseline")
    assert (baseline.reason, baseline.policy) == (DUPLICATE, None)
    assert "the bundled baseline (included unless --no-baseline)" in baseline.message
    assert served.source.last("require-vpc").message.startswith(
        f'policy id "require-vpc" is already loaded from {file}'
    )


def test_a_file_that_takes_an_objects_id_wins_on_the_same_reload(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    served = Served([folder])
    served.source.listed = True
    served.source.put(_policy("require-vpc"))
    served.state.reload()
    assert served.state.config.policies.policies[0].source == "trainingjobpolicy/require-vpc"

    write(folder, "require-vpc.yaml", (PROJECT / "policies/require-vpc/policy.yaml").read_text())
    served.state.reload()
    [policy] = served.state.config.policies.policies
    assert policy.source == str(folder / "require-vpc.yaml")
    assert served.source.last("require-vpc").reason == DUPLICATE


def test_rule_actions_may_name_rules_of_objects(tmp_path: Path) -> None:
    actions = {"require-vpc/vpc": Action.WARN}
    with pytest.raises(PolicyLoadError):
        ServerState.load([baseline_policy()], actions)  # without the cluster: a typo
    served = Served([baseline_policy()], actions=actions)
    served.source.listed = True
    served.state.reload()
    unused = [line for line in served.log() if line["event"] == "rule-action-unused"]
    assert "require-vpc/vpc" in unused[0]["error"]
    served.source.put(_policy("require-vpc"))
    served.state.reload()
    decision = review(_job(), context=TEAM, config=served.state.config)
    assert {f.action for f in decision.findings if f.rule == "require-vpc/vpc"} == {Action.WARN}


def test_unchanged_objects_swap_nothing(served: Served) -> None:
    served.source.listed = True
    served.source.put(_policy("require-vpc"))
    served.state.reload()
    config = served.state.config
    served.source.revision += 1  # a status write: a new revision, the same policies
    served.state.reload()
    assert served.state.config is config
    assert len(served.source.reported) == 2  # verdicts handed back all the same


def test_without_a_cluster_to_reach_serve_does_not_start(tmp_path: Path) -> None:
    missing = tmp_path / "kubeconfig"
    done = subprocess.run(
        [sys.executable, "-m", "webhook", "serve", "--port", "0", "--cluster-policies",
         "--kubeconfig", str(missing), "--cert-dir", str(tmp_path / "certs")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    records = [json.loads(line) for line in done.stderr.splitlines()]
    [record] = [r for r in records if r["event"] == "startup-failed"]
    assert record["level"] == "error"
    assert record["error"] == f"kubeconfig {missing}: no such file"
