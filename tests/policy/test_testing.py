"""The policy test runner reads case files as `validate` reads manifests."""

from __future__ import annotations

import shutil
from pathlib import Path

import junitparser
import pytest
import xmlschema
import yaml

from tests.conftest import PROJECT, write
from webhook import testing
from webhook.cli import main

BASELINE = PROJECT / "policies" / "baseline"
NUMERIC = (BASELINE / "tests" / "good-numeric-hyperparameters.yaml").read_text()
NUMERIC_PATCHED = (BASELINE / "tests" / "good-numeric-hyperparameters-patched.yaml").read_text()


def folder_with_case(tmp_path: Path, case: str, files: dict[str, str]) -> Path:
    """A copy of the baseline policy whose only case is *case*, with its *files*."""
    folder = tmp_path / "baseline"
    shutil.copy(BASELINE / "policy.yaml", write(folder, "policy.yaml", ""))
    write(folder, "tests/cases.yaml", f"cases:\n{case}")
    for name, text in files.items():
        write(folder, f"tests/{name}", text)
    return folder


PATCHED_CASE = "  - {name: numeric, object: job.yaml, expect: allow, patched: job-patched.yaml}\n"


def test_exponent_without_a_dot_is_a_number_in_test_as_in_mutate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """kubectl sends ``eta: 3e-4`` as the number 0.0003, which the baseline quotes."""
    job = NUMERIC.replace("eta: 0.2", "eta: 3e-4")
    patched = NUMERIC_PATCHED.replace('eta: "0.2"', 'eta: "0.0003"')
    folder = folder_with_case(
        tmp_path, PATCHED_CASE, {"job.yaml": job, "job-patched.yaml": patched}
    )
    results = testing.run([folder])
    assert [(case.name, case.problems) for case in results.cases] == [("numeric", [])]
    assert main(["mutate", str(folder / "tests" / "job.yaml")]) == 0
    mutated = yaml.safe_load(capsys.readouterr().out)
    assert mutated["spec"]["hyperParameters"]["eta"] == "0.0003"


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        (
            {"job.yaml": NUMERIC.replace("    eta: 0.2\n", "    eta: 0.2\n    eta: 0.3\n")},
            'job.yaml:15:5: duplicate key "eta": first at line 14, again at line 15',
        ),
        ({"job.yaml": NUMERIC + "  x: [\n"}, "job.yaml:24:1: YAML syntax error"),
        ({"job.yaml": NUMERIC + "---\n" + NUMERIC}, "job.yaml: holds 2 documents, not one"),
        ({"job.yaml": ""}, "job.yaml: holds 0 documents, not one"),
        ({"job.yaml": "- a\n"}, "job.yaml: holds list data, not an object"),
        ({}, "job.yaml: cannot read: No such file or directory"),
        (
            {"job.yaml": NUMERIC, "job-patched.yaml": "spec: {a: .inf}\n"},
            "job-patched.yaml:1:11: .inf is infinity, which JSON cannot carry",
        ),
    ],
    ids=["duplicate key", "syntax", "two documents", "empty", "list", "missing", "infinity"],
)
def test_unreadable_case_file_fails_its_case_with_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], problem: str
) -> None:
    folder = folder_with_case(tmp_path, PATCHED_CASE, files)
    assert main(["test", str(folder)]) == 1
    out = capsys.readouterr().out
    assert (
        f"FAIL {folder}: numeric\n    cannot read a case file: {folder / 'tests'}/{problem}" in out
    )
    assert "Traceback" not in out


@pytest.mark.parametrize(
    ("cases", "problem"),
    [
        (
            "  - {name: a, object: a.yaml, expect: allow}\n  - {name: a, name: b}\n",
            'cases.yaml:3:15: duplicate key "name": first at line 3, again at line 3',
        ),
        ("  - {name: a\n", "cases.yaml:3:1: YAML syntax error"),
    ],
)
def test_unreadable_cases_file_fails_its_folder_with_its_place(
    tmp_path: Path, cases: str, problem: str
) -> None:
    folder = folder_with_case(tmp_path, cases, {})
    [result] = testing.run([folder]).cases
    [message] = result.problems
    assert message.startswith(f"{folder / 'tests'}/{problem}")


# --- mistakes in cases.yaml ------------------------------------------------------------------

GOOD_CASE = "  - name: a good job\n    object: job.yaml\n    expect: allow\n"


