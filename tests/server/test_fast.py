"""The one-check proof of a clean review is never looser than ``/validate`` itself.

Whenever :meth:`FastPath.clean` holds, the usual handler (envelope typing,
request context, policy selection, every check) must answer "allowed" with
nothing to say. Checked on every case of every shipped policy, with the
baseline and alone, and on mutants of each case's job, inside reviews that
vary what the proof reads from the envelope: operation, kind, subresource,
namespace, user.
"""

from __future__ import annotations

import copy
import io
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, POLICY_FOLDERS, admission_review
from tests.native.corpus import CORPORA, corpus_of, mutants
from webhook.engine import Config
from webhook.policy.load import baseline_policy, load_policies
from webhook.server import admission
from webhook.server.fast import FastPath
from webhook.server.wire import parse_request
from webhook.testing import CasesFile, read_case_file

EXAMPLE: dict[str, Any] = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())


def _variants(job: Any, namespace: str) -> Iterator[dict[str, Any]]:
    """The review of *job* as the API server may send it, and envelopes the proof must refuse."""
    yield admission_review(job, namespace)
    yield admission_review(job, None)  # the job's own metadata.namespace then selects the policies
    yield admission_review(job, "team-elsewhere")
    yield admission_review(job, namespace, dryRun=True)
    yield admission_review(job, namespace, operation="UPDATE", oldObject=copy.deepcopy(job))
    yield admission_review(job, namespace, operation="DELETE")
    yield admission_review(job, namespace, subResource="status")
    yield admission_review(job, namespace, kind={"group": "", "version": "v1", "kind": "Pod"})
    yield admission_review(job, namespace, userInfo={"username": "break-glass", "groups": ["sre"]})


def _allowed_as_is(review: dict[str, Any], config: Config) -> bool:
    answer = admission.validate(parse_request(review), config)
    return answer.allowed and not answer.findings and not answer.warnings and not answer.patch


def _cases(folder: Path) -> Iterator[tuple[str, dict[str, Any], str]]:
    cases = CasesFile.model_validate(read_case_file(folder / "tests" / "cases.yaml"))
    for case in cases.cases:
        job = read_case_file(folder / "tests" / case.object)
        metadata = job.get("metadata") if isinstance(job, dict) else None
        namespace = case.namespace or (metadata or {}).get("namespace") or "default"
        yield case.name, job, namespace


def _configs(folder: Path) -> list[Config]:
    alone = load_policies([folder])
    together = load_policies([baseline_policy(), folder]) if folder.name != "baseline" else alone
    return [Config(policies=alone, mutate=False), Config(policies=together, mutate=False)]


@pytest.mark.parametrize("folder", POLICY_FOLDERS, ids=[folder.name for folder in POLICY_FOLDERS])
def test_a_review_the_fast_path_calls_clean_is_allowed_as_is(folder: Path) -> None:
    for config in _configs(folder):
        fast = FastPath.of(config)
        if fast is None:
            continue
        for name, job, namespace in _cases(folder):
            for mutant in itertools.chain([job], mutants(job, 8, seed=len(name))):
                for review in _variants(mutant, namespace):
                    if fast.clean(review):
                        assert _allowed_as_is(review, config), (name, review)


@pytest.mark.parametrize("corpus", CORPORA)
@pytest.mark.parametrize("with_baseline", [False, True], ids=["no policy", "baseline"])
def test_every_manifest_and_its_mutants_proved_clean_are_allowed_as_is(
    *, with_baseline: bool, corpus: str
) -> None:
    """The shipped manifests (and the ACK tree's): many are proved clean, each one rightly."""
    policies = load_policies([baseline_policy()] if with_baseline else [])
    config = Config(policies=policies, mutate=False)
    fast = FastPath.of(config)
    assert fast is not None
    proved = 0
    for name, job in corpus_of(corpus):
        for mutant in itertools.chain([job], mutants(job, 6, seed=len(name))):
            for review in itertools.islice(_variants(mutant, "team-a"), 5):
                if fast.clean(review):
                    proved += 1
                    assert _allowed_as_is(review, config), (name, review)
    assert proved >= 200, proved


def test_the_bundled_example_is_proved_clean_with_the_baseline() -> None:
    config = Config(policies=load_policies([baseline_policy()]), mutate=False)
    fast = FastPath.of(config)
    assert fast is not None
    review = admission_review(EXAMPLE, "team-a")
    assert fast.clean(review)
    assert _allowed_as_is(review, config)
    assert fast.clean(admission_review(EXAMPLE, None))  # the job's own namespace


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"operation": "UPDATE"}, "updates compare with oldObject: the usual path"),
        ({"subResource": "status"}, "not the resource itself"),
        ({"object": None}, "no object"),
        ({"kind": {"group": "", "version": "v1", "kind": "Pod"}}, "another kind"),
        ({"uid": 7}, "not an AdmissionReview v1"),
    ],
)
def test_the_fast_path_leaves_other_reviews_to_the_usual_path(
    change: dict[str, Any], why: str
) -> None:
    fast = FastPath.of(Config(policies=load_policies([baseline_policy()]), mutate=False))
    assert fast is not None
    assert not fast.clean(admission_review(EXAMPLE, "team-a", **change)), why


