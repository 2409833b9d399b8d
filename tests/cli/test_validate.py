"""`trainingjob-guard validate` as a CI pipeline runs it."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, AckData, write
from webhook.cli import main


def run(
    capsys: pytest.CaptureFixture[str], *args: str, stdin: str | None = None
) -> tuple[int, str]:
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(["validate", *args])
    finally:
        sys.stdin = sys.__stdin__
    return code, capsys.readouterr().out


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out = run(capsys, *args, "-o", "json")
    return code, json.loads(out)


def violations(report: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    return [
        (Path(result["file"]).name, v["rule"], v["path"], v["line"])
        for result in report["results"]
        for v in result["violations"]
    ]


VALID = (EXAMPLES / "training-job.yaml").read_text(encoding="utf-8")


def test_ack_e2e_manifests_report_each_placeholder_and_nothing_else(
    ack: AckData, capsys: pytest.CaptureFixture[str]
) -> None:
    """Oracle: every line of the raw files holding a $VARIABLE, and only those."""
    code, report = run_json(capsys, str(ack.e2e_resources))
    assert code == 1
    expected = set()
    for file in sorted(ack.e2e_resources.glob("*.yaml")):
        for number, line in enumerate(file.read_text().splitlines(), start=1):
            if re.search(r"\$[A-Z_]+", line):
                expected.add((file.name, number))
    found = violations(report)
    assert {rule for _, rule, _, _ in found} == {"placeholder"}
    assert {(file, line) for file, _, _, line in found} == expected
    assert len(found) == len(expected)
    by_path = {(file, path) for file, _, path, _ in found}
    assert ("xgboost_trainingjob.yaml", "spec.resourceConfig.instanceType") in by_path
    assert (
        "xgboost_trainingjob_debugger.yaml",
        "spec.profilerRuleConfigurations[0].ruleEvaluatorImage",
    ) in by_path
    messages = {v["message"] for r in report["results"] for v in r["violations"]}
    assert (
        "contains the unsubstituted placeholder $TRAINING_JOB_INSTANCE_TYPE: replace it with a real value (envsubst, kustomize or helm) before applying"
        in messages
    )


def test_ack_unit_test_create_manifests_pass(
    ack: AckData, capsys: pytest.CaptureFixture[str]
) -> None:
    files = sorted(
        str(p) for p in (ack.unit_testdata / "create/desired").glob("success_before_create*.yaml")
    )
    assert len(files) == 2
    code, report = run_json(capsys, *files)
    assert code == 0
    assert [r["allowed"] for r in report["results"]] == [True, True]
    # The baseline policy only warns that the unit-test image is not pinned.
    assert {(v["rule"], v["action"]) for r in report["results"] for v in r["violations"]} == {
        ("baseline/pinned-images", "warn")
    }
    code, out = run(capsys, *files, "--no-policy")
    assert (code, out) == (0, "2 TrainingJobs checked\n")


# One manifest per mistake of the acceptance list: (file, text edit, rule, path, key on the line).
MISTAKES = [
    (
        "underscore.yaml",
        ("trainingJobName: churn-xgboost-2026-11-27", "trainingJobName: churn_xgboost"),
        "sagemaker.pattern",
        "spec.trainingJobName",
        "trainingJobName:",
    ),
    (
        "notebook-type.yaml",
        ("instanceType: ml.m5.xlarge", "instanceType: ml.t2.medium"),
        "sagemaker.instance-type",
        "spec.resourceConfig.instanceType",
        "instanceType:",
    ),
    (
        "enum-typo.yaml",
        ("s3DataDistributionType: FullyReplicated", "s3DataDistributionType: FullReplicated"),
        "sagemaker.enum",
        "spec.inputDataConfig[0].dataSource.s3DataSource.s3DataDistributionType",
        "s3DataDistributionType:",
    ),
    (
        "max-wait.yaml",
        ("maxRuntimeInSeconds: 7200", "maxRuntimeInSeconds: 7200\n    maxWaitTimeInSeconds: 9000"),
        "sagemaker.spot-max-wait",
        "spec.stoppingCondition.maxWaitTimeInSeconds",
        "maxWaitTimeInSeconds:",
    ),
    (
        "long-value.yaml",
        ('eta: "0.2"', 'eta: "' + "1" * 2600 + '"'),
        "sagemaker.length",
        "spec.hyperParameters[eta]",
        "eta:",
    ),
    (
        "numeric.yaml",
        ('max_depth: "5"', "max_depth: 5"),
        "crd.not-string",
        "spec.hyperParameters[max_depth]",
        "max_depth:",
    ),
    (
        "many-hyperparameters.yaml",
        ('eta: "0.2"', "\n    ".join(f'p{i}: "1"' for i in range(98))),
        "sagemaker.map-size",
        "spec.hyperParameters",
        "hyperParameters:",
    ),
    (
        "six-groups.yaml",
        (
            "securityGroupIDs: [sg-0a1b2c3d4e5f60718]",
            "securityGroupIDs: [sg-1, sg-2, sg-3, sg-4, sg-5, sg-6]",
        ),
        "sagemaker.list-size",
        "spec.vpcConfig.securityGroupIDs",
        "securityGroupIDs:",
    ),
    (
        "kms-typo.yaml",
        (
            "    kmsKeyID: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\n  resourceConfig",
            "    kmsKeyId: alias/team-a\n  resourceConfig",
        ),
        "crd.unknown-field",
        "spec.outputDataConfig.kmsKeyId",
        "kmsKeyId:",
    ),
]


def test_each_acceptance_mistake_is_denied_at_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    texts = {}
    for name, (old, new), *_ in MISTAKES:
        assert VALID.count(old) == 1, old
        texts[name] = VALID.replace(old, new)
        write(tmp_path, name, texts[name])
    code, report = run_json(capsys, str(tmp_path), "--no-policy")
    assert code == 1
    assert report["summary"]["trainingJobs"] == len(MISTAKES)
    assert report["summary"]["denied"] == len(MISTAKES)
    found = violations(report)
    for name, _, rule, path, key in MISTAKES:
        line = next(i for i, text in enumerate(texts[name].splitlines(), 1) if key in text)
        assert [(r, p, n) for f, r, p, n in found if f == name] == [(rule, path, line)], name
    values = json.dumps(report)
    assert "1" * 100 not in values  # the long hyperparameter value is never echoed


def test_broken_document_does_not_stop_the_others(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    invalid = VALID.replace("instanceType: ml.m5.xlarge", "instanceType: ml.m5.xlarg")
    configmap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    text = VALID + "---\nkind: [unclosed\n---\n" + invalid + "---\n" + configmap
    write(tmp_path, "stream.yaml", text)
    code, report = run_json(capsys, str(tmp_path / "stream.yaml"))
    assert code == 2  # a syntax error wins over a denial
    broken_line = text.splitlines().index("kind: [unclosed") + 1
    [error] = report["errors"]
    assert error["file"].endswith("stream.yaml")
    assert error["line"] in (broken_line, broken_line + 1)
    assert error["message"].startswith("YAML syntax error")
    assert [r["allowed"] for r in report["results"]] == [True, False]
    assert report["summary"] == {
        "documents": 3,
        "trainingJobs": 2,
        "skipped": 1,
        "denied": 1,
        "warned": 0,
        "errors": 1,
    }
    instance_line = [
        i for i, t in enumerate(text.splitlines(), 1) if "ml.m5.xlarg" in t and "xlarge" not in t
    ]
    assert violations(report) == [
        (
            "stream.yaml",
            "sagemaker.instance-type",
            "spec.resourceConfig.instanceType",
            instance_line[0],
        )
    ]


def test_list_kind_is_expanded_with_item_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    job = yaml.safe_load(VALID)
    bad = yaml.safe_load(VALID)
    bad["spec"]["trainingJobName"] = "x_y"
    listing = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [job, bad, {"apiVersion": "v1", "kind": "Secret"}],
    }
    text = yaml.safe_dump(listing, sort_keys=False)
    write(tmp_path, "list.yaml", text)
    code, report = run_json(capsys, str(tmp_path))
    assert code == 1
    assert report["summary"]["trainingJobs"] == 2
    assert report["summary"]["skipped"] == 1
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "trainingJobName: x_y" in t)
    assert violations(report) == [("list.yaml", "sagemaker.pattern", "spec.trainingJobName", line)]


def test_stdin_and_json_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    job = yaml.safe_load(VALID)
    job["spec"]["roleARN"] = "team-a-sagemaker-execution-role"
    text = json.dumps(job, indent=2)
    code, out = run(capsys, "-", stdin=text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if '"roleARN"' in t)
    assert code == 1
    assert out.startswith(f"-:{line}:")
    assert "deny sagemaker.pattern spec.roleARN:" in out
    write(tmp_path, "job.json", text)
    code, report = run_json(capsys, str(tmp_path / "job.json"))
    assert violations(report) == [("job.json", "sagemaker.pattern", "spec.roleARN", line)]


def test_json_with_tab_indentation_still_checked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    job = yaml.safe_load(VALID)
    job["spec"]["trainingJobName"] = "a_b"
    write(tmp_path, "tabs.json", json.dumps(job, indent="\t"))
    code, report = run_json(capsys, str(tmp_path / "tabs.json"))
    assert code == 1
    assert [(r, p) for _, r, p, _ in violations(report)] == [
        ("sagemaker.pattern", "spec.trainingJobName")
    ]


def test_directory_walk_and_unreadable_inputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path, "a/job.yml", VALID)
    write(tmp_path, "a/b/job.yaml", VALID)
    write(tmp_path, "a/notes.txt", "trainingJobName: x_y")
    write(tmp_path, "a/.hidden/job.yaml", VALID.replace("churn-xgboost-2026-11-27", "x_y"))
    (tmp_path / "a" / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    code, report = run_json(capsys, str(tmp_path / "a"), str(tmp_path / "missing.yaml"))
    assert code == 2
    assert report["summary"]["trainingJobs"] == 2
    assert report["summary"]["denied"] == 0
    assert sorted((Path(e["file"]).name, e["message"].split(":")[0]) for e in report["errors"]) == [
        ("latin1.yaml", "not UTF-8 text"),
        ("missing.yaml", "no such file or directory"),
    ]


def test_yaml_is_read_as_kubectl_reads_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # An unquoted date stays a string (kubectl does not build timestamps);
    # `yes` is a YAML 1.1 boolean, so it is not a string hyperparameter.
    text = VALID.replace('eta: "0.2"', "eta: 2026-11-27\n    early_stopping: yes")
    write(tmp_path, "job.yaml", text)
    code, report = run_json(capsys, str(tmp_path), "--no-policy")
    assert code == 1
    found = [
        (p, m)
        for r in report["results"]
        for v in r["violations"]
        for p, m in [(v["path"], v["message"])]
    ]
    assert found == [
        (
            "spec.hyperParameters[early_stopping]",
            'values of hyperParameters must be strings and this one is a boolean: quote it: "true"',
        )
    ]


def test_rule_action_downgrades_to_warning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path, "job.yaml", VALID.replace("ml.m5.xlarge", "ml.p7e.96xlarge"))
    code, out = run(capsys, str(tmp_path), "--rule-action", "sagemaker.instance-type=warn")
    assert code == 0
    assert "warn sagemaker.instance-type spec.resourceConfig.instanceType" in out
    assert out.endswith("1 TrainingJob checked: 1 warned\n")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ([], "validate needs at least one PATH (or --examples)"),
        (
            ["x.yaml", "--rule-action", "sagemaker.instance_type=warn"],
            "unknown rule 'sagemaker.instance_type'; did you mean \"sagemaker.instance-type\"?",
        ),
        (
            ["x.yaml", "--rule-action", "sagemaker.enum=block"],
            "action must be one of deny, warn, audit, not 'block'",
        ),
        (["x.yaml", "-o", "xml"], "invalid choice: 'xml'"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], error: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", *args])
    assert exit_info.value.code == 2
    assert error in capsys.readouterr().err


@pytest.mark.slow
def test_console_script_on_the_bundled_examples() -> None:
    """The installed entry point, in a new process, as CI calls it."""
    script = Path(sys.executable).parent / "trainingjob-guard"
    result = subprocess.run(
        [str(script), "validate", "--examples", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    outcome = {Path(r["file"]).name: r["allowed"] for r in report["results"]}
    assert outcome == {"training-job.yaml": True, "training-job-invalid.yaml": False}
    assert {v["rule"] for r in report["results"] for v in r["violations"]} == {
        "sagemaker.pattern",
        "sagemaker.enum",
        "crd.unknown-field",
        "sagemaker.instance-type",
        "sagemaker.spot-max-wait",
        "baseline/no-secrets",
    }
    # The baseline's defaults quoted the numeric hyperparameter instead of denying it.
    [invalid] = [r for r in report["results"] if not r["allowed"]]
    assert invalid["patch"] == [
        {"op": "replace", "path": "/spec/hyperParameters/max_depth", "value": "5"}
    ]
    assert result.stderr == ""


def test_defaults_are_applied_before_checking_as_the_api_server_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path, "job.yaml", VALID.replace('max_depth: "5"', "max_depth: 5"))
    code, out = run(capsys, str(tmp_path), "--show-patch")
    assert code == 0
    assert out == (
        f"{tmp_path}/job.yaml:3: patch: "
        '[{"op":"replace","path":"/spec/hyperParameters/max_depth","value":"5"}]\n'
        "\n1 TrainingJob checked\n"
    )
    code, out = run(capsys, str(tmp_path), "--no-mutate")
    assert code == 1
    assert "deny crd.not-string spec.hyperParameters[max_depth]" in out


def test_policy_flags_and_request_context(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = write(
        tmp_path,
        "policy/tenancy.yaml",
        """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: tenancy}
