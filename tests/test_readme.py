"""The README's commands and tables stay true."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from webhook.catalog import RULES

README = (PROJECT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_quick_start_has_the_two_commands_and_they_exist() -> None:
    quick_start = _blocks("console")[0]
    commands = [line.split("#")[0].removeprefix("$ ").strip() for line in quick_start.splitlines()]
    assert commands == ["scripts/run", "scripts/test"]
    for command in commands:
        assert os.access(PROJECT / command, os.X_OK), command
    ci = (PROJECT / ".ci" / "run").read_text(encoding="utf-8")
    assert "exec scripts/test" in ci


def test_rule_table_lists_exactly_the_catalogue() -> None:
    section = README.split("\n## Rules\n", 1)[1].split("\n## ", 1)[0]
    table = re.findall(r"^\| `([a-z0-9.-]+)` \|", section, flags=re.MULTILINE)
    assert table == list(RULES)


def test_every_rule_the_code_emits_is_in_the_catalogue() -> None:
    emitted: set[str] = set()
    for file in (PROJECT / "webhook").rglob("*.py"):
        if file.name == "catalog.py":
            continue
        text = file.read_text(encoding="utf-8")
        emitted.update(
            re.findall(r'"((?:crd|k8s|sagemaker|update|policy)\.[a-z0-9-]+)(?<!\.yaml)"', text)
        )
        if re.search(r'"placeholder",', text):
            emitted.add("placeholder")
    assert emitted == set(RULES)


def test_json_example_has_the_real_shape(capsys: pytest.CaptureFixture[str]) -> None:
    from webhook.cli import main

    example = json.loads(_blocks("json")[0])
    main(["validate", "--examples", "-o", "json"])
    real = json.loads(capsys.readouterr().out)
    assert set(example) == set(real)
    assert set(example["summary"]) == set(real["summary"])
    assert set(example["results"][0]) == set(real["results"][0])
    [denied] = [result for result in real["results"] if not result["allowed"]]
    assert set(example["results"][0]["violations"][0]) == set(denied["violations"][0])


@pytest.mark.slow
def test_run_command_prints_what_the_readme_shows() -> None:
    """`scripts/run` from a checkout: installs, then checks the bundled examples."""
    result = subprocess.run(
        [str(PROJECT / "scripts" / "run")],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 1, result.stderr
    shown = _blocks("text")[0]
    assert result.stdout == shown
    assert Path(PROJECT / ".venv" / "bin" / "trainingjob-guard").exists()
