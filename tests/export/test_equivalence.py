"""The exported policies decide as the webhook does, rule by rule, on every shipped case,
every example manifest and mutants of them all.

For each request the webhook's findings of the exported rules (rule id and action)
must be exactly the failed validations of the ValidatingAdmissionPolicies
(evaluated offline with the CEL core the webhook uses, on the object after the
webhook's defaults, as the API server runs them after mutating admission). The
only requests left out are those the API server refuses before validating
admission (:mod:`tests.export.apiserver`), and the one documented difference:
updates by the ACK controller, which the exported policies do not look at.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, POLICY_FOLDERS, PROJECT
from tests.export.harness import Request, case_requests, decide, described
from tests.native.corpus import CORPORA, corpus_of, mutants
from webhook.constraints.update import ACK_CONTROLLER_USER
from webhook.engine import Config
from webhook.export.vap import Export, export
from webhook.policy.compiled import PolicySet
from webhook.policy.load import baseline_policy, load_policies
from webhook.testing import read_case_file


@functools.cache
def _configured(paths: tuple[str, ...]) -> tuple[Config, Export]:
    policies: PolicySet = load_policies(list(paths))
    config = Config(policies=policies)
    return config, export(config)


def _check(request: Request, config: Config, exported: Export, name: str) -> bool:
    """Assert both sides agree on *request*; False when the API server would refuse it."""
    verdicts = decide(request, config, exported)
    if verdicts is None:
        return False
    if request.operation == "UPDATE" and request.username == ACK_CONTROLLER_USER:
        assert verdicts.vap == frozenset(), (name, "the controller's updates are not looked at")
        return True
    assert verdicts.webhook == verdicts.vap, (name, described(verdicts))
    return True


@pytest.mark.parametrize("folder", POLICY_FOLDERS, ids=[folder.name for folder in POLICY_FOLDERS])
def test_every_case_and_its_mutants_get_the_webhooks_decision(folder: Path) -> None:
    configs: list[tuple[str, ...]] = [(str(folder / "policy.yaml"),)]
    if folder.name != "baseline":
        configs.append((str(baseline_policy()), str(folder / "policy.yaml")))
    compared = 0
    for paths in configs:
        config, exported = _configured(paths)
        assert not exported.errors
        for case, request in case_requests(folder):
            name = case.name
            for number, job in enumerate(
                itertools.chain([request.job], mutants(dict(request.job), 4, seed=len(name)))
            ):
                variant = Request(**{**request.__dict__, "job": job})
                compared += _check(variant, config, exported, f"{name} #{number}")
    assert compared >= 8, compared


@pytest.mark.parametrize("corpus", CORPORA)
def test_every_manifest_and_its_mutants_get_the_webhooks_decision(corpus: str) -> None:
    everything = tuple(str(folder / "policy.yaml") for folder in POLICY_FOLDERS)
    compared = 0
    for paths in [(str(baseline_policy()),), everything]:
        config, exported = _configured(paths)
        for index, (name, job) in enumerate(corpus_of(corpus)):
            for number, mutant in enumerate(itertools.chain([job], mutants(job, 1, seed=index))):
                namespace = ("team-a", "research-vision")[(index + number) % 2]
                request = Request(mutant, namespace, {"tier": "prod"} if number else {})
                compared += _check(request, config, exported, f"{name} #{number}")
    assert compared >= 150, compared


def test_the_examples_are_allowed_and_denied_alike() -> None:
    config, exported = _configured((str(baseline_policy()),))
    good = read_case_file(EXAMPLES / "training-job.yaml")
    verdicts = decide(Request(good, "team-a", {}), config, exported)
    assert verdicts is not None
    assert verdicts.webhook == verdicts.vap == frozenset()


def test_an_update_that_keeps_the_spec_is_not_looked_at_and_one_that_changes_it_is() -> None:
    config, exported = _configured((str(PROJECT / "policies" / "tenancy" / "policy.yaml"),))
    tests = PROJECT / "policies" / "tenancy" / "tests"
    good = read_case_file(tests / "good-no-output-key.yaml")
    bad = read_case_file(tests / "bad-other-key.yaml")
    same = decide(Request(bad, "team-a", {}, operation="UPDATE", old=bad), config, exported)
    changed = decide(Request(bad, "team-a", {}, operation="UPDATE", old=good), config, exported)
    assert same is not None
    assert changed is not None
    assert same.vap == same.webhook == frozenset()
    assert ("tenancy/keys", "deny") in {(rule, action.value) for rule, action in changed.vap}