def test_a_finding_leaves_the_job_to_the_usual_path() -> None:
    fast = FastPath.of(Config(policies=load_policies([baseline_policy()]), mutate=False))
    assert fast is not None
    spot = copy.deepcopy(EXAMPLE)
    spot["spec"]["stoppingCondition"]["maxWaitTimeInSeconds"] = 7200  # checked in Python
    repeated = copy.deepcopy(EXAMPLE)
    repeated["spec"]["tags"] = [{"key": "team", "value": "a"}, {"key": "team", "value": "b"}]
    latest = copy.deepcopy(EXAMPLE)
    latest["spec"]["algorithmSpecification"]["trainingImage"] = "ubuntu:latest"  # a warning
    for job in (spot, repeated, latest):
        assert not fast.clean(admission_review(job, "team-a"))


def _policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "apiVersion: trainingjob-guard.io/v1alpha1\nkind: TrainingJobPolicy\n"
        "metadata: {name: p}\nid: p\n" + text
    )
    return path


@pytest.mark.parametrize(
    "text",
    [
        # A selector on namespace labels notes it when they are unknown.
        "match: {namespaceSelector: {matchLabels: {tier: prod}}}\n"
        "rules: [{id: vpc, kind: network, requireVpc: true}]\n",
        # A break-glass annotation set by the wrong user is noted.
        "exemptions: {annotation: {annotation: x.io/exempt, groups: [sre]}}\n"
        "rules: [{id: vpc, kind: network, requireVpc: true}]\n",
        # A rule for every job that only Python can check.
        "rules: [{id: cel, kind: cel, expression: 'object.spec.resourceConfig.instanceCount < 4'}]\n",
    ],
)
def test_no_fast_path_when_a_clean_job_could_still_get_a_finding(tmp_path: Path, text: str) -> None:
    assert FastPath.of(Config(policies=load_policies([_policy(tmp_path, text)]))) is None


def test_no_fast_path_without_the_native_proofs() -> None:
    config = Config(policies=load_policies([baseline_policy()]), native=False)
    assert FastPath.of(config) is None


def test_a_namespaced_policy_only_checked_in_python_sends_only_its_namespace_the_usual_way(
    tmp_path: Path,
) -> None:
    policy = _policy(
        tmp_path,
        "match: {namespaces: [team-a]}\n"
        "rules: [{id: small, kind: cel, expression: 'object.spec.resourceConfig.instanceCount < 9'}]\n",
    )
    config = Config(policies=load_policies([baseline_policy(), policy]), mutate=False)
    fast = FastPath.of(config)
    assert fast is not None
    assert not fast.clean(admission_review(EXAMPLE, "team-a"))
    assert fast.clean(admission_review(EXAMPLE, "team-b"))
    job = copy.deepcopy(EXAMPLE)
    job["metadata"]["namespace"] = "team-b"
    assert fast.clean(admission_review(job, None))


def test_a_namespaced_policy_with_schemas_is_proved_with_its_own_proof(
    tmp_path: Path,
) -> None:
    policy = _policy(
        tmp_path,
        "match: {namespaces: [team-a]}\n"
        "rules: [{id: small, kind: resources, maxInstanceCount: 1}]\n",
    )
    config = Config(policies=load_policies([policy]), mutate=False)
    fast = FastPath.of(config)
    assert fast is not None
    big = copy.deepcopy(EXAMPLE)
    big["spec"]["resourceConfig"]["instanceCount"] = 2
    assert fast.clean(admission_review(EXAMPLE, "team-a"))
    assert not fast.clean(admission_review(big, "team-a"))
    assert fast.clean(admission_review(big, "team-b"))
    assert not _allowed_as_is(admission_review(big, "team-a"), config)
    assert _allowed_as_is(admission_review(big, "team-b"), config)


def test_a_reloaded_configuration_gets_its_own_fast_path(tmp_path: Path) -> None:
    from webhook.server.state import JsonLog, ServerState

    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "p.yaml").write_text(baseline_policy().read_text())
    state = ServerState.load([folder], log=JsonLog(io.BytesIO()))
    assert state.fast_path is not None
    assert state.fast_path.config is state.config
    (folder / "p.yaml").write_text(
        "apiVersion: trainingjob-guard.io/v1alpha1\nkind: TrainingJobPolicy\n"
        "metadata: {name: p}\nid: p\nrules: [{id: c, kind: cel, expression: 'true'}]\n"
    )
    assert state.reload_policies_if_changed() is True
    assert state.fast_path is None  # a CEL rule for every job: the usual path
