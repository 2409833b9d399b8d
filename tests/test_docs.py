"""The generated pages of docs/ are current and complete."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from tests.conftest import PROJECT
from webhook import reference
from webhook.catalog import RULES, WARN_BY_DEFAULT
from webhook.policy.model import RuleBase
from webhook.policy.rules.registry import KINDS

GENERATOR = PROJECT / "scripts" / "generate_docs.py"


# --- the generated pages ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(reference.pages()))
def test_generated_page_is_current(name: str) -> None:
    written = (PROJECT / name).read_text(encoding="utf-8")
    assert written == reference.pages()[name], (
        f"{name} is stale: run {reference.REGENERATE} and commit the result"
    )


@pytest.mark.parametrize("name", sorted(reference.pages()))
def test_generated_page_says_so_and_how_in_its_first_line(name: str) -> None:
    first = (PROJECT / name).read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("<!-- GENERATED from webhook/")
    assert "by .venv/bin/python scripts/generate_docs.py: do not edit. -->" in first


def test_generator_rewrites_a_stale_page_and_check_reports_it(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "rules.md").write_text("stale\n")
    run = [sys.executable, str(GENERATOR), "--root", str(tmp_path)]

    check = subprocess.run([*run, "--check"], capture_output=True, text=True, check=False)
    assert (check.returncode, check.stdout) == (
        1,
        "stale: docs/rule-kinds.md, docs/rules.md; run .venv/bin/python scripts/generate_docs.py\n",
    )

    write = subprocess.run(run, capture_output=True, text=True, check=False)
    assert (write.returncode, write.stdout) == (
        0,
        "wrote docs/rule-kinds.md\nwrote docs/rules.md\n",
    )
    for name, text in reference.pages().items():
        assert (tmp_path / name).read_text(encoding="utf-8") == text
    again = subprocess.run([*run, "--check"], capture_output=True, text=True, check=False)
    assert (again.returncode, again.stdout) == (0, "")


def test_rules_page_lists_the_catalogue_with_its_default_actions() -> None:
    rows = re.findall(
        r"^\| `([a-z0-9.-]+)` \| (deny|warn) \| (.+) \|$", reference.rules_page(), flags=re.M
    )
    assert [rule for rule, _, _ in rows] == list(RULES)
    assert {rule for rule, action, _ in rows if action == "warn"} == WARN_BY_DEFAULT
    assert all(text.endswith(".") for _, _, text in rows)


def test_rule_kinds_page_documents_every_kind_the_engine_compiles() -> None:
    page = reference.rule_kinds_page()
    assert list(reference.rule_kinds()) == list(KINDS)
    for kind in KINDS:
        assert f"\n## {kind}\n" in page
        assert f"| [`{kind}`](#{kind}) |" in page


def test_every_option_of_every_rule_kind_is_described() -> None:
    """An option without a docstring would be a row without meaning (and a bare schema)."""
    models: list[type[BaseModel]] = [RuleBase, *reference.rule_kinds().values()]
    missing = [name for model in models for name in reference.options_documented(model)]
    assert missing == []


def test_rule_kinds_page_shows_types_defaults_and_nested_options() -> None:
    page = reference.rule_kinds_page()
    assert (
        "| `maxInstanceCount` | integer or null, at least 1 | unset | The job's instance count, "
        "or its instance groups' counts together. |"
    ) in page
    assert "| `spot` | one of `allowed`, `required`, `forbidden` | `allowed` |" in page
    assert "| `controllerTags` | integer, at least 0, at most 50 | `4` |" in page
    assert "| `keys` | map of string to [object](#hyperparameters-keys-entries) | `{}` |" in page
    assert "\n### hyperparameters: `keys` entries\n" in page
    assert "| `exclusiveMax` | number or null | unset |" in page
    # reST literals become Markdown code.
    assert "``" not in page


def test_policy_schema_carries_the_option_descriptions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from webhook.cli import main

    assert main(["policy", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    resources = schema["$defs"]["ResourcesRule"]["properties"]
    assert resources["maxInstanceCount"]["description"] == (
        "The job's instance count, or its instance groups' counts together."
    )
    limits = schema["$defs"]["HyperParameterLimits"]["properties"]
    assert limits["required"]["description"] == "The key must be present."
