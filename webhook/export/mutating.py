"""The policies' defaults as a MutatingAdmissionPolicy (beta): the pure core of ``export map``.

:func:`export` takes the webhook's configuration and returns a
``MutatingAdmissionPolicy`` and its ``MutatingAdmissionPolicyBinding``
(``admissionregistration.k8s.io/v1beta1``: beta since Kubernetes 1.34, off by
default behind the ``MutatingAdmissionPolicy`` feature gate and the API
group version) that fill in on CREATE what the webhook's ``/mutate`` fills in,
with what CEL cannot state and why, and the estimated cost. Nothing here reads a
file or prints.

One policy object holds every policy's defaults, one ``JSONPatch`` mutation per
policy, in policy id order. The API server applies the mutations of one policy
in order, each to the object the previous one left, which is the webhook's
precedence (the first policy by id wins a field). It promises no order between
policies (``reinvocationPolicy``'s API documentation: "no guarantee of order with
respect to ... admission policies"; the policy source collects them from a Go
map), so one policy object per TrainingJob policy could not keep it.

* ``matchConstraints``: CREATE of ``trainingjobs`` (not ``status``), as ``/mutate``.
* each mutation: the policy's scope and exemptions (:mod:`.scope`, as the
  ValidatingAdmissionPolicies' ``matchConditions``), then its fields
  (:mod:`.fill`), under the bounds its cost depends on: a name of at most 253
  characters (the API server refuses a longer one right after mutating
  admission), a ``trainingJobName`` and ``tags`` within SageMaker's limits (and
  the tags earlier mutations append; the size gate's fixed bounds where a rule of
  SageMaker's is relaxed). A job past them gets none of that policy's defaults
  here, and is refused or denied (``sagemaker.length``, ``sagemaker.list-size``)
  whatever it gets.
* no size gate: ``/mutate`` fills in nothing on a job past the gate's bounds,
  which the validating side denies anyway; stated in CEL, the gate fails on a
  number in ``hyperParameters``, which would reject the job before the webhook
  could turn the number into a string (``coerceStrings``).
* ``failurePolicy: Fail``: a mutation that cannot be evaluated (a field of the
  wrong type where a default goes inside it) rejects the request, as the
  webhook's ``failurePolicy: Fail`` does while it is down.
* ``reinvocationPolicy: Never``: the defaults fill in only what is absent, so a
  second run would change nothing the first left out.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Final

from webhook.constraints.bounds import CHARS, ENTRIES, LENGTH, LIST_SIZE
from webhook.constraints.schema import ListShape, StringShape
from webhook.engine import Config
from webhook.export import scope, text
from webhook.export.cost import CostError, Environment
from webhook.export.fill import (
    JOB_NAME,
    NAME,
    TRAINING_JOB_NAME,
    Filled,
    Leaf,
    fill,
    leaves,
    reads_job_name,
)
from webhook.export.kinds import NotExportableError
from webhook.export.model import Skipped
from webhook.export.mutation import Node, Op, When, expression
from webhook.export.shapes import LABEL_CHARS, NAME_CHARS, environment, job
from webhook.export.syntax import CelSyntaxError
from webhook.export.values import DYN, listing, mapping, record
from webhook.export.values import text as sized_text
from webhook.export.vap import MANAGED_BY, PREFIX, Cost, over_limits
from webhook.model import GROUP, VERSION
from webhook.policy.compiled import CompiledPolicy

API_VERSION: Final = "admissionregistration.k8s.io/v1beta1"
NAME_OF_POLICY: Final = f"{PREFIX}.defaults"
STABILITY: Final = {f"{PREFIX}.io/stability": "beta"}
REQUIRES: Final = (
    "Kubernetes 1.34+ with the MutatingAdmissionPolicy feature gate and the "
    "admissionregistration.k8s.io/v1beta1 API enabled"
)
RESOURCE_RULES: Final = [
    {
        "apiGroups": [GROUP],
        "apiVersions": [VERSION],
        "operations": ["CREATE"],
        "resources": ["trainingjobs"],
        "scope": "Namespaced",
    }
]
#: cel-go's ``StructCreateBaseCost`` (40) less ``MapCreateBaseCost`` (30), in
#: ``common/cost.go``: what a ``JSONPatch{...}`` costs over the map literal estimated.
STRUCT_OVER_MAP: Final = 10


@dataclass(frozen=True, slots=True)
class Mutation:
    """One policy's defaults: its ``JSONPatch`` mutation, and the same as map literals."""

    policy: str
    nodes: tuple[Node, ...]
    expression: str
    """What the API server evaluates (``JSONPatch{...}`` values)."""
    offline: str
    """The same nodes with map literals: what cel-expr-python evaluates."""