def run_cases(tmp_path: Path, cases: str, capsys: pytest.CaptureFixture[str]) -> str:
    folder = folder_with_case(tmp_path, cases, {"job.yaml": NUMERIC})
    assert main(["test", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "validation error" not in out  # not pydantic's own dump
    assert "errors.pydantic.dev" not in out
    return out.replace(str(folder), "FOLDER")


@pytest.mark.parametrize(
    ("bad_case", "name", "problem"),
    [
        (
            "  - name: typo\n    object: job.yaml\n    expct: deny\n",
            "typo",
            "FOLDER/tests/cases.yaml:5:5: cases[1].expect: required field is missing\n    "
            'FOLDER/tests/cases.yaml:7:5: cases[1].expct: unknown field "expct"; '
            'did you mean "expect"?',
        ),
        (
            "  - name: wrong value\n    object: job.yaml\n    expect: maybe\n",
            "wrong value",
            "FOLDER/tests/cases.yaml:7:13: cases[1].expect: must be 'allow', 'warn' or 'deny'",
        ),
        (
            "  - name: wrong type\n    object: job.yaml\n    expect: deny\n    rules: tenancy/roles\n",
            "wrong type",
            "FOLDER/tests/cases.yaml:8:12: cases[1].rules: must be a valid list",
        ),
        (
            "  - name: nested typo\n    object: job.yaml\n    expect: allow\n"
            "    userInfo: {username: alice, group: [ml]}\n",
            "nested typo",
            'FOLDER/tests/cases.yaml:8:33: cases[1].userInfo.group: unknown field "group"; '
            'did you mean "groups"?',
        ),
        (
            "  - object: job.yaml\n    expect: allow\n",
            "cases[1]",
            "FOLDER/tests/cases.yaml:5:5: cases[1].name: required field is missing",
        ),
    ],
    ids=["typo", "wrong value", "wrong type", "nested typo", "missing name"],
)
def test_a_mistake_in_a_case_is_reported_at_its_place_and_the_other_cases_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_case: str, name: str, problem: str
) -> None:
    out = run_cases(tmp_path, GOOD_CASE + bad_case, capsys)
    assert out == (
        f"PASS FOLDER: a good job\nFAIL FOLDER: {name}\n    {problem}\n\n1 passed, 1 failed\n"
    )


def test_a_mistake_outside_the_cases_fails_the_folder_and_the_cases_still_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = folder_with_case(tmp_path, GOOD_CASE, {"job.yaml": NUMERIC})
    write(folder, "tests/cases.yaml", "case_names: true\ncases:\n" + GOOD_CASE)
    assert main(["test", str(folder)]) == 1
    out = capsys.readouterr().out.replace(str(folder), "FOLDER")
    assert out == (
        "FAIL FOLDER\n"
        '    FOLDER/tests/cases.yaml:1:1: case_names: unknown field "case_names"; '
        'did you mean "cases"?\n'
        "PASS FOLDER: a good job\n"
        "\n"
        "1 passed, 1 failed\n"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "case:\n" + GOOD_CASE,
            'cases.yaml:1:1: case: unknown field "case"; did you mean "cases"?',
        ),
        ("cases: []\n", "cases.yaml:1:8: cases: empty: every policy needs test cases"),
        ("- name: a\n", "cases.yaml:1:1: must be a mapping with a list of cases"),
        ("cases: {name: a}\n", "cases.yaml:1:8: cases: must be a valid list"),
    ],
    ids=["misspelt cases", "no cases", "a list", "cases a mapping"],
)
def test_a_cases_file_without_cases_fails_its_folder_with_its_place(
    tmp_path: Path, text: str, problem: str
) -> None:
    folder = folder_with_case(tmp_path, GOOD_CASE, {"job.yaml": NUMERIC})
    write(folder, "tests/cases.yaml", text)
    results = testing.run([folder])
    assert not results.passed
    problems = [problem for case in results.cases for problem in case.problems]
    assert f"{folder / 'tests'}/{problem}" in problems


def test_a_bad_folder_fails_and_the_other_folders_still_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = folder_with_case(tmp_path / "bad", GOOD_CASE + "  - {name: x, objet: job.yaml}\n", {})
    write(bad, "tests/job.yaml", NUMERIC)
    good = shutil.copytree(PROJECT / "policies" / "tenancy", tmp_path / "good" / "tenancy")
    assert main(["test", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"PASS {bad}: a good job\n" in out
    assert (
        f"FAIL {bad}: x\n    {bad}/tests/cases.yaml:5:5: cases[1].object: required field is "
        "missing\n" in out
    )
    assert (
        f'    {bad}/tests/cases.yaml:5:15: cases[1].objet: unknown field "objet"; '
        'did you mean "object"?\n' in out
    )
    tenancy_cases = len(yaml.safe_load((good / "tests" / "cases.yaml").read_text())["cases"])
    assert out.count(f"PASS {good}: ") == tenancy_cases
    assert out.endswith(f"\n{tenancy_cases + 1} passed, 1 failed\n")


# --- choosing cases ----------------------------------------------------------------------------

TENANCY = PROJECT / "policies" / "tenancy"


def test_k_runs_only_the_cases_whose_name_contains_the_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["test", str(TENANCY), "-k", "ANOTHER TEAM'S ROLE"]) == 0
    out = capsys.readouterr().out
    total = len(yaml.safe_load((TENANCY / "tests" / "cases.yaml").read_text())["cases"])
    assert out == (
        f"PASS {TENANCY}: another team's role is denied\n\n1 passed, 0 failed, {total - 1} deselected\n"
    )


def test_k_that_matches_no_case_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(TENANCY), "--case", "no such case"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"FAIL {TENANCY}\n    no case name contains 'no such case'\n")


