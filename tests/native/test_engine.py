"""With or without the native proof, the engine gives the same answer.

The reference is ``Config(native=False)``: every check in Python. Both run on
every case of every shipped policy (with the case's request context) and on
mutants of each case's object, validating (as ``/validate`` does) and
defaulting then validating (as ``trainingjob-guard validate`` does).
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POLICY_FOLDERS
from tests.native.corpus import CORPORA, corpus_of, mutants
from webhook.engine import Config, review
from webhook.findings import Decision
from webhook.policy.load import load_policies
from webhook.request import Context
from webhook.testing import CasesFile, read_case_file


def _answer(decision: Decision) -> tuple[Any, ...]:
    findings = sorted((f.rule, f.path, f.message, f.action, f.on_key) for f in decision.findings)
    return decision.allowed, tuple(findings), decision.patch


def _same(job: dict[str, Any], context: Context, config: Config) -> None:
    reference = dataclasses.replace(config, native=False)
    for mutate in (False, True):
        fast = review(job, context=context, config=dataclasses.replace(config, mutate=mutate))
        slow = review(job, context=context, config=dataclasses.replace(reference, mutate=mutate))
        assert _answer(fast) == _answer(slow), job


@pytest.mark.parametrize("folder", POLICY_FOLDERS, ids=[folder.name for folder in POLICY_FOLDERS])
def test_every_case_and_its_mutants_get_the_same_answer(folder: Path) -> None:
    config = Config(policies=load_policies([folder]))
    cases = CasesFile.model_validate(read_case_file(folder / "tests" / "cases.yaml"))
    for case in cases.cases:
        job = read_case_file(folder / "tests" / case.object)
        metadata = job.get("metadata") or {}
        context = Context(
            "CREATE",
            namespace=case.namespace or metadata.get("namespace") or "default",
            user=case.userInfo.username,
            groups=tuple(case.userInfo.groups),
            namespace_labels=case.namespaceLabels,
        )
        for mutant in itertools.chain([job], mutants(job, 25, seed=len(case.name))):
            _same(mutant, context, config)


@pytest.mark.parametrize("corpus", CORPORA)
def test_without_policies_every_manifest_gets_the_same_answer(corpus: str) -> None:
    for name, job in corpus_of(corpus):
        for mutant in itertools.chain([job], mutants(job, 10, seed=len(name))):
            _same(mutant, Context(), Config())
