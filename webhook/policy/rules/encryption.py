"""Rule kind ``encryption``: KMS keys for the job's output and its ML storage volumes.

* ``requireOutputKey`` / ``requireVolumeKey``: ``spec.outputDataConfig.kmsKeyID`` /
  ``spec.resourceConfig.volumeKMSKeyID`` must be a non-empty string (blank counts as
  missing).
* ``keys``: globs (placeholders allowed) every key that is given must match: every KMS
  key field of the spec, found from the typed model (:mod:`webhook.model.concepts`).
* ``sameAccountAsRole``: a key given as a full ARN
  (``arn:<partition>:kms:<region>:<account>:key/...`` or ``...:alias/...``) must be in
  the account of ``spec.roleARN`` (when that is an ARN too).
* ``region``: a key given as a full ARN must be in this region.

Choices:

* A key id (``1234abcd-...``) or alias name (``alias/team-a``) carries no account or
  region: SageMaker resolves it in the role's account and the job's region, so
  ``sameAccountAsRole`` and ``region`` allow it.
* A value of the wrong type (not a string) is left to the schema checks: it is neither
  "missing" here nor matched against ``keys``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final, NamedTuple

from webhook.model.concepts import Concept, concept_values
from webhook.paths import Path
from webhook.policy.globs import Globs
from webhook.policy.model import EncryptionRule
from webhook.policy.rules import Check, RuleConfigError, Violation
from webhook.policy.subject import Subject
from webhook.text import show

OUTPUT_KEY: Final[Path] = ("spec", "outputDataConfig", "kmsKeyID")
VOLUME_KEY: Final[Path] = ("spec", "resourceConfig", "volumeKMSKeyID")

#: A KMS key or alias ARN: ``arn:<partition>:kms:<region>:<account>:key/<id>``.
_KMS_ARN: Final = re.compile(
    r"arn:(?P<partition>[^:]+):kms:(?P<region>[^:]*):(?P<account>[^:]*):(?:key|alias)/.+"
)
#: Any ARN, for the role: ``arn:<partition>:<service>:<region>:<account>:<resource>``.
_ARN: Final = re.compile(r"arn:[^:]+:[^:]+:[^:]*:(?P<account>[^:]*):.+")
_REGION: Final = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")


class _Key(NamedTuple):
    """One of the two key fields: where it is and what it encrypts."""

    path: Path
    block: str
    field: str
    noun: str
    required: bool


def role_account(role: object) -> str | None:
    """The account id of a role ARN, or None when *role* is not an ARN with one."""
    if not isinstance(role, str):
        return None
    match = _ARN.fullmatch(role)
    return (match["account"] or None) if match else None


def _key_fields(rule: EncryptionRule) -> tuple[_Key, _Key]:
    """The two key fields, each required or not as *rule* says."""
    return (
        _Key(
            OUTPUT_KEY,
            "outputDataConfig",
            "kmsKeyID",
            "the job's output in S3",
            rule.requireOutputKey,
        ),
        _Key(
            VOLUME_KEY,
            "resourceConfig",
            "volumeKMSKeyID",
            "the training instances' storage volumes",
            rule.requireVolumeKey,
        ),
    )


def _misplaced(
    path: Path, value: str, account: str | None, region: str | None
) -> Iterator[Violation]:
    """A key ARN outside the role's *account* or outside *region* (a key id or alias: no)."""
    arn = _KMS_ARN.fullmatch(value)
    if arn is None:
        return  # a key id or alias name: SageMaker resolves it in the role's account
    if account is not None and arn["account"] != account:
        yield Violation(
            path,
            f"KMS key {show(value)} is in account {arn['account'] or '(none)'}, not in "
            f"account {account} of the job's role (spec.roleARN)",
        )
    if region is not None and arn["region"] != region:
        yield Violation(
            path,
            f"KMS key {show(value)} is in region {arn['region'] or '(none)'}; "
            f"keys must be in {region}",
        )


def compile_rule(rule: EncryptionRule) -> Check:
    """Compile an ``encryption`` rule into a check."""
    if rule.region is not None and not _REGION.fullmatch(rule.region):
        raise RuleConfigError(
            "region", f"{show(rule.region)} is not an AWS region name such as us-east-1"
        )
    keys = Globs(rule.keys) if rule.keys is not None else None
    region = rule.region
    same_account = rule.sameAccountAsRole
    fields = _key_fields(rule)

    def check(subject: Subject) -> Iterator[Violation]:
        for key in fields:
            if not key.required:
                continue
            raw = subject.block(key.block).get(key.field)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                yield Violation(
                    key.path,
                    f"{key.field} is required: {key.noun} must be encrypted with a KMS key"
                    + (f" (allowed: {keys.describe(subject)})" if keys else "")
                    + "; missing",
                )
        if keys is None and not same_account and region is None:
            return
        account: str | None = None
        if same_account:
            account = role_account(subject.spec.get("roleARN"))
        for path, value in concept_values(subject.spec, Concept.KMS_KEY):
            if not isinstance(value, str) or not value.strip():
                continue  # wrong type: the schema checks report it; blank: required above
            if keys is not None and not keys.matches(value, subject):
                allowed = keys.describe(subject) or "none"
                yield Violation(
                    path, f"{show(value)} is not an allowed KMS key; allowed: {allowed}"
                )
            yield from _misplaced(path, value, account, region)

    return check