@dataclass(slots=True)
class MapExport:
    """What ``export map`` produces."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    mutations: list[Mutation] = field(default_factory=list)
    """In the order of the policy object's ``mutations``."""
    skipped: list[tuple[str, Skipped]] = field(default_factory=list)
    """Every default left to the webhook, with its policy."""
    costs: list[Cost] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Expressions over the API server's cost limits (nothing should be applied then)."""
    policies: list[str] = field(default_factory=list)
    """The policies with defaults, in id order."""


def export(config: Config) -> MapExport:
    """The defaults of *config*'s policies that CEL can state, as a MAP, with what is left out."""
    tags_bound, job_name_bound = _sagemaker_bounds(config)
    result = MapExport()
    taken: set[Leaf] = set()
    appended = 0
    defaulting = [p for p in config.policies.policies if p.defaults is not None]
    for position, policy in enumerate(defaulting):
        plan = policy.defaults
        assert plan is not None
        result.policies.append(policy.id)
        try:
            conditions = [c.expression for c in scope.conditions(policy.document)]
        except NotExportableError as error:
            why = Skipped(f"{policy.id}/defaults", f"its scope: {error}")
            result.skipped.append((policy.id, why))
            taken |= leaves(plan)
            continue
        filled = fill(
            policy.id, plan, taken=set(taken), withheld=_withheld(defaulting[position + 1 :])
        )
        result.skipped.extend((policy.id, item) for item in filled.skipped)
        taken |= filled.unstated
        if not filled.nodes:
            continue
        guards = _bounds(filled, tags_bound + appended, job_name_bound)
        condition = text.all_of([*conditions, *guards, "has(object.spec)"])
        nodes: tuple[Node, ...] = (When(condition, tuple(filled.nodes)),)
        result.mutations.append(
            Mutation(
                policy.id,
                nodes,
                expression(nodes, typed=True),
                expression(nodes, typed=False),
            )
        )
        appended += filled.tags
    if result.mutations:
        _estimate(result)
        result.objects.extend(_objects(result))
    return result


def _sagemaker_bounds(config: Config) -> tuple[int, int]:
    """The most ``tags`` and characters of ``trainingJobName`` a job can have and be admitted.

    SageMaker's, as the validating side denies more (``sagemaker.list-size``,
    ``sagemaker.length``); the size gate's fixed bounds where a policy or the operator
    relaxes that rule (:attr:`Config.relaxable`).
    """
    root = config.checker.constraints.root
    tags, job_name = root.members["tags"].shape, root.members["trainingJobName"].shape
    assert isinstance(tags, ListShape)
    assert tags.max is not None
    assert isinstance(job_name, StringShape)
    assert job_name.max is not None
    return (
        ENTRIES if LIST_SIZE in config.relaxable else tags.max,
        CHARS if LENGTH in config.relaxable else job_name.max,
    )


def _withheld(later: list[CompiledPolicy]) -> dict[Leaf, str]:
    """The fields a policy must leave to the webhook because of the policies after it.

    The webhook fills ``{trainingJobName}`` with the job's own value, before any policy's
    default of it; a mutation reads the object the earlier mutations left.
    """
    readers = [p.id for p in later if p.defaults is not None and reads_job_name(p.defaults)]
    if not readers:
        return {}
    return {
        JOB_NAME: f"policy {readers[0]} (later by id) fills {{trainingJobName}} in with the job's "
        "own; after this default, its mutation would read the default"
    }


