"""The composite GitHub Action (action.yml), its shell steps run as a runner would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, PROJECT, write

ACTION: dict[str, Any] = yaml.safe_load((PROJECT / "action.yml").read_text(encoding="utf-8"))
INPUTS: dict[str, Any] = ACTION["inputs"]
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
CI_DOC = (PROJECT / "docs" / "ci.md").read_text(encoding="utf-8")
GUARD = Path(sys.executable).parent / "trainingjob-guard"

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
STEP_OUTPUT = re.compile(r"steps\.([\w-]+)\.outputs\.([\w-]+)")
COMPARISON = re.compile(r"(\S+) == '([^']*)'")


@dataclass
class Runner:
    """The part of a GitHub runner that a composite action's steps see."""

    workspace: Path
    temp: Path
    inputs: dict[str, str]
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    used: list[dict[str, Any]] = field(default_factory=list)
    log: str = ""

    def value(self, expression: str) -> str:
        """The value of one of the expressions action.yml may use."""
        if expression.startswith("inputs."):
            name = expression.removeprefix("inputs.")
            assert name in INPUTS, f"input {name!r} is used but not declared"
            return self.inputs[name]
        if match := STEP_OUTPUT.fullmatch(expression):
            step, name = match.groups()
            assert step in {s.get("id") for s in STEPS}, f"no step {step!r}"
            return self.outputs.get(step, {}).get(name, "")
        if expression == "github.action_path":
            return str(PROJECT)
        raise AssertionError(f"expression {expression!r} is not one the runner here knows")

    def render(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: self.value(m.group(1)), text)

    def condition(self, text: str) -> bool:
        """`A == 'x' && B == 'y'`, the only form of `if:` that action.yml uses."""
        parts = text.split(" && ")
        results = []
        for part in parts:
            match = COMPARISON.fullmatch(part.strip())
            assert match, f"condition {part!r} is not NAME == 'VALUE'"
            results.append(self.value(match.group(1)) == match.group(2))
        return all(results)

    def run(self, step: dict[str, Any], path: str) -> int:
        """Run a `run:` step with bash as GitHub does; return its exit code."""
        output_file = self.temp / f"output-{len(self.outputs)}"
        output_file.write_text("")
        env = {
            "PATH": path,
            "HOME": str(self.temp),
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ACTION_PATH": str(PROJECT),
            "GITHUB_OUTPUT": str(output_file),
        }
        env |= {name: self.render(str(value)) for name, value in step.get("env", {}).items()}
        assert step["shell"] == "bash"
        # GitHub runs `bash --noprofile --norc -eo pipefail {0}` for `shell: bash`.
        script = self.temp / "step.sh"
        script.write_text(step["run"])
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        self.log += done.stdout + done.stderr
        lines = output_file.read_text().splitlines()
        if "id" in step:
            self.outputs[step["id"]] = dict(line.split("=", 1) for line in lines)
        return done.returncode

    def run_all(self, path: str) -> int:
        """Every step in order, as a job runs them; the first failure stops the rest."""
        for step in STEPS:
            if "if" in step and not self.condition(step["if"]):
                continue
            if "uses" in step:
                self.used.append(
                    {"uses": step["uses"]}
                    | {k: self.render(str(v)) for k, v in step.get("with", {}).items()}
                )
                continue
            code = self.run(step, path)
            if code:
                return code
        return 0


def fake_python(folder: Path) -> Path:
    """A `python` whose venv's pip records what it installs and links the real CLI."""
    bin_dir = folder / "fake-bin"
    write(
        bin_dir,
        "python",
        f"""#!/bin/bash
set -e
if [ "$1 $2" = "-m venv" ]; then
    mkdir -p "$3/bin"
    printf '#!/bin/bash\\necho "$*" >> "{folder}/pip-calls"\\n' > "$3/bin/python"
    chmod +x "$3/bin/python"
    ln -sf "{GUARD}" "$3/bin/trainingjob-guard"
    exit 0
fi
exit 99
""",
    ).chmod(0o755)
    return bin_dir


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    workspace = tmp_path / "workspace"
    shutil.copy(EXAMPLES / "training-job.yaml", write(workspace, "good/job.yaml", ""))
    shutil.copy(EXAMPLES / "training-job-invalid.yaml", write(workspace, "bad/job.yaml", ""))
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    defaults = {name: str(spec.get("default", "")) for name, spec in INPUTS.items()}
    return Runner(workspace=workspace, temp=temp, inputs=defaults)


