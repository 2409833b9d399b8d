"""`trainingjob-guard mutate`, `test` and `policy lint` as a platform engineer uses them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES, PROJECT, write
from webhook.cli import main

VALID = (EXAMPLES / "training-job.yaml").read_text(encoding="utf-8")

DEFAULTS_POLICY = """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: defaults}
id: defaults
defaults:
  coerceStrings: true
  spec:
    tags: [{key: team, value: "{namespace}"}]
    enableNetworkIsolation: true
"""


def test_mutate_prints_defaulted_manifests(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = write(tmp_path, "defaults.yaml", DEFAULTS_POLICY)
    job = VALID.replace('max_depth: "5"', "max_depth: 5")
    configmap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n"
    manifests = write(tmp_path, "jobs.yaml", job + "---\n" + configmap)
    code = main(["mutate", str(manifests), "--policy", str(policy)])
    out = capsys.readouterr().out
    assert code == 0
    documents = list(yaml.safe_load_all(out))
    assert documents[1] == yaml.safe_load(configmap)  # other kinds pass through unchanged
    spec = documents[0]["spec"]
    assert spec["hyperParameters"]["max_depth"] == "5"
    assert spec["enableNetworkIsolation"] is True
    assert spec["tags"] == [{"key": "team", "value": "team-a"}]  # the job's own tag kept its value
    # The defaults applied to their own output change nothing.
    again = write(tmp_path, "again.yaml", out)
    main(["mutate", str(again), "--policy", str(policy)])
    assert list(yaml.safe_load_all(capsys.readouterr().out)) == documents


def test_mutate_reports_unreadable_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["mutate", str(tmp_path / "nope.yaml"), "--no-policy"])
    captured = capsys.readouterr()
    assert code == 2
    assert "nope.yaml:0:0: error: no such file or directory" in captured.err


def test_the_bundled_policy_library_passes_its_own_tests(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["test", str(PROJECT / "policies")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "FAIL" not in out
    assert out.rstrip().splitlines()[-1].endswith(" failed")


def test_test_command_reports_a_mismatch_and_a_folder_without_cases(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    baseline = PROJECT / "policies" / "baseline"
    shutil.copytree(baseline, tmp_path / "broken")
    cases = tmp_path / "broken" / "tests" / "cases.yaml"
    cases.write_text(cases.read_text().replace("expect: deny", "expect: allow", 1))
    write(tmp_path, "empty/policy.yaml", (baseline / "policy.yaml").read_text())
    code = main(["test", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert (
        "FAIL " + str(tmp_path / "broken") + ": an access key in the environment is denied" in out
    )
    assert "expected allow, got deny" in out
    assert "deny baseline/no-secrets spec.environment[AWS_ACCESS_KEY_ID]" in out
    assert (
        f"FAIL {tmp_path / 'empty'}\n    no tests/cases.yaml: every policy needs test cases" in out
    )
    assert out.rstrip().endswith("7 passed, 2 failed")


def test_lint_accepts_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["policy", "lint", str(PROJECT / "policies")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.endswith(": no problems\n")


def test_lint_reports_conflicts_and_dead_rules(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(
        tmp_path,
        "a.yaml",
        """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: a}
id: a
rules:
  - {id: gpus, kind: resources, instanceTypes: ["ml.p9.*", "ml.g5.*"]}
  - {id: keys, kind: secrets, maps: [environment]}
defaults:
  spec: {stoppingCondition: {maxRuntimeInSeconds: 86400}}
""",
    )
    write(
        tmp_path,
        "b.yaml",
        """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: b}
id: b
match: {namespaces: [sandbox]}
exclude: {namespaces: [sandbox]}
defaults:
  spec: {stoppingCondition: {maxRuntimeInSeconds: 3600}}
""",
    )
    code = main(["policy", "lint", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "instanceTypes glob 'ml.p9.*' matches no SageMaker training instance type" in out
    assert "ml.g5.*" not in out
    assert "policy b never applies" in out
    assert "defaults conflict: spec.stoppingCondition.maxRuntimeInSeconds" in out
    assert "(a/keys): maps is ignored: the secrets rule scans every string of the spec" in out
    assert out.rstrip().endswith("2 policies: 4 problem(s)")


def test_lint_stops_on_a_policy_that_does_not_load(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(
        tmp_path,
        "bad.yaml",
        """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: bad}
id: bad
rules:
  - id: custom
    kind: cel
    expression: "object.spec.resourceConfig.instanceCount <="
""",
    )
    code = main(["policy", "lint", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 2
    assert f"{tmp_path / 'bad.yaml'}:8:17: rules[0].expression: invalid CEL" in out
