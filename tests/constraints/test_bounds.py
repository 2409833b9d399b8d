"""The size gate: what is over its bound is denied unchecked, one finding each; the rest is
checked in full, exactly as without the gate."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write
from tests.native.corpus import jobs, mutants
from webhook.constraints.bounds import (
    CHARS,
    DEPTH,
    ENTRIES,
    RELAXABLE,
    UNKNOWN_FIELDS,
    VALUES,
)
from webhook.constraints.check import default_checker
from webhook.constraints.gate import fits
from webhook.constraints.sizes import size_gate, size_proof
from webhook.engine import Config, Context, builtin_proof, review
from webhook.findings import Action, Decision
from webhook.policy.load import load_policies

Edit = Callable[[dict[str, Any]], None]
GATE_RULES = {"sagemaker.list-size", "sagemaker.map-size", "sagemaker.length", "guard.too-large"}


def _spec(path: str, value: Any) -> Edit:
    def edit(job: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = job["spec"]
        for name in parents:
            target = target.setdefault(name, {})
        target[last] = value

    return edit


def _metadata(name: str, value: Any) -> Edit:
    return lambda job: job["metadata"].__setitem__(name, value)


def _top(name: str, value: Any) -> Edit:
    return lambda job: job.__setitem__(name, value)


def _unknown_spread(job: dict[str, Any]) -> None:
    """60 unknown fields in resourceConfig, then 60 in spec: the 101st is ``spec.extra40``."""
    for index in range(60):
        job["spec"][f"extra{index}"] = "x"
        job["spec"]["resourceConfig"][f"extra{index}"] = "x"


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


OVERSIZED: list[tuple[str, Edit, str, str]] = [
    ("21 channels", _spec("inputDataConfig", [{}] * 21), "sagemaker.list-size", "spec.inputDataConfig"),
    ("101 hyperparameters", _spec("hyperParameters", {f"p{i}": "1" for i in range(101)}), "sagemaker.map-size", "spec.hyperParameters"),
    ("6 MiB hyperparameter", _spec("hyperParameters", {"eta": "x" * 6 * 2**20}), "sagemaker.length", "spec.hyperParameters[eta]"),
    ("257-char hyperparameter key", _spec("hyperParameters", {"k" * 257: "1"}), "sagemaker.length", f"spec.hyperParameters[{'k' * 257}]"),
    ("6 MiB job name", _spec("trainingJobName", "j" * 6 * 2**20), "sagemaker.length", "spec.trainingJobName"),
    ("long enum", _spec("algorithmSpecification.trainingInputMode", "F" * (CHARS + 1)), "guard.too-large", "spec.algorithmSpecification.trainingInputMode"),
    ("wrong type, huge", _spec("resourceConfig.instanceType", [{}] * (ENTRIES + 1)), "guard.too-large", "spec.resourceConfig.instanceType"),
    ("1001 labels", _metadata("labels", {f"l{i}": "v" for i in range(ENTRIES + 1)}), "guard.too-large", "metadata.labels"),
    ("long annotation", _metadata("annotations", {"note": "x" * (CHARS + 1)}), "guard.too-large", "metadata.annotations[note]"),
    ("long annotation key", _metadata("annotations", {"k" * (CHARS + 1): "x"}), "guard.too-large", f"metadata.annotations[{'k' * (CHARS + 1)}]"),
    ("1001 finalizers", _metadata("finalizers", ["f"] * (ENTRIES + 1)), "guard.too-large", "metadata.finalizers"),
    ("6 MiB name", _metadata("name", "n" * 6 * 2**20), "guard.too-large", "metadata.name"),
    ("huge status list", _top("status", {"conditions": [{}] * (ENTRIES + 1)}), "guard.too-large", "status.conditions"),
    ("too many values in status", _top("status", {"x": [[0] * ENTRIES] * (VALUES // ENTRIES + 1)}), "guard.too-large", f"status.x[{VALUES // ENTRIES - 1}]"),
    ("nested too deep", _spec("extra", _nested(DEPTH)), "guard.too-large", "spec.extra" + "[0]" * (DEPTH - 2)),
    ("101 unknown fields", lambda job: job["spec"].update({f"extra{i}": "x" for i in range(UNKNOWN_FIELDS + 1)}), "guard.too-large", f"spec.extra{UNKNOWN_FIELDS}"),
    ("10,000 unknown fields", lambda job: job["spec"].update({f"extra{i}": "x" for i in range(10**4)}), "guard.too-large", "spec"),
    ("unknown fields in two places", _unknown_spread, "guard.too-large", "spec.extra40"),
    ("101 unknown top-level fields", lambda job: job.update({f"extra{i}": 1 for i in range(UNKNOWN_FIELDS + 1)}), "guard.too-large", f"extra{UNKNOWN_FIELDS}"),
    ("10,000 unknown top-level fields", lambda job: job.update({f"extra{i}": 1 for i in range(10**4)}), "guard.too-large", ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "rule", "where"),
    [case[1:] for case in OVERSIZED],
    ids=[case[0] for case in OVERSIZED],
)
def test_what_is_over_a_bound_is_denied_with_one_finding(
    job: dict[str, Any], config: Config, edit: Edit, rule: str, where: str
) -> None:
    edit(job)
    decision = review(job, config=config)
    assert [(f.rule, f.where, f.action) for f in decision.findings] == [(rule, where, Action.DENY)]
    assert decision.findings[0].message.endswith("; nothing else is checked until it fits")


def test_the_message_is_the_checks_own_and_shows_no_secret(
    job: dict[str, Any], config: Config
) -> None:
    job["spec"]["hyperParameters"]["eta"] = "hunter2" * 1000
    [finding] = review(job, config=config).findings
    assert finding.message == (
        "value is 7000 characters long; SageMaker allows 0 to 2500 characters"
        "; nothing else is checked until it fits"
    )
    job["spec"]["hyperParameters"]["eta"] = "0.2"
    job["spec"]["inputDataConfig"] = [{}] * 1_000_000
    [finding] = review(job, config=config).findings
    assert finding.message.startswith("has 1000000 items; SageMaker allows 1 to 20 items")


WITHIN: list[tuple[str, Edit]] = [
    ("100 hyperparameters", _spec("hyperParameters", {f"p{i}": "1" for i in range(100)})),
    ("1000 labels", _metadata("labels", {f"l{i}": "v" for i in range(ENTRIES)})),
    ("a long annotation", _metadata("annotations", {"note": "x" * CHARS})),
    ("a huge managedFields", _metadata("managedFields", [{"manager": "m"}] * 1_000_000)),
    ("a long uid", _metadata("uid", "u" * 6 * 2**20)),
]


@pytest.mark.parametrize("edit", [case[1] for case in WITHIN], ids=[case[0] for case in WITHIN])
def test_what_is_within_its_bounds_is_checked_as_usual(
    job: dict[str, Any], config: Config, edit: Edit
) -> None:
    edit(job)
    assert review(job, config=config) == Decision()


def test_the_checks_findings_below_the_bounds_are_all_there(
    job: dict[str, Any], config: Config
) -> None:
    """20 channels of which 3 are wrong: three findings, not one about the size."""
    channel = job["spec"]["inputDataConfig"][0]
    job["spec"]["inputDataConfig"] = [
        {**channel, "channelName": f"c{i}" if i % 7 else "bad name"} for i in range(20)
    ]
    rules = [(f.rule, f.where) for f in review(job, config=config).findings]
    assert rules == [
        ("sagemaker.pattern", f"spec.inputDataConfig[{i}].channelName") for i in (0, 7, 14)
    ]


def test_the_gate_s_own_findings_always_deny(job: dict[str, Any]) -> None:
    """Beyond its bounds nothing was checked: an action for ``guard.too-large`` changes nothing,
    and one for a relaxed rule moves that rule's bound, not the others'."""
    config = Config(actions={"sagemaker.list-size": Action.WARN, "guard.too-large": Action.AUDIT})
    job["spec"]["inputDataConfig"] = [{}] * 21
    job["spec"]["hyperParameters"] = {f"p{i}": "1" for i in range(101)}
    job["metadata"]["labels"] = {f"l{i}": "v" for i in range(ENTRIES + 1)}
    decision = review(job, config=config)
    assert [(f.rule, f.where, f.action) for f in decision.findings] == [
        ("guard.too-large", "metadata.labels", Action.DENY),
        ("sagemaker.map-size", "spec.hyperParameters", Action.DENY),
    ]


def test_each_oversized_part_gets_its_own_finding(job: dict[str, Any], config: Config) -> None:
    job["spec"]["inputDataConfig"] = [{}] * 1_000_000
    job["spec"]["tags"] = [{"key": "k", "value": "v"}] * 1_000_000
    job["spec"]["hyperParameters"]["eta"] = "x" * 2**20
    assert [f.where for f in review(job, config=config).findings] == [
        "spec.hyperParameters[eta]",
        "spec.inputDataConfig",
        "spec.tags",
    ]


# --- UPDATE ------------------------------------------------------------------------------------


def test_an_update_that_keeps_an_oversized_spec_is_allowed(
    job: dict[str, Any], config: Config
) -> None:
    """A stored job over the bounds (from before the webhook) can still lose its finalizers."""
    job["spec"]["inputDataConfig"] = [{}] * 1_000_000
    job["metadata"]["finalizers"] = ["finalizers.sagemaker.services.k8s.aws/TrainingJob"]
    new = copy.deepcopy(job)
    new["metadata"]["finalizers"] = []
    assert review(new, old=job, context=Context("UPDATE"), config=config) == Decision()


def test_an_update_to_an_oversized_spec_is_denied_by_the_gate(
    job: dict[str, Any], config: Config
) -> None:
    new = copy.deepcopy(job)
    new["spec"]["hyperParameters"] = {f"p{i}": "1" for i in range(100_000)}
    decision = review(new, old=job, context=Context("UPDATE"), config=config)
    assert [(f.rule, f.where) for f in decision.findings] == [
        ("sagemaker.map-size", "spec.hyperParameters")
    ]


def test_an_oversized_stored_object_is_not_compared_with(
    job: dict[str, Any], config: Config
) -> None:
    old = copy.deepcopy(job)
    old["spec"]["hyperParameters"] = {f"p{i}": "1" for i in range(100_000)}
    decision = review(job, old=old, context=Context("UPDATE"), config=config)
    [finding] = decision.findings
    assert (finding.rule, finding.where, finding.action) == (
        "sagemaker.map-size",
        "spec.hyperParameters",
        Action.DENY,
    )
    assert finding.message.startswith(
        "in the stored object (oldObject), spec.hyperParameters has 100000 entries"
    )
    assert finding.message.endswith(
        ": no update of it is checked; delete the TrainingJob and create it again"
    )


# --- the gate and the checks agree -------------------------------------------------------------

CHECKER = default_checker()
CORPUS = [(name, job) for name, job in jobs() for job in [job, *mutants(job, 20, seed=len(name))]]


def _answer(decision: Decision) -> Any:
    return sorted((f.rule, f.path, f.message, f.action, f.on_key) for f in decision.findings)


@pytest.mark.parametrize("mutate", [False, True])
def test_within_the_bounds_the_gate_changes_nothing(mutate: bool) -> None:
    """On every job we ship or read and their mutants: with and without the gate, the same
    findings whenever the gate has nothing to say; and when it has, the checks deny too."""
    from webhook.policy.load import baseline_policy, load_policies

    on = Config(policies=load_policies([baseline_policy()]), mutate=mutate)
    off = Config(policies=on.policies, mutate=mutate, gate=False)
    oversized = 0
    for name, job in CORPUS:
        gated, full = review(job, config=on), review(job, config=off)
        if size_gate(CHECKER)(job):
            oversized += 1
            assert not full.allowed, name
            assert {f.rule for f in gated.findings} <= GATE_RULES, name
        else:
            assert _answer(gated) == _answer(full), name
    assert 0 < oversized < len(CORPUS) // 10  # the mutants reach past some bounds, not most


def test_no_shipped_job_is_oversized() -> None:
    assert [name for name, job in jobs() if size_gate(CHECKER)(job)] == []


def test_a_job_either_proof_holds_for_is_within_the_gate() -> None:
    """The engine skips the walk when a proof holds: neither may prove an oversized job."""
    proofs = (builtin_proof(CHECKER), size_proof(CHECKER))
    held = 0
    for name, job in CORPUS:
        if any(proof.holds(job) for proof in proofs):
            held += 1
            assert size_gate(CHECKER)(job) == [], name
    assert held > len(CORPUS) // 3


@pytest.mark.parametrize("case", OVERSIZED, ids=[case[0] for case in OVERSIZED])
def test_neither_proof_holds_for_an_oversized_job(
    job: dict[str, Any], case: tuple[str, Edit, str, str]
) -> None:
    case[1](job)
    assert not builtin_proof(CHECKER).holds(job)
    assert not size_proof(CHECKER).holds(job)


def test_the_size_proof_holds_for_a_job_the_checks_deny(job: dict[str, Any]) -> None:
    """It states sizes only: a bad value of the right size needs no walk either."""
    job["spec"]["trainingJobName"] = "bad_name"
    assert size_proof(CHECKER).holds(job)
    assert not builtin_proof(CHECKER).holds(job)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": [1, 2, {"b": "c"}]}, True),
        ([0] * ENTRIES, True),
        ([0] * (ENTRIES + 1), False),
        ("x" * (CHARS + 1), False),
        ({"k" * (CHARS + 1): 1}, False),
        (_nested(DEPTH), True),
        (_nested(DEPTH + 1), False),
        ([[0] * ENTRIES] * (VALUES // ENTRIES), False),
        (None, True),
    ],
)
def test_fits_holds_a_value_to_the_fixed_bounds(value: Any, expected: bool) -> None:
    assert fits(value) is expected


# --- relaxed rules -----------------------------------------------------------------------------

Resize = Callable[[dict[str, Any], int], None]


def _channels(job: dict[str, Any], count: int) -> None:
    job["spec"]["inputDataConfig"] = job["spec"]["inputDataConfig"][:1] * count


def _hyperparameters(job: dict[str, Any], count: int) -> None:
    job["spec"]["hyperParameters"] = {f"p{i}": "1" for i in range(count)}


def _job_name(job: dict[str, Any], length: int) -> None:
    job["spec"]["trainingJobName"] = "j" * length


def _hyperparameter(job: dict[str, Any], length: int) -> None:
    job["spec"]["hyperParameters"]["eta"] = "0" * length


def _hyperparameter_key(job: dict[str, Any], length: int) -> None:
    job["spec"]["hyperParameters"]["k" * length] = "1"


#: (rule, resize, where, SageMaker's bound, the fixed bound that stands in for it)
RELAXED: list[tuple[str, Resize, Callable[[int], str], int, int]] = [
    ("sagemaker.list-size", _channels, lambda _: "spec.inputDataConfig", 20, ENTRIES),
    ("sagemaker.map-size", _hyperparameters, lambda _: "spec.hyperParameters", 100, ENTRIES),
    ("sagemaker.length", _job_name, lambda _: "spec.trainingJobName", 63, CHARS),
    ("sagemaker.length", _hyperparameter, lambda _: "spec.hyperParameters[eta]", 2500, CHARS),
    ("sagemaker.length", _hyperparameter_key, lambda n: f"spec.hyperParameters[{'k' * n}]", 256, CHARS),
]  # fmt: skip
RELAXED_IDS = ["channels", "hyperparameters", "job name", "hyperparameter", "hyperparameter key"]

RELAXING = """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {{name: {id}}}
id: {id}
match: {{namespaces: [{namespaces}]}}
apiConstraints: {{{rule}: {action}}}
"""


def _relaxing(folder: Path, rule: str, action: Action, namespaces: str = "'*'") -> Path:
    where = namespaces.strip("'").replace("*", "all")
    name = f"{rule.replace('.', '-')}-{action}-in-{where}"
    text = RELAXING.format(id=name, namespaces=namespaces, rule=rule, action=action)
    return write(folder, f"{name}.yaml", text)


@pytest.fixture(params=["operator", "policy"])
def relax(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str, Action], Config]:
    """A configuration with one rule's action set, by ``--rule-action`` or by a policy."""

    def config(rule: str, action: Action = Action.WARN) -> Config:
        if request.param == "operator":
            return Config(actions={rule: action})
        return Config(policies=load_policies([_relaxing(tmp_path, rule, action)]))

    return config


