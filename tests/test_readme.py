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
    assert "\nscripts/test\n" in ci  # then the image build and smoke test


def test_rule_table_lists_exactly_the_catalogue() -> None:
    section = README.split("\n## Rules\n", 1)[1].split("\n## ", 1)[0]
    table = re.findall(r"^\| `([a-z0-9.-]+)` \|", section, flags=re.MULTILINE)
    assert table == list(RULES)


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


def test_validate_example_prints_what_the_readme_shows(capsys: pytest.CaptureFixture[str]) -> None:
    from webhook.cli import main

    shown = _blocks("text")[1]
    assert "$ .venv/bin/trainingjob-guard validate --examples --show-patch" in README
    assert main(["validate", "--examples", "--show-patch"]) == 1
    assert capsys.readouterr().out == shown


@pytest.mark.slow
def test_run_command_serves_what_the_readme_shows(tmp_path: Path) -> None:
    """`scripts/run` from a checkout: installs, serves over TLS, prints how to call it;
    the printed CA verifies the server and the printed review is answered."""
    import json
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
        shown = _blocks("text")[0].splitlines()
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
