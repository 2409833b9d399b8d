"""Which fields of the spec carry which concept, found from the typed model by name and type.

A guardrail is only as good as the fields it reads. Rule kinds do not keep
hand-written lists of where an image, an instance type or an S3 location is:
they ask this module, which walks :class:`~webhook.model.spec.TrainingJobSpec`
once and classifies every leaf field by its name and type
(:func:`concept_of`). A field the ACK CRD adds later (the drift test keeps the
model equal to the CRD) is read by the rule kinds of its concept as soon as
its name says what it is, and a field whose name says nothing known must be
listed in :data:`PLAIN` with the reason it carries no concept:
``tests/model/test_concepts.py`` fails for a field that is neither, and for a
field of a concept that no rule kind reads.

Strings of every field, concept or not, are also free-form text for the
``secrets`` rule kind, which walks the whole spec.
"""

from __future__ import annotations

import enum
import functools
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel

from webhook.introspect import is_model, unwrap
from webhook.model.spec import TrainingJobSpec
from webhook.paths import Path


class Concept(enum.StrEnum):
    """What a field holds, as the rule kinds see it."""

    IMAGE = "image"
    """A container image reference (``trainingImage``, ``ruleEvaluatorImage``)."""
    ALGORITHM = "algorithm"
    """An algorithm resource (name or ARN) that stands for an image (``algorithmName``)."""
    INSTANCE_TYPE = "instance type"
    INSTANCE_COUNT = "instance count"
    VOLUME_SIZE = "volume size"
    S3_LOCATION = "S3 location"
    FILE_SYSTEM = "file system"
    """An EFS or FSx file system id (``fileSystemID``)."""
    HUB_CONTENT = "hub content"
    """A SageMaker hub content ARN (``hubContentARN``): a model the job reads."""
    KMS_KEY = "KMS key"
    ROLE = "role"
    NETWORK = "network"
    """VPC subnets and security groups, network isolation, traffic encryption."""


#: The storage locations a job reads or writes: what tenancy must vouch for.
STORAGE: Final = (Concept.S3_LOCATION, Concept.FILE_SYSTEM, Concept.HUB_CONTENT)

#: Leaf fields that carry none of the concepts, by name, with the reason.
PLAIN: Final[Mapping[str, str]] = {
    # Settings from a fixed set (the SageMaker constraints check them).
    "trainingInputMode": "an enum",
    "inputMode": "an enum",
    "compressionType": "an enum",
    "recordWrapperType": "an enum",
    "s3DataType": "an enum",
    "s3DataDistributionType": "an enum",
    "fileSystemAccessMode": "an enum",
    "fileSystemType": "an enum",
    "contentType": "a MIME type",
    # Switches that are no guardrail's concern (spot is the resources kind's own).
    "enableSageMakerMetricsTimeSeries": "a switch for metrics",
    "enableManagedSpotTraining": "a switch read by the resources kind (spot)",
    "enableInfraCheck": "a switch for health checks",
    "enableRemoteDebug": "a switch for remote debugging",
    "enableMultipleJobs": "a switch for UltraServer placement",
    "acceptEula": "an acceptance of a model licence",
    # Limits and counters that are not resources (time limits are the resources kind's).
    "maxRuntimeInSeconds": "a time limit read by the resources kind",
    "maxWaitTimeInSeconds": "a time limit read by the resources kind",
    "maxPendingTimeInSeconds": "a time limit",
    "keepAlivePeriodInSeconds": "the warm pool's lifetime",
    "maximumRetryAttempts": "a retry count",
    "profilingIntervalInMilliseconds": "a sampling interval",
    "seed": "a shuffle seed",
    # Names and display text of the job's own parts.
    "trainingJobName": "the job's name (the naming kind)",
    "channelName": "a channel's name",
    "instanceGroupName": "an instance group's name",
    "instanceGroupNames": "names of the job's own instance groups",
    "ruleConfigurationName": "a rule's name",
    "collectionName": "a tensor collection's name",
    "experimentName": "an experiment's name",
    "trialName": "a trial's name",
    "trialComponentDisplayName": "display text",
    "name": "a metric's name",
    "regex": "a metric's log pattern",
    "attributeNames": "attribute names of an augmented manifest",
    "key": "a tag's key (the tags kind)",
    "value": "a tag's value (the tags kind)",
    "ultraServerID": "an UltraServer of the job's own reservation",
    # Paths inside the training container, not storage locations.
    "localPath": "a path inside the container",
    "directoryPath": "a path inside the file system that fileSystemID names",
    # Free-form maps (the secrets kind scans them with every other string).
    "hyperParameters": "free-form text",
    "environment": "free-form text",
    "hookParameters": "free-form text",
    "collectionParameters": "free-form text",
    "ruleParameters": "free-form text",
    "profilingParameters": "free-form text",
}