@pytest.mark.parametrize("over", ["just", "up to the fixed bound"])
@pytest.mark.parametrize(("rule", "resize", "where", "bound", "ceiling"), RELAXED, ids=RELAXED_IDS)
def test_where_a_rule_is_relaxed_the_checks_report_it_with_its_action(
    job: dict[str, Any],
    relax: Callable[[str, Action], Config],
    over: str,
    rule: str,
    resize: Resize,
    where: Callable[[int], str],
    bound: int,
    ceiling: int,
) -> None:
    size = bound + 1 if over == "just" else ceiling
    resize(job, size)
    decision = review(job, config=relax(rule, Action.WARN))
    assert decision.allowed
    assert [(f.rule, f.where, f.action) for f in decision.findings] == [
        (rule, where(size), Action.WARN)
    ]
    assert "nothing else is checked" not in decision.findings[0].message


@pytest.mark.parametrize("over", ["just", "far"])
@pytest.mark.parametrize(("rule", "resize", "where", "bound", "ceiling"), RELAXED, ids=RELAXED_IDS)
def test_past_the_fixed_bound_a_relaxed_rule_is_one_denial_unchecked(
    job: dict[str, Any],
    relax: Callable[[str, Action], Config],
    over: str,
    rule: str,
    resize: Resize,
    where: Callable[[int], str],
    bound: int,
    ceiling: int,
) -> None:
    size = ceiling + 1 if over == "just" else ceiling * 24
    resize(job, size)
    decision = review(job, config=relax(rule, Action.WARN))
    assert [(f.rule, f.where, f.action) for f in decision.findings] == [
        ("guard.too-large", where(size), Action.DENY)
    ]
    assert decision.findings[0].message.endswith(
        f"; at most {ceiling} are checked where {rule} is relaxed"
        "; nothing else is checked until it fits"
    )


