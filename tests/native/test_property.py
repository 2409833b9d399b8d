"""Generated policies and jobs: the native proofs never change a decision.

The shipped policies only use the options someone wrote a case for, so a rule
option whose native schema was forgotten (:mod:`webhook.native`: a schema may
only be stricter than its check) would pass every other test. Here every option
of every rule kind but CEL takes part (:mod:`tests.native.property.policies`),
on corpus jobs edited most often at the fields the generated rules read
(:mod:`tests.native.property.jobs`, :mod:`tests.native.property.targeting`).

Held, for CREATE, in the namespaces the policies are limited to and outside:

* each rule with a schema alone: when the schema (and guard) holds on a job,
  or on the corpus job with one of the edits alone, the rule finds nothing;
* the engine's findings are the same with ``native=True`` and ``native=False``;
* the webhook's fast path (:class:`~webhook.server.fast.FastPath`) calls a review
  clean only when the engine, every check in Python, finds nothing in it.

Each rule kind gets its own examples (as the first rule of the policies). The
run is derandomized (the same examples every time) and keeps no example
database: a few seconds in all. ``NATIVE_PROPERTY_EXAMPLES=1000`` (the examples
per kind; 40 by default) searches deeper, before a release or after changing a
rule kind or its schema.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, event, given, note, reject, settings
from hypothesis import strategies as st

from tests.conftest import PROJECT
from tests.conftest import admission_review as _admission_review
from tests.native.property.jobs import Job
from tests.native.property.options import NUMBERS, STRINGS
from tests.native.property.policies import (
    GENERATED_KINDS,
    RULE_SCHEMAS,
    STEERED,
    policy_documents,
)
from tests.native.property.reads import read_by
from tests.native.property.targeting import cases
from webhook.engine import Config, review
from webhook.findings import Decision
from webhook.native import Proof
from webhook.paths import format_path
from webhook.policy.compiled import PolicySet, compile_policy
from webhook.policy.load import load_policies
from webhook.policy.model import PolicyDocument
from webhook.policy.rules import PolicyConfigError, RuleConfigError
from webhook.policy.rules.registry import KINDS as COMPILERS
from webhook.policy.rules.registry import SCHEMAS
from webhook.policy.subject import Subject
from webhook.request import Context
from webhook.server.admission import context_of
from webhook.server.fast import FastPath
from webhook.server.wire import parse_request

#: Examples per rule kind with a native schema; a kind without one (its rules always run
#: in Python: only a rule beside it can differ) gets a quarter, the fast path two thirds.
EXAMPLES: Final = int(os.environ.get("NATIVE_PROPERTY_EXAMPLES", "40"))


def _settings(examples: int) -> settings:
    """Reproducible (the same examples every run) and without an example database."""
    return settings(
        max_examples=max(examples, 1),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _policies(documents: list[dict[str, Any]]) -> PolicySet:
    """The generated policies compiled; an example whose policies do not compile (as a
    loader would reject them) is not an example."""
    compiled = []
    for document in documents:
        try:
            compiled.append(compile_policy(PolicyDocument.model_validate(document)))
        except (PolicyConfigError, RuleConfigError):
            reject()
    return PolicySet.of(compiled)


def _answer(decision: Decision) -> tuple[Any, ...]:
    """What a review decides, which ``native=True`` and ``native=False`` must agree on."""
    findings = sorted((f.rule, f.path, f.action, f.message, f.on_key) for f in decision.findings)
    return decision.allowed, tuple(findings), decision.patch


def _events(config: Config, job: Job, context: Context) -> None:
    """Record how often the proofs hold, for ``--hypothesis-show-statistics``."""
    selection = config.policies.select(Subject.of(job, context))
    held = [policy.proof.holds(job) for policy in selection.policies if policy.proof is not None]
    event(f"policy proofs held: {sum(held)} of {len(held)}")


@pytest.mark.parametrize("kind", GENERATED_KINDS)
def test_native_proofs_never_change_a_decision(kind: str) -> None:
    """Policies whose first rule is of *kind*, and jobs: the same findings either way."""

    @_settings(EXAMPLES if kind in SCHEMAS else EXAMPLES // 4)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        documents = data.draw(policy_documents(kind), label="policies")
        config = Config(policies=_policies(documents))
        python = dataclasses.replace(config, native=False)
        # Each rule alone too: another rule's schema failing cannot hide it, and a
        # failure names the rule.
        alone = [
            (rule, Proof([rule.schema], [rule.guard] if rule.guard else []))
            for policy in config.policies.policies
            for rule in policy.rules
            if rule.schema is not None
        ]
        for mutant, namespace in data.draw(cases(config, documents), label="jobs"):
            context = Context("CREATE", namespace=namespace)
            for variant in mutant.variants():
                subject = Subject.of(variant, context)
                for rule, proof in alone:
                    if proof.holds(variant):
                        found = [(format_path(v.path), v.message) for v in rule.check(subject)]
                        if found:
                            note(f"job of {mutant.source} in {namespace}: {variant!r}")
                        assert not found, f"{rule.id}: its schema holds, its check finds {found}"
            job = mutant.job()
            note(f"job of {mutant.source} in {namespace}: {job!r}")
            _events(config, job, context)
            fast = _answer(review(job, context=context, config=config))
            slow = _answer(review(job, context=context, config=python))
            assert fast == slow, f"native=True: {fast}\nnative=False: {slow}"

    check()


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_the_fast_path_calls_clean_only_what_the_engine_finds_nothing_in(kind: str) -> None:
    """Policies whose first rule is of *kind*, and reviews: clean only when nothing is found."""

    @_settings(EXAMPLES * 2 // 3)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        # Only rules with a schema apply everywhere: with another, no fast path to test.
        everywhere = sorted(SCHEMAS)
        documents = data.draw(policy_documents(kind, everywhere), label="policies")
        config = Config(policies=_policies(documents), mutate=False)
        python = dataclasses.replace(config, native=False)  # every check, in Python
        fast = FastPath.of(config)
        if fast is None:
            event("no fast path")
            return
        for mutant, namespace in data.draw(cases(config, documents), label="jobs"):
            job = mutant.job()
            body = _admission_review(job, namespace)
            clean = fast.clean(body)
            event(f"fast path: {'clean' if clean else 'not clean'}")
            if clean:
                note(f"job of {mutant.source} in {namespace}: {job!r}")
                context = context_of(parse_request(body))  # as /validate builds it
                decision = review(job, context=context, config=python)
                assert not decision.findings, decision.findings

    check()


def test_every_rule_kind_but_cel_is_generated() -> None:
    assert set(RULE_SCHEMAS) == set(COMPILERS), "the policy schema and the registry disagree"
    assert set(SCHEMAS) <= set(GENERATED_KINDS)
    assert "cel" not in SCHEMAS, "CEL rules now have a native schema: generate them too"


def test_steering_names_only_options_that_exist() -> None:
    """A renamed option must not silently lose its values (and fall back to random text)."""
    paths = {f"{kind}:{path}" for kind, steered in STEERED.items() for path in steered.paths}
    bare = {path.split(":", 1)[1] for path in paths}
    for table in (STRINGS, NUMBERS):
        unknown = [key for key in table if key not in (paths if ":" in key else bare)]
        assert not unknown, unknown


def test_the_fields_rules_read_are_found() -> None:
    """:func:`read_by` sees what checks read (one that tripped on the proxies would leave
    its fields to chance): between them, the shipped policies' rules read all of these."""
    read: set[tuple[str, ...]] = set()
    for folder in sorted(path for path in (PROJECT / "policies").iterdir() if path.is_dir()):
        for policy in load_policies([folder]).policies:
            for rule in policy.document.rules:
                if rule.kind != "cel":
                    read |= read_by(rule)
    assert {
        ("resourceConfig", "instanceType"),
        ("resourceConfig", "instanceCount"),
        ("stoppingCondition", "maxRuntimeInSeconds"),
        ("algorithmSpecification", "trainingImage"),
        ("inputDataConfig", "[]", "dataSource", "s3DataSource", "s3URI"),
        ("outputDataConfig", "kmsKeyID"),
        ("roleARN",),
        ("vpcConfig", "subnets", "[]"),
        ("tags", "[]", "key"),
        ("hyperParameters",),
        ("environment",),
        ("enableManagedSpotTraining",),
    } <= read
