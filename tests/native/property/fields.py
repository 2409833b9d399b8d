"""The spec's fields, and the values jobs are edited to, by the field's name.

The fields are every field of the typed spec model
(:class:`~webhook.model.spec.TrainingJobSpec`): a field the CRD adds is edited too.
A field rule kinds read takes values from a pool (:data:`POOLS`, chosen by the
field's name: :func:`pool_of`) that straddles the limits of :mod:`.options`, with
odd types and placeholders among them; any other field takes a few values of its
type, and of others.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Sequence
from typing import Any, Final

from hypothesis import strategies as st
from pydantic import BaseModel

from tests.native.property import options
from webhook.introspect import is_model, unwrap
from webhook.model.spec import TrainingJobSpec

#: The namespaces of jobs and requests (generated policies are limited to some of them).
NAMESPACES: Final = ("team-a", "team-b", "default")


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE: Final = _Delete()
"""An edit's value that removes the field."""

#: Values that are no value, which any field is edited to one time in four.
ODD: Final = (DELETE, None)
INSTANCE_TYPES: Final = (
    "ml.m5.xlarge",
    "ml.m5.large",
    "ml.m5.24xlarge",
    "ml.p4d.24xlarge",
    "ml.g5.2xlarge",
    "ml.c5.xlarge",
    "ml.trn1.32xlarge",
    "ML.M5.XLARGE",
    "ml.m5",
    "",
    5,
)
COUNTS: Final = (0, 1, 2, 3, 4, 5, 8, 9, -1, 2**31, "2", 2.0, 1.5, True)
VOLUMES: Final = (1, 29, 30, 31, 50, 100, 101, 512, 513, 30.0, 30.5, "30")
SECONDS: Final = (1, 3600, 3601, 7200, 86399, 86400, 86401, 172800, 7200.0, "7200", -5)
IMAGES: Final = (
    "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
    "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:latest",
    "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost",
    "ubuntu",
    "ubuntu:latest",
    "ubuntu:22.04",
    "docker.io/library/ubuntu:22.04",
    "index.docker.io/library/ubuntu:22.04",
    "localhost:5000/train:1",
    "registry.example.com:443/team/train:1.0",
    "Registry.Example.com/team/train:1",
    "registry.example.com/team/train:1",
    "train@sha256:" + "a" * 64,
    "train:latest@sha256:" + "a" * 64,
    "train@sha512:" + "a" * 128,
    "train@sha256:" + "A" * 64,
    "UPPER/case:1",
    "ubuntu:",
    "x" * 256,
    "",
    "$IMAGE",
)
ALGORITHMS: Final = (
    "xgboost",
    "team-a-algo",
    "arn:aws:sagemaker:us-east-1:123456789012:algorithm/team-a-algo",
    "",
)
S3_URIS: Final = (
    "s3://ml-team-a/churn/train/",
    "s3://ml-team-a",
    "s3://ml-team-a/",
    "s3://ml-team-b/x",
    "s3://bucket/prefix/",
    "s3://bucket/prefix",
    "https://s3.amazonaws.com/ml-team-a/x",
    "",
    "$BUCKET",
)
KMS_KEYS: Final = (
    options.KMS_ARN,
    "arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:kms:us-east-1:123456789012:alias/team-a-key",
    "arn:aws:kms::123456789012:key/x",
    "alias/team-a-key",
    "alias/team-b-key",
    "1234abcd-12ab-34cd-56ef-1234567890ab",
    "",
    "  ",
    5,
)
ROLES: Final = (
    "arn:aws:iam::123456789012:role/team-a-sagemaker-execution",
    "arn:aws:iam::210987654321:role/team-a-sagemaker-execution",
    "arn:aws:iam::123456789012:role/team-b-sagemaker-execution",
    "arn:aws-cn:iam::123456789012:role/x",
    "role",
    "",
)
ARNS: Final = (
    "arn:aws:sagemaker:us-east-1:123456789012:hub-content/team-a/Model/x/1.0.0",
    "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/llama/1.0.0",
    "arn:aws:sagemaker:us-east-1:210987654321:hub-content/other/Model/y/1",
    "",
)
FILE_SYSTEMS: Final = ("fs-0abc1234", "fs-team-a", "fs-9999", "", "fs-")
SUBNETS: Final = ("subnet-0a1b2c3d4e5f60718", "subnet-0123456789abcdef0", "subnet-ffff", "", 5)
GROUPS: Final = ("sg-0a1b2c3d4e5f60718", "sg-0123456789abcdef0", "sg-x", "")
NAMES: Final = (
    "churn-xgboost-2026-11-27",
    "team-a-churn-2026-11-27",
    "team-b-churn",
    "Team-A-x",
    "x" * 63,
    "",
    5,
)
BOOLEANS: Final = (True, False, "true", 1)
SWITCHES: Final = (True, False)
"""The switches rule kinds read have a pool of their own: an edit picks a pool first."""
_SWITCHED: Final = (
    "enableManagedSpotTraining",
    "enableNetworkIsolation",
    "enableInterContainerTrafficEncryption",
)
TAG_KEYS: Final = (*options.TAG_KEYS, "team-a", "Team", "services.k8s.aws/namespace", "", 5)
TAG_VALUES: Final = ("team-a", "team-b", "CC-1234", "CC-12345", "", None, 5)
MAP_KEYS: Final = (
    *options.HYPERPARAMETER_NAMES,
    "db_password",
    "HF_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "DATABASE_URL",
    "SECRET_NAME",
    "api_key",
    "max_tokens",
    "\u017fecret",
    "ap\u0131_key",
    "PLAIN",
    "",
)
MAP_VALUES: Final = (
    "5",
    "0",
    "-1",
    "1.5",
    "0.2",
    "1e3",
    "nan",
    "true",
    "FALSE",
    "binary:logistic",
    "adam",
    " 7 ",
    "\u0661\u0662",
    "",
    "hunter2",
    "hf_" + "ab1" * 12,
    "AKIA" + "ABCDEFGHIJKLMNOP",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "postgres://user:hunter2@db:5432/x",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
    5,
)
TEXT: Final = ("", "x", "team-a", "$BUCKET", "<bucket>", "line\nbreak", "\u00e9t\u00e9", 5)
INTEGERS: Final = (0, 1, 2, 5, 100, 3600, -1, 2**31, "1", 1.5)


