"""Every built-in rule id, with what it checks and whether it only warns by default.

Rule ids are stable: policies, ``--rule-action`` flags, SARIF rule metadata,
dashboards and exemptions refer to them. This catalogue is their one
description: SARIF's rule help and the rule reference (``docs/rules.md``,
written by ``scripts/generate_docs.py``) are made from it, and tests keep it,
the checks and that page in step. Descriptions are plain sentences; field
names, values and flags are in backquotes, which read as code in the docs and
as quoting in SARIF's plain text. Policy rules are named
``<policy id>/<rule id>`` by the policy that defines them.
"""

from __future__ import annotations

from typing import Final

from webhook.constraints.bounds import CHARS, DEPTH, ENTRIES, ENUM_CHARS, UNKNOWN_FIELDS, VALUES

RULES: Final[dict[str, str]] = {
    "guard.too-large": (
        "Where SageMaker's model sets no bound (metadata, status, unknown fields, values of "
        f"the wrong type): a list or map over {ENTRIES:,} entries, a string over {CHARS:,} "
        f"characters (a value SageMaker takes from a list: {ENUM_CHARS}), nesting over {DEPTH} "
        f"levels, or over {VALUES:,} values or {UNKNOWN_FIELDS} unknown fields in all; denied, "
        "and nothing else is checked."
    ),
    "crd.unknown-field": (
        "A field the TrainingJob CRD does not define, with a did-you-mean (`s3Uri` -> `s3URI`, "
        "`kmsKeyId` -> `kmsKeyID`, `subnet` -> `subnets`)."
    ),
    "crd.type": 'A value of the wrong type for the CRD\'s schema (`instanceCount: "2"`).',
    "crd.required": "One of the fields the CRD requires is missing.",
    "crd.not-string": (
        "A hyperparameter, environment or parameter value written as a number or boolean: quote it."
    ),
    "k8s.name": "`metadata.name` is missing or not a valid Kubernetes object name.",
    "placeholder": "An unsubstituted template placeholder: `$VAR`, `${VAR}`, `<YOUR BUCKET>`.",
    "sagemaker.required": (
        "A field SageMaker requires is missing (`algorithmSpecification.trainingInputMode`, "
        "`vpcConfig.subnets` ...)."
    ),
    "sagemaker.length": "A string or map key shorter or longer than SageMaker allows.",
    "sagemaker.pattern": (
        "A string or map key that does not match SageMaker's pattern (job name, role ARN, "
        "S3 URI, KMS key, subnet, security group, tag, environment key ...)."
    ),
    "sagemaker.enum": "A value outside SageMaker's allowed values, with a did-you-mean.",
    "sagemaker.instance-type": (
        "An instance type not in the pinned SageMaker model's list; can be set to warn for a "
        "type AWS has added since."
    ),
    "sagemaker.range": "A number outside the range SageMaker allows.",
    "sagemaker.int32": "A number above 2^31-1 in a field SageMaker holds as a 32-bit integer.",
    "sagemaker.list-size": (
        "A list with fewer or more items than SageMaker allows (e.g. more than 5 security groups)."
    ),
    "sagemaker.map-size": (
        "A map with more entries than SageMaker allows (e.g. more than 100 hyperparameters)."
    ),
    "sagemaker.spot-max-wait": (
        "`maxWaitTimeInSeconds` without `enableManagedSpotTraining: true`, or below "
        "`maxRuntimeInSeconds`."
    ),
    "sagemaker.instance-groups": (
        "`instanceGroups` together with `instanceType`/`instanceCount`, or neither set."
    ),
    "sagemaker.image-or-algorithm": "Not exactly one of `trainingImage` and `algorithmName`.",
    "sagemaker.data-source": (
        "An input channel with neither `s3DataSource` nor `fileSystemDataSource`."
    ),
    "update.immutable": (
        "On UPDATE, a spec field the ACK controller cannot change after creation changed."
    ),
    "update.warm-pool": (
        "On UPDATE, a warm pool added to a job created without one (or removed from one "
        "created with it)."
    ),
    "update.profiler-rules": "On UPDATE, an existing profiler rule removed, changed or moved.",
    "update.warm-pool-and-profiler": (
        "On UPDATE, the warm pool and the profiler changed in one update."
    ),
    "update.not-propagated": (
        "On UPDATE, `tags` or `metricDefinitions` changed: the controller never sends the "
        "change to SageMaker."
    ),
    "update.profiler-removed": (
        "On UPDATE, half of the profiler removed: the controller turns the whole profiler off."
    ),
    "policy.namespace-labels-unknown": (
        "A policy selecting on namespace labels was applied without knowing them."
    ),
    "cli.namespace-unset": (
        "`validate` only: a manifest without `metadata.namespace` (and no `--namespace`), "
        "checked in `default`, where policies scoped by namespace did not apply; `--strict` "
        "denies."
    ),
    "policy.exemption-ignored": (
        "An exemption annotation on a job whose requester is not in the groups allowed to use it."
    ),
}

#: The rules that warn unless an operator or policy says otherwise; every other
#: rule denies by default.
WARN_BY_DEFAULT: Final[frozenset[str]] = frozenset(
    {
        "update.not-propagated",
        "update.profiler-removed",
        "policy.namespace-labels-unknown",
        "cli.namespace-unset",
        "policy.exemption-ignored",
    }
)
