"""Impact preview: which existing TrainingJobs a policy change flips.

Each job is judged twice, as :mod:`webhook.audit.examine` judges it (a CREATE of
today, no defaults), under the policies in force (*before*) and under the new ones
(*after*), and kept only when the answers differ:

- *newly denied*: admitted before, denied after: the blast radius of the rollout;
- *newly allowed*: denied before, admitted after;
- *findings changed*: the same decision, other findings (a new warning, a denial for
  another reason, a rule whose action changed). A finding is the same when its rule,
  field path and action are; a reworded message alone is no change.

:attr:`Impact.exit_code` is for CI: 1 when some job would be newly denied, else 0 (a
change that only allows more, or only changes warnings, passes). Jobs are examined
one at a time and only those that change are kept.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from webhook.audit.examine import Examined, NamespaceLabelLookup, examine_one, for_audit
from webhook.engine import Config
from webhook.findings import Finding

__all__ = ["Change", "Flip", "Impact", "compare"]


class Change(enum.StrEnum):
    """How a job's answer changes, in the order reports list them."""

    NEWLY_DENIED = "newlyDenied"
    NEWLY_ALLOWED = "newlyAllowed"
    FINDINGS_CHANGED = "findingsChanged"


_ORDER: Final = {change: index for index, change in enumerate(Change)}
FindingKey = tuple[str, str, str]


def _key(finding: Finding) -> FindingKey:
    return finding.rule, finding.where, finding.action.value


@dataclass(frozen=True, slots=True)
class Flip:
    """One job whose answer a policy change changes."""

    namespace: str
    name: str
    change: Change
    allowed_before: bool
    allowed_after: bool
    added: tuple[Finding, ...]
    """Findings after the change that were not there before."""
    removed: tuple[Finding, ...]
    """Findings before the change that are gone after it."""


@dataclass(slots=True)
class Impact:
    """What a policy change does to the jobs checked."""

    flips: list[Flip] = field(default_factory=list)
    checked: int = 0

    def count(self, change: Change) -> int:
        """How many jobs change this way."""
        return sum(1 for flip in self.flips if flip.change is change)

    @property
    def unchanged(self) -> int:
        """Jobs with the same decision and findings before and after."""
        return self.checked - len(self.flips)

    @property
    def exit_code(self) -> int:
        """1 when some job would be newly denied, else 0."""
        return 1 if self.count(Change.NEWLY_DENIED) else 0


def flip(before: Examined, after: Examined) -> Flip | None:
    """The change from *before* to *after* (one job, judged twice); None when there is none."""
    old = {_key(finding) for finding in before.decision.findings}
    new = {_key(finding) for finding in after.decision.findings}
    added = tuple(finding for finding in after.decision.findings if _key(finding) not in old)
    removed = tuple(finding for finding in before.decision.findings if _key(finding) not in new)
    if before.allowed and not after.allowed:
        change = Change.NEWLY_DENIED
    elif after.allowed and not before.allowed:
        change = Change.NEWLY_ALLOWED
    elif added or removed:
        change = Change.FINDINGS_CHANGED
    else:
        return None
    job = after.job
    return Flip(job.namespace, job.name, change, before.allowed, after.allowed, added, removed)


def compare(
    objects: Iterable[Mapping[str, Any]],
    before: Config,
    after: Config,
    labels: NamespaceLabelLookup,
) -> Impact:
    """Judge every object under *before* and *after*; keep the jobs whose answer changes."""
    before, after = for_audit(before), for_audit(after)
    impact = Impact()
    for obj in objects:
        impact.checked += 1
        found = flip(examine_one(obj, before, labels), examine_one(obj, after, labels))
        if found is not None:
            impact.flips.append(found)
    impact.flips.sort(key=lambda f: (_ORDER[f.change], f.namespace, f.name))
    return impact