def sampled(*pools: Sequence[Any]) -> st.SearchStrategy[Any]:
    """Any value of the *pools*."""
    return st.sampled_from([value for pool in pools for value in pool])


#: The pools of the fields rule kinds read; :func:`pool_of` says which field takes which.
POOLS: Final[dict[str, Sequence[Any]]] = {
    "images": IMAGES,
    "algorithms": ALGORITHMS,
    "instance types": INSTANCE_TYPES,
    "counts": COUNTS,
    "volumes": VOLUMES,
    "KMS keys": KMS_KEYS,
    "S3 URIs": S3_URIS,
    "file systems": FILE_SYSTEMS,
    "roles": ROLES,
    "ARNs": ARNS,
    "seconds": SECONDS,
    "names": NAMES,
    "tag keys": TAG_KEYS,
    "tag values": TAG_VALUES,
    "switches": SWITCHES,
    "flags": BOOLEANS,
    "subnets": SUBNETS,
    "security groups": GROUPS,
}


def pool_of(name: str, annotation: Any) -> str | None:
    """The pool (:data:`POOLS`) of a leaf field of the spec that rule kinds read, by its
    name (as :mod:`webhook.model` names fields); None for the others."""
    lower = name.lower()
    kind = unwrap(annotation)
    if typing.get_origin(kind) is list:
        return {"subnets": "subnets", "securitygroupids": "security groups"}.get(lower)
    by_name = (
        (lower.endswith("image"), "images"),
        (name == "algorithmName", "algorithms"),
        (lower.endswith("instancetype"), "instance types"),
        (lower.endswith("instancecount"), "counts"),
        (lower.endswith("sizeingb"), "volumes"),
        ("kms" in lower, "KMS keys"),
        (lower.startswith("s3") and lower.endswith(("uri", "path")), "S3 URIs"),
        (lower.startswith("filesystemid"), "file systems"),
        ("role" in lower and lower.endswith("arn"), "roles"),
        (lower.endswith("arn"), "ARNs"),
        (lower.endswith("inseconds"), "seconds"),
        (name == "trainingJobName", "names"),
        (name == "key", "tag keys"),
        (name == "value", "tag values"),
        (name in _SWITCHED, "switches"),
        (kind is bool and lower.startswith("enable"), "flags"),
    )
    return next((pool for matches, pool in by_name if matches), None)


def values_for(name: str, annotation: Any) -> st.SearchStrategy[Any]:
    """Values for a leaf field of the spec: its pool, else some of its type and others."""
    kind = unwrap(annotation)
    pool = pool_of(name, annotation)
    if typing.get_origin(kind) is list:
        items = POOLS[pool] if pool is not None else TEXT
        return st.one_of(st.lists(st.sampled_from(items), max_size=3), sampled(ODD))
    if pool is not None:
        values = POOLS[pool]
    else:
        values = BOOLEANS if kind is bool else INTEGERS if kind is int else TEXT
    return st.one_of(*[st.sampled_from(values)] * 3, sampled(ODD))  # odd one time in four


def _spec_fields(
    model: type[BaseModel], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every field of the spec model, blocks and leaves, with ``[]`` for a list's items."""
    for name, info in model.model_fields.items():
        annotation = unwrap(info.annotation)
        path = (*prefix, name)
        if is_model(annotation):
            yield path, annotation
            yield from _spec_fields(annotation, path)
        elif typing.get_origin(annotation) is list and is_model(typing.get_args(annotation)[0]):
            yield path, annotation
            yield from _spec_fields(typing.get_args(annotation)[0], (*path, "[]"))
        else:
            yield path, annotation


#: Every field of the spec, with its annotation: its path under ``spec`` (``[]``: items).
SPEC_FIELDS: Final = tuple(_spec_fields(TrainingJobSpec))
#: The string maps of the spec (hyperParameters, environment...).
MAPS: Final = tuple(path for path, kind in SPEC_FIELDS if typing.get_origin(kind) is dict)


def is_block(annotation: Any) -> bool:
    """True for a field that holds objects: a block, or a list of them."""
    if typing.get_origin(annotation) is list:
        return is_model(typing.get_args(annotation)[0])
    return is_model(annotation)