def test_a_rule_relaxed_to_audit_admits_silently(
    job: dict[str, Any], relax: Callable[[str, Action], Config]
) -> None:
    _channels(job, 21)
    decision = review(job, config=relax("sagemaker.list-size", Action.AUDIT))
    assert [(f.rule, f.action) for f in decision.findings] == [
        ("sagemaker.list-size", Action.AUDIT)
    ]
    assert decision.allowed
    assert not decision.warnings


def test_relaxing_one_rule_leaves_the_others_at_the_model_bounds(
    job: dict[str, Any], relax: Callable[[str, Action], Config]
) -> None:
    _channels(job, 21)
    _hyperparameters(job, 101)
    decision = review(job, config=relax("sagemaker.list-size", Action.WARN))
    assert [(f.rule, f.where, f.action) for f in decision.findings] == [
        ("sagemaker.map-size", "spec.hyperParameters", Action.DENY)
    ]


@pytest.mark.parametrize(
    ("operator", "policies", "namespace", "relaxed"),
    [
        ({}, [(Action.WARN, "'*'")], "team-a", True),
        ({"sagemaker.list-size": Action.DENY}, [(Action.WARN, "'*'")], "team-a", False),
        ({}, [(Action.WARN, "'*'"), (Action.DENY, "team-a")], "team-a", False),  # the strictest
        ({}, [(Action.WARN, "'*'"), (Action.DENY, "team-a")], "team-b", True),
        ({}, [(Action.WARN, "research")], "team-a", False),  # the policy does not apply there
        ({}, [(Action.WARN, "research")], "research", True),
    ],
)
def test_the_gate_reads_the_action_review_gives_the_rule(
    job: dict[str, Any],
    tmp_path: Path,
    operator: dict[str, Action],
    policies: list[tuple[Action, str]],
    namespace: str,
    relaxed: bool,
) -> None:
    config = Config(
        actions=operator,
        policies=load_policies(
            [_relaxing(tmp_path, "sagemaker.list-size", *policy) for policy in policies]
        ),
    )
    _channels(job, 21)
    [finding] = review(job, context=Context(namespace=namespace), config=config).findings
    assert finding.rule == "sagemaker.list-size"
    assert finding.action is (Action.WARN if relaxed else Action.DENY)
    assert finding.message.endswith("nothing else is checked until it fits") is not relaxed


