"""Rule kind ``tenancy``: a namespace uses its own IAM role, storage and KMS keys.

The fields are found from the typed model (:mod:`webhook.model.concepts`), so a
storage location or key field the CRD adds is checked without a change here.

* ``roles``: globs ``spec.roleARN`` must match (``arn:aws:iam::123456789012:role/{namespace}-*``).
* Storage: every location the job reads or writes must be one the rule vouches for.

  * ``s3``: globs every S3 URI of the spec must match: the input channels' ``s3URI``,
    the output, checkpoint, TensorBoard, debugger hook, debugger rule, profiler and
    profiler rule locations. An entry ending in ``/`` also allows everything below it
    (``s3://ml-{namespace}/`` allows ``s3://ml-team-a/any/key``); an entry that is a
    whole bucket (``s3://bucket/``) also allows the bare ``s3://bucket``.
  * ``fileSystems``: globs the ``fileSystemID`` of every EFS / FSx input channel must
    match (``fs-0abc*``).
  * ``hubContents``: globs every ``hubContentARN`` (a SageMaker hub model an S3 channel
    reads) must match.

  A rule with any of the three checks every storage location of the job: a location
  whose list is left out is denied (a rule that vouches for a team's buckets cannot
  vouch for a file system it was told nothing about). A rule with none of them
  leaves storage alone.
* ``kmsKeys``: globs every KMS key field (``outputDataConfig.kmsKeyID``,
  ``resourceConfig.volumeKMSKeyID``) must match.

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

from webhook.model.concepts import STORAGE, Concept, concept_values
from webhook.paths import Path
from webhook.policy.globs import Globs
from webhook.policy.model import TenancyRule
from webhook.policy.rules import Check, Violation
from webhook.policy.subject import Subject
from webhook.text import show

#: What each storage concept is called in messages, and the option that allows it.
_STORAGE_NAMES: Final = {
    Concept.S3_LOCATION: ("S3 locations", "s3"),
    Concept.FILE_SYSTEM: ("file systems", "fileSystems"),
    Concept.HUB_CONTENT: ("hub contents", "hubContents"),
}

#: ``s3://bucket/`` (or with a placeholder in the bucket): a whole bucket.
_BUCKET_ENTRY: Final = re.compile(r"(?:s3|https)://[^/]+/")


def _strings(spec: Mapping[str, Any], concept: Concept) -> Iterator[tuple[Path, str]]:
    """Every value of *concept* in *spec* that is a non-empty string, with its path."""
    for path, value in concept_values(spec, concept):
        if isinstance(value, str) and value:
            yield path, value


def s3_locations(spec: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    """Every S3 URI of *spec* (non-empty strings) with its path, in the order of the CRD."""
    return _strings(spec, Concept.S3_LOCATION)


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
    keys = Globs(rule.kmsKeys) if rule.kmsKeys is not None else None
    # Per storage concept: the globs that allow it and the entries shown in messages.
    storage: dict[Concept, tuple[Globs, Globs]] = {}
    lists = {
        Concept.S3_LOCATION: rule.s3,
        Concept.FILE_SYSTEM: rule.fileSystems,
        Concept.HUB_CONTENT: rule.hubContents,
    }
    if any(entries is not None for entries in lists.values()):
        for concept in STORAGE:
            entries = lists[concept] or []
            globs = s3_globs(entries) if concept is Concept.S3_LOCATION else entries
            storage[concept] = (Globs(globs), Globs(entries))

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
        for concept, (globs, shown) in storage.items():
            what, option = _STORAGE_NAMES[concept]
            for path, location in _strings(spec, concept):
                if not globs.matches(location, subject):
                    yield Violation(
                        path,
                        f"{show(location)} is outside the {what} allowed {_where(subject)}: "
                        f"{allowed(shown, subject)}"
                        + ("" if shown else f" (list them in the rule's {option})"),
                    )
        if keys is not None:
            for path, key in _strings(spec, Concept.KMS_KEY):
                if not keys.matches(key, subject):
                    yield Violation(
                        path,
                        f"{show(key)} is not one of the KMS keys allowed {_where(subject)}: "
                        f"{allowed(keys, subject)}",
                    )

    return check