def _bounds(filled: Filled, tags: int, job_name: int) -> list[str]:
    """The bounds the mutation's cost depends on; past them, a job is refused or denied."""
    guards: list[str] = []
    if NAME in filled.placeholders:
        guards.append(
            text.implies("has(object.metadata.name)", f"size(object.metadata.name) <= {NAME_CHARS}")
        )
    if TRAINING_JOB_NAME in filled.placeholders:
        guards.append(
            text.implies(
                "has(object.spec.trainingJobName)",
                f"size(object.spec.trainingJobName) <= {job_name}",
            )
        )
    if filled.merges_tags:
        guards.append(text.implies("has(object.spec.tags)", f"size(object.spec.tags) <= {tags}"))
    return guards


def _objects(result: MapExport) -> list[dict[str, Any]]:
    metadata = {
        "name": NAME_OF_POLICY,
        "labels": dict(MANAGED_BY),
        "annotations": {
            **STABILITY,
            f"{PREFIX}.io/requires": REQUIRES,
            f"{PREFIX}.io/policies": ", ".join(m.policy for m in result.mutations),
        },
    }
    return [
        {
            "apiVersion": API_VERSION,
            "kind": "MutatingAdmissionPolicy",
            "metadata": metadata,
            "spec": {
                "failurePolicy": "Fail",
                "reinvocationPolicy": "Never",
                "matchConstraints": {"resourceRules": RESOURCE_RULES},
                "mutations": [
                    {"patchType": "JSONPatch", "jsonPatch": {"expression": m.expression}}
                    for m in result.mutations
                ],
            },
        },
        {
            "apiVersion": API_VERSION,
            "kind": "MutatingAdmissionPolicyBinding",
            "metadata": {
                "name": NAME_OF_POLICY,
                "labels": dict(MANAGED_BY),
                "annotations": dict(STABILITY),
            },
            "spec": {"policyName": NAME_OF_POLICY},
        },
    ]


@functools.cache
def mutating_environment() -> Environment:
    """What a mutation reads: a ValidatingAdmissionPolicy's variables, metadata unchecked.

    The API server checks an object's name and labels after mutating admission, so here
    they have no bound but the request's size.
    """
    shape = job()
    assert shape.fields is not None
    metadata = record(
        {
            "name": sized_text(),
            "generateName": sized_text(),
            "namespace": sized_text(LABEL_CHARS),
            "labels": mapping(sized_text(), sized_text()),
            "annotations": mapping(sized_text()),
            "finalizers": listing(sized_text()),
        },
        rest=DYN,
    )
    obj = record({**shape.fields, "metadata": metadata})
    return environment().with_variable("object", obj)


def _count_ops(nodes: tuple[Node, ...]) -> int:
    total = 0
    for node in nodes:
        if isinstance(node, Op):
            total += 1
        else:
            total += _count_ops(node.then) + _count_ops(node.otherwise)
    return total


def _estimate(result: MapExport) -> None:
    """Estimate every expression of the policy object; record the cost and any over the limits."""
    env = mutating_environment()
    sources = [
        (f"mutations[{index}] ({m.policy})", m.offline, STRUCT_OVER_MAP * _count_ops(m.nodes))
        for index, m in enumerate(result.mutations)
    ]
    estimates: list[tuple[str, int]] = []
    try:
        for where, source, extra in sources:
            estimates.append((where, env.estimate(source)[0] + extra))
    except (CostError, CelSyntaxError) as error:  # pragma: no cover - the exporter's own CEL
        result.errors.append(f"{NAME_OF_POLICY}: {error}")
        return
    result.errors.extend(over_limits(NAME_OF_POLICY, estimates))
    result.costs.append(Cost.of(NAME_OF_POLICY, estimates))


__all__ = ["API_VERSION", "NAME_OF_POLICY", "MapExport", "Mutation", "export"]
