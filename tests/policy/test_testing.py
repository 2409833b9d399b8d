"""The policy test runner reads case files as `validate` reads manifests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT, write
from webhook.cli import main
from webhook.policy import testing

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