ITEMS: Final = "[]"
"""A step of a :class:`Field` pattern that stands for every item of a list."""


@dataclass(frozen=True, slots=True)
class Field:
    """A leaf field of the spec model: where it is, its name, type and concept."""

    pattern: tuple[str, ...]
    """Names from ``spec``, with :data:`ITEMS` for each list on the way."""
    annotation: Any
    concept: Concept | None

    @property
    def name(self) -> str:
        """The field's own name."""
        return self.pattern[-1]

    @property
    def dotted(self) -> str:
        """``spec.inputDataConfig[].dataSource.s3DataSource.s3URI``."""
        return "spec." + ".".join(self.pattern).replace(f".{ITEMS}", ITEMS)


def concept_of(name: str, annotation: Any) -> Concept | None:
    """The concept of a field, from its name and type (None: no concept known by name)."""
    kind = unwrap(annotation)
    lower = name.lower()
    if kind is str:
        if name.endswith(("Image", "image")):
            return Concept.IMAGE
        if name == "algorithmName":
            return Concept.ALGORITHM
        if lower.endswith("instancetype"):
            return Concept.INSTANCE_TYPE
        if lower.startswith("s3") and lower.endswith(("uri", "path")):
            return Concept.S3_LOCATION
        if lower.startswith("filesystemid"):
            return Concept.FILE_SYSTEM
        if lower.startswith("hubcontent"):
            return Concept.HUB_CONTENT
        if "kms" in lower:
            return Concept.KMS_KEY
        if "role" in lower:
            return Concept.ROLE
    if kind is int:
        if lower.endswith("instancecount"):
            return Concept.INSTANCE_COUNT
        if lower.endswith("volumesizeingb"):
            return Concept.VOLUME_SIZE
    if kind is bool and ("network" in lower or "traffic" in lower):
        return Concept.NETWORK
    strings = typing.get_origin(kind) is list and unwrap(typing.get_args(kind)[0]) is str
    if strings and ("subnet" in lower or "securitygroup" in lower):
        return Concept.NETWORK
    return None


def leaves(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[Field]:
    """Every leaf field of *model* (scalars, lists of scalars, maps), classified."""
    for name, info in model.model_fields.items():
        annotation = unwrap(info.annotation)
        pattern = (*prefix, name)
        if is_model(annotation):
            yield from leaves(annotation, pattern)
            continue
        if typing.get_origin(annotation) is list:
            member = unwrap(typing.get_args(annotation)[0])
            if is_model(member):
                yield from leaves(member, (*pattern, ITEMS))
                continue
        yield Field(pattern, annotation, concept_of(name, annotation))


@functools.cache
def fields(concept: Concept) -> tuple[Field, ...]:
    """The fields of the spec that carry *concept*, in the CRD's order."""
    return tuple(field for field in leaves(TrainingJobSpec) if field.concept is concept)


def values_at(spec: Any, pattern: tuple[str, ...]) -> list[tuple[Path, Any]]:
    """The values at *pattern* in *spec*, with their paths (``("spec", ...)``).

    Lists are expanded item by item; a step that is missing or of the wrong
    type gives nothing (the schema checks report wrong types). Values come as
    they are, of whatever type: callers filter. A list, not a generator: rule
    checks call this on the hot path, and most patterns lead nowhere in a job.
    """
    found: list[tuple[Path, Any]] = []
    _collect(spec, pattern, 0, ("spec",), found)
    return found


def _collect(
    value: Any, pattern: tuple[str, ...], at: int, path: Path, found: list[tuple[Path, Any]]
) -> None:
    end = len(pattern)
    while at < end:
        step = pattern[at]
        if step == ITEMS:
            if isinstance(value, list):
                for index, item in enumerate(value):
                    _collect(item, pattern, at + 1, (*path, index), found)
            return
        if not isinstance(value, dict):
            return
        value = value.get(step)
        if value is None:
            return
        path = (*path, step)
        at += 1
    found.append((path, value))


def concept_values(spec: Any, concept: Concept) -> list[tuple[Path, Any]]:
    """Every value of *concept* in *spec*, with its path, in the CRD's order."""
    found: list[tuple[Path, Any]] = []
    for field in fields(concept):
        _collect(spec, field.pattern, 0, ("spec",), found)
    return found


def schema_at(pattern: tuple[str, ...], schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema for the spec whose values at *pattern* (where present) pass *schema*."""
    for step in reversed(pattern):
        schema = {"items": schema} if step == ITEMS else {"properties": {step: schema}}
    return schema
