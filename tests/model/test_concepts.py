"""Every field that carries a concept is read by the rule kind for that concept.

The fields come from the typed model (which ``test_crd_drift`` keeps equal to
the ACK CRD), so a new CRD version that adds a field fails here until the
field is classified (:mod:`webhook.model.concepts`) and the rule kind for its
concept reads it: a guardrail cannot be walked around through a field it never
looks at. Each check is behavioural: a value the rule must refuse is put in
the field, and the rule must report that field (or the collection holding it).
"""

from __future__ import annotations

import copy
import typing
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, TypeAdapter

from tests.conftest import EXAMPLES
from webhook.introspect import unwrap
from webhook.model.concepts import ITEMS, PLAIN, Concept, Field, concept_of, leaves
from webhook.model.spec import ResourceConfig, TrainingJobSpec
from webhook.paths import Path, format_path
from webhook.policy import model
from webhook.policy.rules.registry import compile_rule
from webhook.policy.subject import Subject
from webhook.request import Context

AWS_KEY_ID = "AS" + "IAQ3EGUWU7M5EXAMPL"  # assembled at run time: no scanner flags this file
ANOTHER_ACCOUNT = "999999999999"


@dataclass(frozen=True)
class Probe:
    """A rule of *kind* with *config* reads a field when it reports *bad* there, not *good*.

    *good* None leaves the field out.
    """

    kind: str
    config: dict[str, Any]
    bad: Any
    good: Any = None


ECR = "683313688378.dkr.ecr.us-east-1.amazonaws.com"
OWN_KEY = "arn:aws:kms:us-east-1:123456789012:alias/team-a-data"
OTHER_KEY = f"arn:aws:kms:us-east-1:{ANOTHER_ACCOUNT}:key/other"

#: For each concept, the rule kinds that read it, each with a value it must refuse.
PROBES: dict[Concept, list[Probe]] = {
    Concept.IMAGE: [
        Probe("images", {"registries": ["*.dkr.ecr.*.amazonaws.com"]}, "x/miner:1", f"{ECR}/x:1"),
        Probe("images", {}, "x/miner:latest", "x/miner:1"),
    ],
    Concept.ALGORITHM: [
        Probe(
            "images",
            {"registries": ["*.dkr.ecr.*.amazonaws.com"]},
            f"arn:aws:sagemaker:us-east-1:{ANOTHER_ACCOUNT}:algorithm/miner",
        ),
        Probe("images", {"algorithms": ["own-*"]}, "miner", "own-xgboost"),
    ],
    Concept.INSTANCE_TYPE: [
        Probe("resources", {"instanceTypes": ["ml.m5.*"]}, "ml.p4d.24xlarge", "ml.m5.large")
    ],
    Concept.INSTANCE_COUNT: [Probe("resources", {"maxInstanceCount": 4}, 1_000_000, 1)],
    Concept.VOLUME_SIZE: [Probe("resources", {"maxVolumeSizeInGB": 100}, 16384, 100)],
    Concept.S3_LOCATION: [
        Probe("tenancy", {"s3": ["s3://ml-{namespace}/"]}, "s3://ml-team-b/x", "s3://ml-team-a/x")
    ],
    Concept.FILE_SYSTEM: [
        Probe("tenancy", {"s3": ["s3://ml-{namespace}/"]}, "fs-0123456789abcdef0"),
        Probe("tenancy", {"fileSystems": ["fs-0aaa*"]}, "fs-0123456789abcdef0", "fs-0aaa1"),
    ],
    Concept.HUB_CONTENT: [
        Probe(
            "tenancy",
            {"hubContents": ["arn:aws:sagemaker:*:aws:hub-content/SageMakerPublicHub/*"]},
            f"arn:aws:sagemaker:us-east-1:{ANOTHER_ACCOUNT}:hub-content/hub/Model/m/1.0.0",
            "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/m/1.0.0",
        )
    ],
    Concept.KMS_KEY: [
        Probe(
            "tenancy",
            {"kmsKeys": ["arn:aws:kms:*:123456789012:alias/{namespace}-*"]},
            OTHER_KEY,
            OWN_KEY,
        ),
        Probe("encryption", {"keys": ["*:alias/{namespace}-*"]}, OTHER_KEY, OWN_KEY),
        Probe("encryption", {"sameAccountAsRole": True}, OTHER_KEY, OWN_KEY),
    ],
    Concept.ROLE: [
        Probe(
            "tenancy",
            {"roles": ["arn:aws:iam::123456789012:role/{namespace}-*"]},
            f"arn:aws:iam::{ANOTHER_ACCOUNT}:role/team-b-training",
            "arn:aws:iam::123456789012:role/team-a-training",
        )
    ],
    Concept.NETWORK: [
        Probe("network", {"subnets": ["*-0a*"], "securityGroups": ["*-0a*"]}, ["x-0b"], ["x-0a"]),
        Probe(
            "network",
            {"requireNetworkIsolation": True, "interContainerEncryption": "always"},
            False,
            True,
        ),
    ],
}
SECRETS = Probe("secrets", {}, AWS_KEY_ID)

_RULE: TypeAdapter[model.Rule] = TypeAdapter(model.Rule)
_DOCUMENT = model.PolicyDocument.model_validate(
    {
        "apiVersion": model.API_VERSION,
        "kind": model.KIND,
        "metadata": {"name": "probe"},
        "id": "probe",
    }
)
_JOB = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())


def _fits(value: Any, annotation: Any) -> bool:
    kind = unwrap(annotation)
    origin = typing.get_origin(kind) or kind
    return isinstance(value, origin) and not (origin is int and isinstance(value, bool))


