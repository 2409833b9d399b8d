"""The README is a short front door: its two commands work and its links lead somewhere.

Everything else it used to show lives in docs/, where tests/test_docs.py checks it.
"""

from __future__ import annotations

import os
import re

from tests.conftest import PROJECT

README = (PROJECT / "README.md").read_text(encoding="utf-8")
LONGEST = 200


def test_quick_start_has_the_two_commands_and_they_exist() -> None:
    quick_start = re.findall(r"```console\n(.*?)```", README, flags=re.DOTALL)[0]
    commands = [line.split("#")[0].removeprefix("$ ").strip() for line in quick_start.splitlines()]
    assert commands == ["scripts/run", "scripts/test"]
    for command in commands:
        assert os.access(PROJECT / command, os.X_OK), command
    ci = (PROJECT / ".ci" / "run").read_text(encoding="utf-8")
    assert "\nscripts/test\n" in ci  # then the image build and smoke test


def test_readme_is_short() -> None:
    lines = len(README.splitlines())
    assert lines <= LONGEST, f"README.md has {lines} lines; move the detail to a page of docs/"


def test_readme_links_lead_to_files_of_the_repository() -> None:
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [target for target in targets if "://" not in target]
    assert "docs/index.md" in local
    assert [target for target in local if not (PROJECT / target).exists()] == []
