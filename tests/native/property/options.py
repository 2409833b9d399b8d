"""Values for generated rule options, by the option's path in the rule.

Random values seldom matter: an instance type glob that matches no job, a limit
far from every job's value. These pools hold values that do (globs, limits near
the jobs' values, placeholders, regexes); :mod:`.policies` steers each option to
the pool of its path, and an option with no pool gets every pool and random text.
:mod:`.fields` takes some of the names here for the jobs' values, so that rules
and jobs meet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

KMS_ARN: Final = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
"""A KMS key the globs of :data:`STRINGS` match, and jobs name."""
_KMS_GLOBS: Final = (
    "arn:aws:kms:us-east-1:123456789012:key/*",
    "arn:aws:kms:*",
    KMS_ARN,
    "alias/{namespace}-*",
    "alias/team-a-*",
    "1234abcd-*",
    "*",
)
HYPERPARAMETER_NAMES: Final = (
    "max_depth",
    "eta",
    "objective",
    "num_round",
    "epochs",
    "learning_rate",
    "debug_mode",
)
_REGEXES: Final = ("[0-9]+", r"\d+", "[a-z:]+", "[0-9.]+", ".*", "")
TAG_KEYS: Final = ("team", "owner", "cost-center", "project")
_FIELDS: Final = (
    "vpcConfig",
    "vpcConfig.subnets",
    "outputDataConfig.kmsKeyID",
    "resourceConfig.volumeKMSKeyID",
    "checkpointConfig",
    "checkpointConfig.s3URI",
    "stoppingCondition.maxWaitTimeInSeconds",
    "enableNetworkIsolation",
    "tags",
    "hyperParameters",
    "environment",
    "trainingJobName",
    "algorithmSpecification.algorithmName",
)

#: Strings for rule options, by the option's path in the rule (``[]``: a list's items,
#: ``{key}`` and ``{}``: a map's keys and values), optionally under the rule kind.
STRINGS: Final[dict[str, Sequence[str]]] = {
    "message": ("{path}: {detail}", "denied in {namespace}: {detail}", "no"),
    "instanceTypes[]": (
        "ml.m5.*",
        "ml.m5.xlarge",
        "ml.p4d.*",
        "ml.g5.*",
        "ml.c5.*",
        "ml.*",
        "ml.?5.xlarge",
        "ml.*.24xlarge",
        "ml.m5.[lx]*",
        "ml.{namespace}.*",
        "*",
    ),
    "subnets[]": (
        "subnet-*",
        "subnet-0a1b*",
        "subnet-0a1b2c3d4e5f60718",
        "subnet-0123456789abcdef0",
        "subnet-[0-9]*",
        "subnet-{namespace}*",
        "*",
    ),
    "securityGroups[]": (
        "sg-*",
        "sg-0a1b*",
        "sg-0a1b2c3d4e5f60718",
        "sg-?123*",
        "*",
    ),
    "encryption:keys[]": _KMS_GLOBS,
    "region": ("us-east-1", "eu-west-1", "us-gov-west-1"),
    "roles[]": (
        "arn:aws:iam::123456789012:role/*",
        "arn:aws:iam::123456789012:role/{namespace}-*",
        "arn:aws:iam::*:role/team-a-*",
        "*",
    ),
    "s3[]": (
        "s3://ml-team-a/",
        "s3://ml-{namespace}/",
        "s3://ml-team-a/churn/",
        "s3://bucket/prefix/*",
        "s3://ml-team-?/",
        "s3://*",
    ),
    "fileSystems[]": ("fs-0abc*", "fs-*", "fs-{namespace}*", "*"),
    "hubContents[]": (
        "arn:aws:sagemaker:us-east-1:123456789012:hub-content/*",
        "arn:aws:sagemaker:*:aws:hub-content/SageMakerPublicHub/Model/*",
        "*",
    ),
    "kmsKeys[]": _KMS_GLOBS,
    "registries[]": (
        "*.dkr.ecr.*.amazonaws.com",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com",
        "docker.io",
        "localhost:5000",
        "*",
    ),
    "repositories[]": (
        "*.dkr.ecr.*.amazonaws.com/sagemaker-*",
        "docker.io/library/*",
        "docker.io/library/ubuntu",
        "registry.example.com/team/*",
        "*",
    ),
    "algorithms[]": (
        "xgboost",
        "arn:aws:sagemaker:us-east-1:123456789012:algorithm/*",
        "team-*",
        "{namespace}-*",
        "*",
    ),
    "naming:pattern": (
        "[a-z0-9-]+",
        "{namespace}-[a-z0-9-]+",
        r"[a-z-]+-\d{4}-\d{2}-\d{2}",
        "churn-.*",
        "{name}",
    ),
    "prefix": ("{namespace}-", "team-a-", "churn-", ""),
    "hyperparameters:allowKeys[]": (*HYPERPARAMETER_NAMES, "num_*", "*"),
    "denyKeys[]": ("debug*", "sagemaker_*", "learning_rate", "*_mode"),
    "keys{key}": HYPERPARAMETER_NAMES,
    "keys{}.pattern": _REGEXES,
    "keys{}.enum[]": ("5", "0.2", "100", "binary:logistic", "true", "adam"),
    "secrets:allowKeys[]": ("*_TOKEN_URL", "HF_*", "*password*", "db_*", "SECRET_NAME"),
    "required{key}": (*TAG_KEYS, "{namespace}"),
    "required{}": ("team-[a-z]+", r"CC-\d{4}", "team-a|team-b", ".*"),
    "tagKeys[]": (*TAG_KEYS, "{namespace}"),
    "fields[]": _FIELDS,
    "whenSpot[]": _FIELDS,
}
_LIMITS: Final = (-1, 0, 0.1, 0.5, 1, 5, 10, 100, 1000)
_SECONDS: Final = (3600, 7200, 86399, 86400, 86401, 172800)
#: Numbers for rule options, by path as in :data:`STRINGS`.
NUMBERS: Final[dict[str, Sequence[float]]] = {
    "maxInstanceCount": (1, 2, 3, 4, 8),
    "maxVolumeSizeInGB": (30, 50, 100, 512),
    "maxRuntimeInSeconds": _SECONDS,
    "maxWaitTimeInSeconds": _SECONDS,
    "maxCount": (0, 1, 3, 4, 5),
    "controllerTags": (0, 4, 10, 45, 46, 50),
    "keys{}.min": _LIMITS,
    "keys{}.max": _LIMITS,
    "keys{}.exclusiveMin": _LIMITS,
    "keys{}.exclusiveMax": _LIMITS,
}
#: For an option with no entry of its own: every pool, and random text.
ANY_STRING: Final = tuple(sorted({value for pool in STRINGS.values() for value in pool}))
ANY_NUMBER: Final = tuple(
    sorted({0, 1, 2, *(value for pool in NUMBERS.values() for value in pool)})
)


def option_pool(table: dict[str, Sequence[Any]], kind: str, path: str) -> Sequence[Any] | None:
    """The pool of *table* for the option at *path* of a rule of *kind*: the entry under
    the kind (``kind:path``) first, else the path's; None when it has neither."""
    return table.get(f"{kind}:{path}", table.get(path))