def test_no_policy_is_selected_for_a_job_whose_metadata_is_over_its_bounds(
    job: dict[str, Any], tmp_path: Path
) -> None:
    """Selection reads the labels: for a job the gate denies anyway, only the operator's
    actions relax it."""
    config = Config(
        policies=load_policies([_relaxing(tmp_path, "sagemaker.list-size", Action.WARN)])
    )
    _channels(job, 21)
    job["metadata"]["labels"] = {f"l{i}": "v" for i in range(ENTRIES + 1)}
    decision = review(job, config=config)
    assert [(f.rule, f.where, f.action) for f in decision.findings] == [
        ("guard.too-large", "metadata.labels", Action.DENY),
        ("sagemaker.list-size", "spec.inputDataConfig", Action.DENY),
    ]


def test_relaxed_lists_count_towards_the_total_of_values(job: dict[str, Any]) -> None:
    """A thousand channels of a thousand attribute names each are not a million checks."""
    config = Config(actions={"sagemaker.list-size": Action.WARN})
    channel = copy.deepcopy(job["spec"]["inputDataConfig"][0])
    channel["dataSource"]["s3DataSource"]["attributeNames"] = ["a"] * ENTRIES
    job["spec"]["inputDataConfig"] = [channel] * ENTRIES
    [finding] = review(job, config=config).findings
    assert (finding.rule, finding.where) == (
        "guard.too-large",
        f"spec.inputDataConfig[{VALUES // ENTRIES - 1}].dataSource.s3DataSource.attributeNames",
    )
    assert finding.message.startswith(f"takes the job past {VALUES} list items")


