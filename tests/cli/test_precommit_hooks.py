"""The pre-commit hooks (.pre-commit-hooks.yaml), installed and run by pre-commit itself.

pre-commit clones the hook repository at a commit and pip-installs it into an
environment of its own, so the project is first committed as it is now (new
files included) into a repository of its own. Installing takes about half a
minute; the environment is shared by the tests of this module.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES, PROJECT, write

HOOKS: list[dict[str, object]] = yaml.safe_load(
    (PROJECT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
)
CI_DOC = (PROJECT / "docs" / "ci.md").read_text(encoding="utf-8")
PRE_COMMIT_SECTION = CI_DOC.split("## pre-commit", 1)[1].split("\n## ", 1)[0]
CONFIGS = re.findall(r"```yaml\n(.*?)```", PRE_COMMIT_SECTION, flags=re.DOTALL)
TRY_REPO = "TRAININGJOB_GUARD_TRY_REPO"

TEAM_POLICY = """apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata:
  name: team-tag
id: team-tag
version: "1.0.0"
description: a team tag on every job.
action: deny
rules:
  - id: tag
    kind: tags
    required:
      team: null
"""


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without git's variables (set when run from a git hook)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return env | extra


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The project committed as it is in the working tree; its path and commit."""
    try:
        listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=PROJECT)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("the project is not a git checkout")
    snapshot = tmp_path_factory.mktemp("hook-repo")
    for name in filter(None, listed.split("\0")):
        source = PROJECT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    git("init", "-q", cwd=snapshot)
    git("add", "-A", cwd=snapshot)
    git("commit", "-q", "-m", "snapshot", cwd=snapshot)
    return snapshot, git("rev-parse", "HEAD", cwd=snapshot).strip()


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def repository(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        write(folder, name, text)
    git("init", "-q", cwd=folder)
    git("add", "-A", cwd=folder)
    return folder


def pre_commit(home: Path, cwd: Path, *args: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=clean_env(PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never"),
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def config(text: str, hook_repo: tuple[Path, str]) -> str:
    """A configuration from docs/ci.md, pointed at the snapshot of the project."""
    path, commit = hook_repo
    loaded = yaml.safe_load(text)
    assert loaded["repos"][0]["repo"] == "https://github.com/trainingjob-guard/trainingjob-guard"
    loaded["repos"][0] |= {"repo": str(path), "rev": commit}
    return yaml.safe_dump(loaded)


GOOD = (EXAMPLES / "training-job.yaml").read_text(encoding="utf-8")
BAD = (EXAMPLES / "training-job-invalid.yaml").read_text(encoding="utf-8")
WORKFLOW = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: []\n"


def test_the_documented_hook_ids_are_the_hooks() -> None:
    assert [hook["id"] for hook in HOOKS] == ["trainingjob-guard", "trainingjob-guard-policy"]
    three_lines = yaml.safe_load(CONFIGS[0])["repos"][0]["hooks"]
    assert three_lines == [{"id": "trainingjob-guard"}]
    table = re.findall(r"^\| `([\w-]+)` \| ", PRE_COMMIT_SECTION, flags=re.MULTILINE)
    assert table == [hook["id"] for hook in HOOKS]
    validate, lint = (re.compile(str(hook["files"])) for hook in HOOKS)
    assert validate.search("jobs/train.yml")
    assert validate.search("jobs/train.json")
    assert lint.search("policies/team/policy.yaml")
    assert not lint.search("jobs/train.yaml")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("files", "expected_code", "expected"),
    [
        (["good.yaml"], 0, ["trainingjob-guard validate....", "Passed"]),
        # Workflow files and other YAML are skipped, not errors.
        ([".github/workflows/ci.yml", "good.yaml"], 0, ["Passed"]),
        (
            ["good.yaml", "bad.yaml"],
            1,
            [
                "Failed",
                "- exit code: 1",
                'bad.yaml:10:20: deny sagemaker.pattern spec.trainingJobName: "churn_xgboost_broken"',
                "2 TrainingJobs checked: 1 denied",
            ],
        ),
        (["notes.txt"], 0, ["(no files to check)Skipped"]),
    ],
)
def test_the_three_line_hook_passes_good_manifests_and_stops_bad_ones(
    tmp_path: Path,
    hook_repo: tuple[Path, str],
    pre_commit_home: Path,
    files: list[str],
    expected_code: int,
    expected: list[str],
) -> None:
    work = repository(
        tmp_path,
        {
            ".pre-commit-config.yaml": config(CONFIGS[0], hook_repo),
            "good.yaml": GOOD,
            "bad.yaml": BAD,
            ".github/workflows/ci.yml": WORKFLOW,
            "notes.txt": "not a manifest\n",
        },
    )
    code, output = pre_commit(pre_commit_home, work, "run", "--files", *files)
    assert code == expected_code, output
    for text in expected:
        assert text in output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "expected_code", "expected"),
    [
        ({}, 0, ["trainingjob-guard validate....", "trainingjob-guard policy lint....", "Passed"]),
        # The hook's args load the repository's policies.
        (
            {"jobs/untagged.yaml": GOOD.replace("    - key: team\n", "    - key: owner\n")},
            1,
            ["jobs/untagged.yaml:40:3: deny team-tag/tag spec.tags", 'tag "team" is required'],
        ),
        (
            {"policies/broken/policy.yaml": TEAM_POLICY.replace("kind: tags", "kind: tag")},
            2,
            ["trainingjob-guard policy lint", "policies/broken/policy.yaml:", "Failed"],
        ),
    ],
)
def test_the_adapted_configuration(
    tmp_path: Path,
    hook_repo: tuple[Path, str],
    pre_commit_home: Path,
    extra: dict[str, str],
    expected_code: int,
    expected: list[str],
) -> None:
    """docs/ci.md's configuration with args, exclude and the policy hook."""
    files = {
        ".pre-commit-config.yaml": config(CONFIGS[1], hook_repo),
        "jobs/good.yaml": GOOD,
        # Excluded: a Helm template is not YAML, a policy's own test case is denied.
        "charts/app/templates/job.yaml": "metadata:\n  name: {{ .Values.name }}\n",
        "policies/team/policy.yaml": TEAM_POLICY,
        "policies/team/tests/bad-untagged.yaml": BAD,
    }
    work = repository(tmp_path, files | extra)
    code, output = pre_commit(pre_commit_home, work, "run", "--all-files")
    # pre-commit exits 1 for any failed hook and prints the hook's own exit code.
    assert code == min(expected_code, 1), output
    for text in expected:
        assert text in output
    if expected_code:
        assert f"- exit code: {expected_code}" in output


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get(TRY_REPO) != "1",
    reason=f"pre-commit try-repo installs the project anew on each call (30 to 45 s each): "
    f"{TRY_REPO}=1 runs it",
)
@pytest.mark.parametrize(
    ("file", "expected_code", "expected"),
    [
        ("good.yaml", 0, "Passed"),
        ("bad.yaml", 1, "bad.yaml:10:20: deny sagemaker.pattern"),
    ],
)
def test_try_repo(
    tmp_path: Path,
    hook_repo: tuple[Path, str],
    file: str,
    expected_code: int,
    expected: str,
) -> None:
    work = repository(tmp_path, {"good.yaml": GOOD, "bad.yaml": BAD})
    home = tmp_path / "pre-commit-home"
    code, output = pre_commit(
        home, work, "try-repo", str(hook_repo[0]), "trainingjob-guard", "--files", file
    )
    assert code == expected_code, output
    assert expected in output