def test_k_still_reports_a_policy_that_does_not_load(tmp_path: Path) -> None:
    folder = folder_with_case(tmp_path, GOOD_CASE, {"job.yaml": NUMERIC})
    policy = (folder / "policy.yaml").read_text()
    (folder / "policy.yaml").write_text(policy.replace("kind: secrets", "kind: secret"))
    results = testing.run([folder], select="good")
    [failed] = results.cases
    assert failed.name == ""
    assert failed.problems[0].startswith(f"policy does not load: {folder}/policy.yaml:")


# --- output formats ----------------------------------------------------------------------------

JUNIT_XSD = PROJECT / "tests" / "cli" / "data" / "junit-10.xsd"


def failing_folder(tmp_path: Path) -> Path:
    """The tenancy policy with one case that expects the wrong outcome, one that cannot run."""
    folder = shutil.copytree(TENANCY, tmp_path / "tenancy")
    cases = folder / "tests" / "cases.yaml"
    text = cases.read_text()
    cases.write_text(
        text
        + "  - name: wrongly expected\n    object: bad-other-role.yaml\n    expect: allow\n"
        + "  - name: missing file\n    object: nowhere.yaml\n    expect: allow\n"
    )
    return folder


def test_junit_output_is_valid_against_junit_10_xsd(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = failing_folder(tmp_path)
    assert main(["test", "-o", "junit", str(folder)]) == 1
    output = capsys.readouterr().out
    assert [e.reason for e in xmlschema.XMLSchema(str(JUNIT_XSD)).iter_errors(output)] == []
    xml = junitparser.JUnitXml.fromstring(output.encode())
    [suite] = list(xml)
    total = len(yaml.safe_load((folder / "tests" / "cases.yaml").read_text())["cases"])
    assert (suite.name, suite.tests, suite.failures, suite.errors) == (str(folder), total, 1, 1)
    cases = {case.name: case for case in suite}
    [failure] = cases["wrongly expected"].result
    assert isinstance(failure, junitparser.Failure)
    assert failure.type == "mismatch"
    assert failure.message == "expected allow, got deny; 2 findings"
    [error] = cases["missing file"].result
    assert isinstance(error, junitparser.Error)
    assert error.type == "cannot-run"
    assert "nowhere.yaml: cannot read" in error.text
    assert cases["another team's role is denied"].is_passed
    assert all(float(case.time) >= 0 for case in suite)


def test_github_output_annotates_each_failed_case_in_cases_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = failing_folder(tmp_path)
    cases_file = folder / "tests" / "cases.yaml"
    line = cases_file.read_text().splitlines().index("  - name: wrongly expected") + 1
    assert main(["test", "-o", "github", str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    errors = [entry for entry in lines if entry.startswith("::error")]
    assert len(errors) == 2
    assert errors[0].startswith(
        f"::error file={cases_file},line={line},col=5,title={folder}%3A wrongly expected::"
        "expected allow, got deny; 2 findings:%0A      deny tenancy/roles spec.roleARN: "
    )
    assert errors[1].startswith(f"::error file={cases_file},line={line + 3},col=5,")
    assert lines[-1].endswith(" passed, 2 failed")


def test_github_output_points_at_a_mistake_in_cases_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = "  - {name: x, object: job.yaml, expect: allow, rulez: []}\n"
    folder = folder_with_case(tmp_path, GOOD_CASE + case, {})
    write(folder, "tests/job.yaml", NUMERIC)
    assert main(["test", "-o", "github", str(folder)]) == 1
    [annotation] = [
        entry for entry in capsys.readouterr().out.splitlines() if entry.startswith("::")
    ]
    assert annotation.startswith(
        f"::error file={folder}/tests/cases.yaml,line=5,col=48,title={folder}%3A x::"
    )
    assert annotation.endswith('cases[1].rulez: unknown field "rulez"; did you mean "rules"?')
