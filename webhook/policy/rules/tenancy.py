"""Rule kind ``tenancy``: a namespace uses its own IAM role, S3 locations and KMS keys.

* ``roles``: globs ``spec.roleARN`` must match (``arn:aws:iam::123456789012:role/{namespace}-*``).
* ``s3``: globs every S3 URI of the spec must match: the input channels' ``s3URI``,
  the output, checkpoint, TensorBoard, debugger hook, debugger rule, profiler and
  profiler rule locations. An entry ending in ``/`` also allows everything below it
  (``s3://ml-{namespace}/`` allows ``s3://ml-team-a/any/key``); an entry that is a
  whole bucket (``s3://bucket/``) also allows the bare ``s3://bucket``.
* ``kmsKeys``: globs ``outputDataConfig.kmsKeyID`` and ``resourceConfig.volumeKMSKeyID``
  must match.

Placeholders are filled with escaped values (:class:`~webhook.policy.globs.Globs`), so
a namespace name can never widen a pattern.

Choices:

* A prefix entry must end in ``/``: S3 prefixes are not directories, so
  ``s3://ml-team-a/data`` would also reach ``s3://ml-team-a/data-of-team-b/``; that is
  why ``s3://ml-team-a/data/`` does not allow the bare ``s3://ml-team-a/data``.
* ``https://`` URIs are matched as written: list them explicitly to allow them.
* Only what the spec names is checked: S3 objects a manifest file lists, and S3
  paths inside ``hyperParameters`` (e.g. ``sagemaker_submit_directory``; those values
  may be secrets and are never read here), are not. The IAM role's permissions remain
  the real boundary; this rule catches the mistake before SageMaker does.
* Missing or non-string values are skipped (other rules require fields).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from webhook.paths import Path
from webhook.policy.globs import Globs
from webhook.policy.model import TenancyRule
from webhook.policy.rules import Check, Violation
from webhook.policy.subject import Subject
from webhook.text import show

#: Where the spec holds S3 URIs, in the order of the CRD: (field of spec, is it a list,
#: path inside the field or inside each of its entries).
S3_FIELDS: Final[tuple[tuple[str, bool, tuple[str, ...]], ...]] = (
    ("inputDataConfig", True, ("dataSource", "s3DataSource", "s3URI")),
    ("outputDataConfig", False, ("s3OutputPath",)),
    ("checkpointConfig", False, ("s3URI",)),
    ("tensorBoardOutputConfig", False, ("s3OutputPath",)),
    ("debugHookConfig", False, ("s3OutputPath",)),
    ("debugRuleConfigurations", True, ("s3OutputPath",)),
    ("profilerConfig", False, ("s3OutputPath",)),
    ("profilerRuleConfigurations", True, ("s3OutputPath",)),
)
KMS_FIELDS: Final[tuple[tuple[str, str], ...]] = (
    ("outputDataConfig", "kmsKeyID"),
    ("resourceConfig", "volumeKMSKeyID"),
)

#: ``s3://bucket/`` (or with a placeholder in the bucket): a whole bucket.
_BUCKET_ENTRY: Final = re.compile(r"(?:s3|https)://[^/]+/")


def _string_at(value: Any, steps: tuple[str, ...]) -> str | None:
    """The non-empty string at *steps* below *value*, or None."""
    for step in steps:
        value = value.get(step) if isinstance(value, dict) else None
    return value if isinstance(value, str) and value else None


def s3_locations(spec: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    """Every S3 URI of *spec* (non-empty strings) with its path, in the order of the CRD."""
    for name, listed, steps in S3_FIELDS:
        if not listed:
            value = _string_at(spec, (name, *steps))
            if value is not None:
                yield ("spec", name, *steps), value
            continue
        entries = spec.get(name)
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            value = _string_at(entry, steps)
            if value is not None:
                yield ("spec", name, index, *steps), value


def s3_globs(entries: list[str]) -> list[str]:
    """The globs that implement the ``s3`` entries (prefix and bucket entries widened)."""
    globs: list[str] = []
    for entry in entries:
        globs.append(entry)
        if entry.endswith("/"):
            globs.append(entry + "*")
            if _BUCKET_ENTRY.fullmatch(entry):
                globs.append(entry[:-1])
    return globs


def _where(subject: Subject) -> str:
    return f"in namespace {subject.namespace}" if subject.namespace else "here"


def compile_rule(rule: TenancyRule) -> Check:
    """Compile a ``tenancy`` rule into a check."""
    roles = Globs(rule.roles) if rule.roles is not None else None
    s3_shown = Globs(rule.s3) if rule.s3 is not None else None
    s3 = Globs(s3_globs(rule.s3)) if rule.s3 is not None else None
    keys = Globs(rule.kmsKeys) if rule.kmsKeys is not None else None

    def allowed(globs: Globs, subject: Subject) -> str:
        return globs.describe(subject) if globs else "none"

    def check(subject: Subject) -> Iterator[Violation]:
        spec = subject.spec
        if roles is not None:
            role = spec.get("roleARN")
            if isinstance(role, str) and role and not roles.matches(role, subject):
                yield Violation(
                    ("spec", "roleARN"),
                    f"{show(role)} is not one of the IAM roles allowed {_where(subject)}: "
                    f"{allowed(roles, subject)}",
                )
        if s3 is not None and s3_shown is not None:
            for path, uri in s3_locations(spec):
                if not s3.matches(uri, subject):
                    yield Violation(
                        path,
                        f"{show(uri)} is outside the S3 locations allowed {_where(subject)}: "
                        f"{allowed(s3_shown, subject)}",
                    )
        if keys is not None:
            for block, field in KMS_FIELDS:
                key = _string_at(spec, (block, field))
                if key is not None and not keys.matches(key, subject):
                    yield Violation(
                        ("spec", block, field),
                        f"{show(key)} is not one of the KMS keys allowed {_where(subject)}: "
                        f"{allowed(keys, subject)}",
                    )

    return check