def test_an_update_of_a_job_stored_past_a_relaxed_bound_is_checked(job: dict[str, Any]) -> None:
    config = Config(actions={"sagemaker.list-size": Action.WARN})
    _channels(job, 21)
    new = copy.deepcopy(job)
    new["spec"]["tags"].append({"key": "team", "value": "a"})
    decision = review(new, old=job, context=Context("UPDATE"), config=config)
    assert decision.allowed
    assert sorted((f.rule, f.action) for f in decision.findings) == [
        ("sagemaker.list-size", Action.WARN),
        ("update.not-propagated", Action.WARN),
    ]
    del new["spec"]["inputDataConfig"][20]  # the stored object alone is past its bound
    decision = review(new, old=job, context=Context("UPDATE"), config=config)
    assert [f.rule for f in decision.findings if f.action is Action.DENY] == ["update.immutable"]


def every_rule_relaxed() -> Config:
    """Every relaxable size rule set to warn."""
    return Config(actions=dict.fromkeys(RELAXABLE, Action.WARN))


@pytest.mark.parametrize("native", [False, True])
def test_with_rules_relaxed_the_gate_changes_nothing_within_the_fixed_bounds(
    native: bool,
) -> None:
    """Relaxed, the gate lets through what is past the model's bounds; the checks then give
    the answer they give without the gate, and the proofs the one the walk gives."""
    on = dataclasses.replace(every_rule_relaxed(), native=native)
    off = dataclasses.replace(every_rule_relaxed(), native=False, gate=False)
    let_through = 0
    for name, job in CORPUS:
        gated = review(job, config=on)
        if size_gate(CHECKER)(job, RELAXABLE):
            assert {f.rule for f in gated.findings} == {"guard.too-large"}, name
            assert not gated.allowed, name
            continue
        assert _answer(gated) == _answer(review(job, config=off)), name
        let_through += bool(size_gate(CHECKER)(job))
    assert let_through > 10  # mutants past a model bound, within the fixed ones


def test_a_job_either_proof_holds_for_is_within_the_relaxed_gate() -> None:
    proofs = (builtin_proof(CHECKER), size_proof(CHECKER))
    for name, job in CORPUS:
        if any(proof.holds(job) for proof in proofs):
            assert size_gate(CHECKER)(job, RELAXABLE) == [], name
