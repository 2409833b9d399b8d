"""Every built-in rule id, with what it checks.

Rule ids are stable: policies, ``--rule-action`` flags, SARIF rule metadata,
dashboards and exemptions refer to them. A test keeps this catalogue, the
checks and the README's table in step. Policy rules are named
``<policy id>/<rule id>`` by the policy that defines them.
"""

from __future__ import annotations

from typing import Final

from webhook.constraints.bounds import CHARS, DEPTH, ENTRIES, ENUM_CHARS, UNKNOWN_FIELDS, VALUES

RULES: Final[dict[str, str]] = {
    "guard.too-large": (
        f"Where SageMaker's model sets no bound, a list or map over {ENTRIES:,} entries, a string "
        f"over {CHARS:,} characters (a value SageMaker takes from a list: {ENUM_CHARS}), "
        f"nesting over {DEPTH} levels, or over {VALUES:,} values or {UNKNOWN_FIELDS} unknown "
        "fields in all: denied, and nothing else is checked."
    ),
    "crd.unknown-field": "A field the TrainingJob CRD does not define (with a did-you-mean).",
    "crd.type": "A value of the wrong type for the CRD's schema.",
    "crd.required": "A field the CRD requires is missing.",
    "crd.not-string": "A hyperparameter, environment or parameter value that is not a string.",
    "k8s.name": "metadata.name is missing or not a valid Kubernetes object name.",
    "placeholder": "An unsubstituted template placeholder ($VAR, ${VAR}, <YOUR VALUE>).",
    "sagemaker.required": "A field SageMaker requires is missing.",
    "sagemaker.length": "A string or map key is shorter or longer than SageMaker allows.",
    "sagemaker.pattern": "A string or map key does not match SageMaker's pattern.",
    "sagemaker.enum": "A value that is not one of SageMaker's allowed values.",
    "sagemaker.instance-type": (
        "An instance type missing from the pinned SageMaker model's list (can be set to warn)."
    ),
    "sagemaker.range": "A number outside the range SageMaker allows.",
    "sagemaker.int32": "A number above 2^31-1 in a field SageMaker holds as a 32-bit integer.",
    "sagemaker.list-size": "A list with fewer or more items than SageMaker allows.",
    "sagemaker.map-size": "A map with more entries than SageMaker allows.",
    "sagemaker.spot-max-wait": (
        "maxWaitTimeInSeconds without managed spot training, or below maxRuntimeInSeconds."
    ),
    "sagemaker.instance-groups": (
        "instanceGroups together with instanceType/instanceCount, or neither set."
    ),
    "sagemaker.image-or-algorithm": "Not exactly one of trainingImage and algorithmName.",
    "sagemaker.data-source": "An input channel whose dataSource names no S3 or file system source.",
    "update.immutable": "A spec field the ACK controller cannot change after creation changed.",
    "update.warm-pool": "A warm pool added to (or removed from) a job created without (with) one.",
    "update.profiler-rules": "An existing profiler rule removed, changed or moved.",
    "update.warm-pool-and-profiler": "The warm pool and the profiler changed in one update.",
    "update.not-propagated": "A change of tags or metricDefinitions: it never reaches SageMaker.",
    "update.profiler-removed": (
        "Half of the profiler removed: the controller turns the whole profiler off."
    ),
    "policy.namespace-labels-unknown": (
        "A policy selecting on namespace labels was applied without knowing them."
    ),
    "cli.namespace-unset": (
        "validate: a manifest without metadata.namespace, checked in default, where policies "
        "scoped by namespace did not apply (--strict denies)."
    ),
    "policy.exemption-ignored": (
        "An exemption annotation set by a user outside the groups allowed to use it."
    ),
}
