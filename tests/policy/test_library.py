"""The shipped policy library: every folder has cases, they pass, every rule kind is shown."""

from __future__ import annotations

import typing
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT
from webhook import testing
from webhook.policy.model import PolicyDocument

LIBRARY = PROJECT / "policies"
FOLDERS = testing.discover([LIBRARY])
KINDS = sorted(
    typing.get_args(member.model_fields["kind"].annotation)[0]
    for member in typing.get_args(
        typing.get_args(typing.get_args(PolicyDocument.model_fields["rules"].annotation)[0])[0]
    )
)


def test_every_folder_under_policies_is_a_policy_with_cases() -> None:
    folders = sorted(p for p in LIBRARY.iterdir() if p.is_dir())
    assert folders == FOLDERS
    for folder in folders:
        cases = folder / "tests" / "cases.yaml"
        assert cases.is_file(), f"{folder.name} has no tests/cases.yaml"
        assert yaml.safe_load(cases.read_text())["cases"], f"{folder.name} has no cases"


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.name)
def test_policy_folder_passes_its_cases(folder: Path) -> None:
    results = testing.run([folder])
    failures = [(case.name, case.problems) for case in results.cases if not case.passed]
    assert failures == []
    assert results.cases


def _coverage() -> dict[str, set[str]]:
    """For each rule kind, the outcomes shown by some case: allow, deny, warn."""
    shown: dict[str, set[str]] = defaultdict(set)
    for folder in FOLDERS:
        document = PolicyDocument.model_validate(
            yaml.safe_load((folder / "policy.yaml").read_text())
        )
        kind_of = {f"{document.id}/{rule.id}": rule.kind for rule in document.rules}
        cases = yaml.safe_load((folder / "tests" / "cases.yaml").read_text())["cases"]
        for case in cases:
            if case["expect"] == "allow":
                for kind in kind_of.values():
                    shown[kind].add("allow")
                continue
            fired = [kind_of[rule] for rule in case.get("rules") or [] if rule in kind_of]
            complete = case["expect"] == "warn" or (
                case.get("paths") and case.get("messageContains")
            )
            for kind in fired:
                if complete:
                    shown[kind].add(case["expect"])
    return shown


@pytest.mark.parametrize("kind", KINDS)
def test_every_rule_kind_has_an_allowed_a_denied_and_a_warned_case(kind: str) -> None:
    """Denied cases name the rule, the paths and part of the message."""
    assert _coverage()[kind] == {"allow", "deny", "warn"}
