"""The manual in docs/ builds, its generated pages are current, and its examples are true."""

from __future__ import annotations

import json
import re
import shutil
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

DOCS = PROJECT / "docs"
GENERATOR = PROJECT / "scripts" / "generate_docs.py"


def blocks(page: str, language: str) -> list[str]:
    """The fenced blocks of *language* in docs/*page*, in order."""
    text = (DOCS / page).read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    options = ["--strict", "--config-file", str(config), "--site-dir", str(site)]
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", *options],
        capture_output=True,
        text=True,
        check=False,
    )


# --- the build ----------------------------------------------------------------------------------


def test_the_manual_builds_with_every_link_and_page_in_place(tmp_path: Path) -> None:
    result = mkdocs_build(PROJECT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr
    assert (tmp_path / "site" / "rules" / "index.html").is_file()
    assert (tmp_path / "site" / "rule-kinds" / "index.html").is_file()


#: What a careless edit does to a page, and what the build then says.
BREAKAGES = [
    ("cli.md", "[x](no-such-page.md)", "'no-such-page.md', but the target is not found"),
    ("cli.md", "[x](rules.md#no-such-rule)", "does not contain an anchor '#no-such-rule'"),
    ("cli.md", "[x](../README.md)", "'../README.md', but the target is not found"),
    ("new-page.md", "# A new page", 'not included in the "nav" configuration'),
]


def test_a_broken_link_or_a_page_left_out_of_the_navigation_fails_the_build(
    tmp_path: Path,
) -> None:
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(PROJECT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    for page, added, _ in BREAKAGES:
        with (tmp_path / "docs" / page).open("a", encoding="utf-8") as file:
            file.write(f"\n{added}\n")
    result = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 1
    assert f"Aborted with {len(BREAKAGES)} warnings in strict mode!" in result.stdout
    for _, _, complaint in BREAKAGES:
        assert complaint in result.stderr


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


# --- examples that the pages show ---------------------------------------------------------------


def test_cli_json_example_has_the_real_shape(capsys: pytest.CaptureFixture[str]) -> None:
    from webhook.cli import main

    [shown] = blocks("cli.md", "json")
    example = json.loads(shown)
    main(["validate", "--examples", "-o", "json"])
    real = json.loads(capsys.readouterr().out)
    assert set(example) == set(real)
    assert set(example["summary"]) == set(real["summary"])
    assert set(example["results"][0]) == set(real["results"][0])
    [denied] = [result for result in real["results"] if not result["allowed"]]
    assert set(example["results"][0]["violations"][0]) == set(denied["violations"][0])


def test_validate_example_prints_what_getting_started_shows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from webhook.cli import main

    [command] = blocks("getting-started.md", "console")[1:]
    assert command == "$ .venv/bin/trainingjob-guard validate --examples --show-patch\n"
    assert main(["validate", "--examples", "--show-patch"]) == 1
    assert capsys.readouterr().out == blocks("getting-started.md", "text")[1]


def test_getting_started_shows_the_readme_quick_start() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    quick_start = blocks("getting-started.md", "console")[0]
    assert f"```console\n{quick_start}```" in readme


@pytest.mark.slow
def test_run_command_serves_what_getting_started_shows(tmp_path: Path) -> None:
    """`scripts/run` from a checkout: installs, serves over TLS, prints how to call it;
    the printed CA verifies the server and the printed review is answered."""
    import signal
    import ssl
    import time

    import httpx

    process = subprocess.Popen(
        [str(PROJECT / "scripts" / "run"), "--port", "0", "--cert-dir", str(tmp_path / "certs")],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner: list[str] = []
        deadline = time.monotonic() + 300
        while len(banner) < 6 and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            banner.append(line.rstrip("\n"))
        shown = blocks("getting-started.md", "text")[0].splitlines()
        assert len(banner) == len(shown)
        match = re.fullmatch(
            r"trainingjob-guard is serving https://localhost:(\d+) \(policies: baseline\)",
            banner[0],
        )
        assert match, banner[0]
        port = match.group(1)
        ca = banner[1].split("CA bundle:", 1)[1].strip()
        assert ca == str(tmp_path / "certs" / "ca.crt")
        for mine, theirs in zip(banner[2:], shown[2:], strict=True):
            assert mine.split()[0] == theirs.split()[0]
        review = re.search(r"--data @(\S+) ", banner[5])
        assert review is not None
        with httpx.Client(verify=ssl.create_default_context(cafile=ca), timeout=10) as client:
            assert client.get(f"https://localhost:{port}/readyz").json()["status"] == "ok"
            answer = client.post(
                f"https://localhost:{port}/validate",
                content=Path(review.group(1)).read_bytes(),
                headers={"Content-Type": "application/json"},
            ).json()["response"]
        assert answer["allowed"] is False
        assert "spec.trainingJobName" in answer["status"]["message"]
        assert json.loads(Path(review.group(1)).read_text())["request"]["uid"] == answer["uid"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert process.stdout is not None
        process.stdout.close()
