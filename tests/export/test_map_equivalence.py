"""The exported MutatingAdmissionPolicy fills in what the webhook's ``/mutate`` fills in, on
every shipped case, every manifest of the project, and mutants around what the defaults set.

Each request runs through both (:mod:`tests.export.mutating`): the webhook's
``/mutate`` answer applied to the job as the API server decodes it, and the
policy's mutations evaluated offline (their map-literal form, from the same
nodes as the ``JSONPatch`` form) and applied with jsonpatch. The objects must be
equal, but for what the export reports as left to the webhook (the shipped
policies' ``coerceStrings``); with the webhook after the policy (the chart's
``both``), equal outright.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, POLICY_FOLDERS
from tests.export.apiserver import decoded
from tests.export.harness import Request, case_requests
from tests.export.mutating import check, defaults_mutants, run
from tests.native.corpus import CORPORA, corpus_of, mutants
from webhook.engine import Config
from webhook.export.mutating import MapExport, export
from webhook.policy.defaults import DefaultsPlan
from webhook.policy.load import baseline_policy, load_policies
from webhook.testing import read_case_file

EVERYTHING = tuple(str(folder / "policy.yaml") for folder in POLICY_FOLDERS)


@functools.cache
def _configured(paths: tuple[str, ...]) -> tuple[Config, MapExport]:
    config = Config(policies=load_policies(list(paths)))
    exported = export(config)
    assert not exported.errors
    left_out = {item.why.split(":", 1)[0] for _, item in exported.skipped}
    assert left_out <= {"coerceStrings"}, exported.skipped
    return config, exported


def _plans(config: Config) -> list[DefaultsPlan]:
    return [p.defaults for p in config.policies.policies if p.defaults is not None]


@pytest.mark.parametrize("folder", POLICY_FOLDERS, ids=[folder.name for folder in POLICY_FOLDERS])
def test_every_case_and_its_mutants_get_the_webhooks_defaults(folder: Path) -> None:
    configs: list[tuple[str, ...]] = [(str(folder / "policy.yaml"),)]
    if folder.name != "baseline":
        configs.append((str(baseline_policy()), str(folder / "policy.yaml")))
    compared = 0
    for paths in configs:
        config, exported = _configured(paths)
        if not exported.objects:
            continue
        for number, (case, request) in enumerate(case_requests(folder)):
            jobs = itertools.chain(
                [request.job],
                defaults_mutants(request.job, _plans(config), 6, seed=number),
                mutants(dict(request.job), 2, seed=number),
            )
            for index, job in enumerate(jobs):
                results = run(Request(**{**request.__dict__, "job": job}), config, exported)
                if results is None:
                    continue
                check(results, f"{case.name} #{index}")
                compared += 1
    assert compared >= 10, compared


@pytest.mark.parametrize(
    "folder",
    [f for f in POLICY_FOLDERS if "patched:" in (f / "tests" / "cases.yaml").read_text()],
    ids=lambda folder: folder.name,
)
def test_the_cases_patched_objects_are_what_the_policy_gives(folder: Path) -> None:
    config, exported = _configured((str(folder / "policy.yaml"),))
    checked = 0
    for case, request in case_requests(folder):
        if case.patched is None or case.operation != "CREATE":
            continue
        results = run(request, config, exported)
        assert results is not None
        patched = decoded(read_case_file(folder / "tests" / case.patched))
        assert results.webhook == patched, case.name
        if results.expected == results.webhook:  # nothing coerced
            assert results.policy.object == patched, case.name
        else:  # coerceStrings, left to the webhook: what it gives after the policy
            assert results.policy.object == results.expected, case.name
            assert results.both == patched, case.name
        checked += 1
    assert checked >= 1


@pytest.mark.parametrize("corpus", CORPORA)
def test_every_manifest_and_its_mutants_get_the_webhooks_defaults(corpus: str) -> None:
    compared = 0
    for paths in [(str(baseline_policy()),), EVERYTHING]:
        config, exported = _configured(paths)
        plans = _plans(config)
        for index, (name, job) in enumerate(corpus_of(corpus)):
            jobs = itertools.chain(
                [job], defaults_mutants(job, plans, 2, seed=index), mutants(job, 1, seed=index)
            )
            for number, variant in enumerate(jobs):
                namespace = ("team-a", "research-vision", "sandbox")[(index + number) % 3]
                request = Request(variant, namespace, {"tier": "prod"} if number % 2 else {})
                results = run(request, config, exported)
                if results is None:
                    continue
                check(results, f"{name} #{number} in {namespace}")
                compared += 1
    assert compared >= 300, compared


def test_the_example_gets_every_default_and_a_complete_job_none() -> None:
    config, exported = _configured(EVERYTHING)
    good = read_case_file(EXAMPLES / "training-job.yaml")
    results = run(Request(good, "team-a", {}), config, exported)
    assert results is not None
    check(results, "example")
    assert results.policy.object != results.job
    assert results.policy.object is not None
    tags = {tag["key"]: tag.get("value") for tag in results.policy.object["spec"]["tags"]}
    assert tags["namespace"] == "team-a"
    assert tags["managed-by"] == "trainingjob-guard"
    again = run(Request(results.policy.object, "team-a", {}), config, exported)
    assert again is not None
    assert again.policy.object == results.policy.object  # nothing more to fill in
    assert again.policy.patches == ((), (), (), ())


def test_an_update_is_left_alone() -> None:
    config, exported = _configured(EVERYTHING)
    job = read_case_file(EXAMPLES / "training-job.yaml")
    results = run(Request(job, "team-a", {}, operation="UPDATE", old=job), config, exported)
    assert results is not None
    assert results.policy.object == results.job == results.webhook
    assert results.policy.patches == ()