def policy(folder: Path, tag: str, namespaces: str = "") -> None:
    """A policy that requires tag *tag*, in the namespaces matching *namespaces* if given."""
    match = f"match:\n  namespaces: [{namespaces!r}]\n" if namespaces else ""
    write(
        folder,
        f"{tag}.yaml",
        f"""apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata:
  name: {tag}-tag
id: {tag}-tag
version: "1.0.0"
description: a {tag} tag on every job.
action: deny
{match}rules:
  - id: tag
    kind: tags
    required:
      {tag}: null
""",
    )


def sarif_rules(runner: Runner) -> list[tuple[str, str, int]]:
    report = json.loads((runner.workspace / runner.inputs["sarif-file"]).read_text())
    return [
        (
            result["ruleId"],
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            result["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for result in report["runs"][0]["results"]
    ]


def test_every_input_used_is_declared_and_every_declared_input_is_used() -> None:
    text = (PROJECT / "action.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"inputs\.([\w-]+)", text))
    assert used == set(INPUTS)
    for name, spec in INPUTS.items():
        assert spec["description"], name
        assert isinstance(spec.get("default", ""), str), f"{name}: defaults are strings"


def test_steps_are_valid_bash_and_upload_comes_before_the_failure() -> None:
    for step in STEPS:
        if "run" in step:
            done = subprocess.run(["bash", "-n"], input=step["run"], text=True, check=False)
            assert done.returncode == 0, step["name"]
    names = [step.get("uses", step.get("id", step["name"])).split("@")[0] for step in STEPS]
    assert names.index("github/codeql-action/upload-sarif") < len(names) - 1
    assert "run" in STEPS[-1]
    assert "exit" in STEPS[-1]["run"]


def run_action(runner: Runner, **inputs: str) -> int:
    runner.inputs |= inputs
    path = f"{fake_python(runner.temp)}:{os.environ['PATH']}"
    return runner.run_all(path)


@pytest.mark.slow
def test_a_good_manifest_passes_and_its_empty_report_is_uploaded(runner: Runner) -> None:
    code = run_action(runner, paths="good/")
    assert code == 0, runner.log
    assert runner.outputs["validate"]["exit-code"] == "0"
    assert sarif_rules(runner) == []
    setup, upload = runner.used
    assert setup["uses"] == "actions/setup-python@v6"
    assert upload == {
        "uses": "github/codeql-action/upload-sarif@v4",
        "sarif_file": "trainingjob-guard.sarif",
        "category": "trainingjob-guard",
    }
    assert "1 TrainingJob checked" in runner.log


@pytest.mark.slow
def test_a_bad_manifest_is_uploaded_then_fails_the_job(runner: Runner) -> None:
    code = run_action(runner, paths="good/\nbad/")
    assert code == 1
    assert runner.outputs["validate"]["exit-code"] == "1"
    assert ("sagemaker.pattern", "bad/job.yaml", 10) in sarif_rules(runner)
    assert [u["uses"].split("@")[0] for u in runner.used][-1] == (
        "github/codeql-action/upload-sarif"
    )
    # The log has the findings as text, and the failure says why.
    assert "bad/job.yaml:10:20: deny sagemaker.pattern" in runner.log
    assert "::error title=trainingjob-guard::a TrainingJob is denied" in runner.log


@pytest.mark.slow
def test_the_action_installs_its_own_copy_or_the_given_version(runner: Runner) -> None:
    assert run_action(runner, paths="good/") == 0
    assert run_action(runner, paths="good/", version="0.1.0") == 0
    calls = (runner.temp / "pip-calls").read_text().splitlines()
    assert [call.split()[-1] for call in calls] == [str(PROJECT), "trainingjob-guard==0.1.0"]
    assert runner.outputs["install"]["command"] == str(
        runner.temp / "trainingjob-guard-venv" / "bin" / "trainingjob-guard"
    )


@pytest.mark.slow
def test_each_line_of_policies_is_a_policy(runner: Runner) -> None:
    policy(runner.workspace / "policies", "alpha")
    policy(runner.workspace / "policies", "beta")
    code = run_action(runner, paths="good/", policies="policies/alpha.yaml\npolicies/beta.yaml\n")
    assert code == 1
    assert {rule for rule, _, _ in sarif_rules(runner)} == {"alpha-tag/tag", "beta-tag/tag"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("inputs", "levels"),
    [
        ({}, {"sagemaker.pattern": "error", "baseline/no-secrets": "error"}),
        ({"no-baseline": "true"}, {"sagemaker.pattern": "error", "baseline/no-secrets": None}),
        (
            {"extra-args": "--rule-action sagemaker.pattern=warn\n--no-policy"},
            {"sagemaker.pattern": "warning", "baseline/no-secrets": None},
        ),
    ],
)
def test_flags_reach_the_validator(
    runner: Runner, inputs: dict[str, str], levels: dict[str, str | None]
) -> None:
    assert run_action(runner, paths="bad/job.yaml", **inputs) == 1
    report = json.loads((runner.workspace / "trainingjob-guard.sarif").read_text())
    found = {result["ruleId"]: result["level"] for result in report["runs"][0]["results"]}
    assert {rule: found.get(rule) for rule in levels} == levels


@pytest.mark.slow
@pytest.mark.parametrize(
    ("inputs", "expected_code"),
    [({}, 0), ({"strict": "true"}, 1), ({"strict": "true", "namespace": "dev"}, 0)],
)
def test_strict_and_namespace(runner: Runner, inputs: dict[str, str], expected_code: int) -> None:
    job = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())
    del job["metadata"]["namespace"]
    write(runner.workspace, "unscoped/job.yaml", yaml.safe_dump(job))
    policy(runner.workspace / "policies", "alpha", namespaces="prod-*")
    code = run_action(runner, paths="unscoped/", policies="policies/alpha.yaml", **inputs)
    assert code == expected_code, runner.log
    if inputs.get("strict") and not inputs.get("namespace"):
        assert ("cli.namespace-unset", "unscoped/job.yaml") in {r[:2] for r in sarif_rules(runner)}


@pytest.mark.slow
def test_a_usage_error_uploads_nothing_and_fails_with_its_code(runner: Runner) -> None:
    code = run_action(runner, paths="good/", **{"extra-args": "--no-such-flag"})
    assert code == 2
    assert [u["uses"] for u in runner.used] == ["actions/setup-python@v6"]
    assert "unrecognized arguments: --no-such-flag" in runner.log
    assert "could not check every manifest (exit 2)" in runner.log


@pytest.mark.slow
def test_the_report_may_go_to_a_new_folder(runner: Runner) -> None:
    assert run_action(runner, paths="bad/", **{"sarif-file": "reports/guard.sarif"}) == 1
    assert runner.used[-1]["sarif_file"] == "reports/guard.sarif"
    assert ("sagemaker.pattern", "bad/job.yaml", 10) in sarif_rules(runner)


@pytest.mark.slow
def test_upload_can_be_turned_off(runner: Runner) -> None:
    assert run_action(runner, paths="bad/", **{"upload-sarif": "false"}) == 1
    assert [u["uses"] for u in runner.used] == ["actions/setup-python@v6"]
    assert (runner.workspace / "trainingjob-guard.sarif").stat().st_size > 0


def test_docs_workflow_uses_declared_inputs_and_the_permission_upload_needs() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", CI_DOC, flags=re.DOTALL)
    workflow = next(yaml.safe_load(b) for b in blocks if "jobs:" in b)
    assert workflow["permissions"]["security-events"] == "write"
    steps = workflow["jobs"]["validate"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert steps[1]["uses"].startswith("trainingjob-guard/trainingjob-guard@")
    assert set(steps[1]["with"]) <= set(INPUTS)
    table = re.findall(r"^\| `([\w-]+)` \| ", CI_DOC.split("## GitHub Actions")[1], re.MULTILINE)
    assert table == list(INPUTS)