def _put(spec: dict[str, Any], pattern: tuple[str, ...], value: Any) -> Path:
    """Set *value* at *pattern* (the first item of each list), creating what is missing."""
    path: list[str | int] = ["spec"]
    current: Any = spec
    for index, step in enumerate(pattern):
        last = index == len(pattern) - 1
        if step == ITEMS:
            if not current:
                current.append({})
            path.append(0)
            current = current[0]
            continue
        path.append(step)
        if last:
            current[step] = value
        else:
            following = pattern[index + 1]
            if not isinstance(current.get(step), list if following == ITEMS else dict):
                current[step] = [] if following == ITEMS else {}
            current = current[step]
    return tuple(path)


def _reported(probe: Probe, field: Field, value: Any) -> bool:
    """True when *probe*'s rule reports *value* in *field* (or its collection), not *good*."""
    rule = _RULE.validate_python({"id": "probe", "kind": probe.kind, **probe.config})
    check = compile_rule(rule, _DOCUMENT)

    def found(value: Any) -> bool:
        job = copy.deepcopy(_JOB)
        where = format_path(_put(job["spec"], field.pattern, value))
        paths = {format_path(v.path) for v in check(Subject.of(job, Context(namespace="team-a")))}
        return any(where.startswith(path) or path.startswith(where) for path in paths)

    return found(value) and not found(probe.good)


def _text(annotation: Any) -> Any:
    """A value carrying a credential for a field of type *annotation*, or None."""
    kind = unwrap(annotation)
    if kind is str:
        return AWS_KEY_ID
    if typing.get_origin(kind) is list and unwrap(typing.get_args(kind)[0]) is str:
        return [AWS_KEY_ID]
    if typing.get_origin(kind) is dict:
        return {"note": AWS_KEY_ID}
    return None


def gaps(spec_model: type[BaseModel]) -> list[str]:
    """Every field of *spec_model* that is not classified, or that no rule kind reads."""
    problems: list[str] = []
    for field in leaves(spec_model):
        if field.concept is None:
            if field.name not in PLAIN:
                problems.append(
                    f"{field.dotted}: no concept by its name and not in PLAIN; classify it in "
                    "webhook/model/concepts.py"
                )
        else:
            probes = [p for p in PROBES.get(field.concept, []) if _fits(p.bad, field.annotation)]
            if not probes:
                problems.append(f"{field.dotted}: no rule kind reads {field.concept} fields")
            for probe in probes:
                if not _reported(probe, field, probe.bad):
                    problems.append(
                        f"{field.dotted}: a {probe.kind} rule {probe.config} does not read it "
                        f"({field.concept})"
                    )
        text = _text(field.annotation)
        if text is not None and not _reported(SECRETS, field, text):
            problems.append(f"{field.dotted}: the secrets rule does not scan it (free-form text)")
    return problems


def test_every_field_of_the_model_is_classified_and_read() -> None:
    assert gaps(TrainingJobSpec) == []


def test_every_concept_has_a_rule_kind_and_a_field() -> None:
    assert set(PROBES) == set(Concept)
    found = {field.concept for field in leaves(TrainingJobSpec)}
    assert found - {None} == set(Concept)


def test_plain_names_are_fields_of_the_model() -> None:
    """A PLAIN entry for a field the CRD dropped would excuse a future field of that name."""
    names = {field.name for field in leaves(TrainingJobSpec)}
    assert set(PLAIN) - names == set()


class _FutureResourceConfig(ResourceConfig):
    spareInstanceType: str | None = None  # noqa: N815 (the CRD's camelCase names)


class _FutureSpec(TrainingJobSpec):
    """What a new CRD version could add: a field of a known concept, and an unknown one."""

    resourceConfig: _FutureResourceConfig  # noqa: N815 (the CRD's camelCase names)
    trainingPlanARN: str | None = None  # noqa: N815


def test_a_new_field_fails_until_classified_and_read() -> None:
    """The check sees what the rule kinds, built on today's model, do not read."""
    found = gaps(_FutureSpec)
    assert any(
        problem.startswith("spec.resourceConfig.spareInstanceType: a resources rule")
        for problem in found
    ), found
    assert any(problem.startswith("spec.trainingPlanARN: no concept") for problem in found)


@pytest.mark.parametrize(
    ("name", "annotation", "concept"),
    [
        ("trainingImage", str, Concept.IMAGE),
        ("sidecarImage", str | None, Concept.IMAGE),
        ("algorithmName", str, Concept.ALGORITHM),
        ("warmPoolInstanceType", str, Concept.INSTANCE_TYPE),
        ("instanceCount", int, Concept.INSTANCE_COUNT),
        ("volumeSizeInGB", int | None, Concept.VOLUME_SIZE),
        ("s3URI", str, Concept.S3_LOCATION),
        ("s3OutputPath", str, Concept.S3_LOCATION),
        ("s3DataType", str, None),  # an enum, not a location
        ("fileSystemID", str, Concept.FILE_SYSTEM),
        ("hubContentARN", str, Concept.HUB_CONTENT),
        ("kmsKeyID", str, Concept.KMS_KEY),
        ("volumeKMSKeyID", str, Concept.KMS_KEY),
        ("roleARN", str, Concept.ROLE),
        ("subnets", list[str], Concept.NETWORK),
        ("securityGroupIDs", list[str] | None, Concept.NETWORK),
        ("enableNetworkIsolation", bool, Concept.NETWORK),
        ("instanceCount", str, None),  # the name alone is not enough: the type must fit
    ],
)
def test_concepts_are_found_by_name_and_type(name: str, annotation: Any, concept: Any) -> None:
    assert concept_of(name, annotation) is concept