id: tenancy
match:
  namespaceSelector: {matchLabels: {tier: prod}}
exemptions:
  groups: [platform-admins]
rules:
  - id: buckets
    kind: tenancy
    s3: ["s3://ml-{namespace}/"]
""",
    )
    write(tmp_path, "jobs/job.yaml", VALID)
    jobs = str(tmp_path / "jobs")
    # In its own namespace (team-a, the manifest's): fine.
    code, _ = run(capsys, jobs, "--policy", str(policy), "--namespace-label", "tier=prod")
    assert code == 0
    # The same manifest checked for namespace team-b uses another team's bucket.
    code, report = run_json(
        capsys,
        jobs,
        "--policy",
        str(policy),
        "--namespace",
        "team-b",
        "--namespace-label",
        "tier=prod",
    )
    assert code == 1
    assert {v["rule"] for r in report["results"] for v in r["violations"]} == {"tenancy/buckets"}
    # Labels that do not match the selector: the policy does not apply.
    code, _ = run(
        capsys,
        jobs,
        "--policy",
        str(policy),
        "--namespace",
        "team-b",
        "--namespace-label",
        "tier=dev",
    )
    assert code == 0
    # Labels unknown: applied anyway, with a warning that says so.
    code, out = run(capsys, jobs, "--policy", str(policy), "--namespace", "team-b")
    assert code == 1
    assert "warn policy.namespace-labels-unknown" in out
    # An exempt group.
    code, _ = run(
        capsys,
        jobs,
        "--policy",
        str(policy),
        "--namespace",
        "team-b",
        "--namespace-label",
        "tier=prod",
        "--group",
        "platform-admins",
    )
    assert code == 0


def test_a_policy_that_does_not_load_stops_with_its_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = write(
        tmp_path,
        "bad.yaml",
        """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: bad}
id: bad
rules:
  - id: limits
    kind: resources
    maxInstances: 4
""",
    )
    code = main(["validate", str(EXAMPLES), "--policy", str(policy)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert (
        f'{policy}:8:5: rules[0].maxInstances: unknown field "maxInstances"; did you mean "maxInstanceCount"?'
        in captured.err
    )
