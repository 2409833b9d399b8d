"""`trainingjob-guard completion SHELL`: scripts that complete what the parser accepts."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT, write
from webhook.cli import build_parser, main
from webhook.cli.completion import DIRECTORY_ARGUMENTS, FILE_ARGUMENTS, SHELLS, script, walk

CI_DOC = (PROJECT / "docs" / "ci.md").read_text(encoding="utf-8")


def generated(capsys: pytest.CaptureFixture[str], shell: str) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def subcommands(parser: argparse.ArgumentParser) -> list[str]:
    return [
        name
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    ]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a manifest, a policy and a folder of certificates."""
    write(tmp_path, "job.yaml", "")
    write(tmp_path, "policy.yaml", "")
    (tmp_path / "certs").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def bash_complete(script_text: str, folder: Path, line: str) -> list[str]:
    """What Tab offers after *line* in bash with the script loaded."""
    words = line.split(" ")
    driver = f"""{script_text}
COMP_WORDS=({" ".join(f"'{w}'" for w in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE='{line}'
COMP_POINT=${{#COMP_LINE}}
_shtab_trainingjob_guard
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    done = subprocess.run(
        ["bash", "--norc", "--noprofile"],
        input=driver,
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(filter(None, done.stdout.splitlines()))


@pytest.mark.parametrize("shell", SHELLS)
def test_every_shell_gets_a_script_naming_every_subcommand(
    capsys: pytest.CaptureFixture[str], shell: str
) -> None:
    text = generated(capsys, shell)
    for name in [*subcommands(build_parser()), "schema", "lint", "--no-baseline", "--cert-dir"]:
        assert re.search(rf"\b{re.escape(name.lstrip('-'))}\b", text), (shell, name)


def test_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["completion", "powershell"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'powershell'" in capsys.readouterr().err


def test_every_named_path_argument_exists_and_every_path_argument_is_named() -> None:
    """A renamed option would silently lose its file completion."""
    parser = build_parser()
    names: set[str] = set()
    for action in walk(parser):
        names.update(action.option_strings)
        if isinstance(action.metavar, str):
            names.add(action.metavar)
    assert names >= FILE_ARGUMENTS | DIRECTORY_ARGUMENTS
    script(parser, "bash")  # marks the path arguments of the parser it is given
    path_like = [
        action
        for action in walk(parser)
        if action.type is Path or action.dest in {"paths", "policy", "kubeconfig"}
    ]
    assert len(path_like) > 10
    for action in path_like:
        assert hasattr(action, "complete"), action.option_strings or action.metavar


def test_bash_script_is_valid_bash(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    file = write(tmp_path, "trainingjob-guard", generated(capsys, "bash"))
    subprocess.run(["bash", "-n", str(file)], check=True)


@pytest.mark.parametrize(
    ("line", "offered"),
    [
        ("trainingjob-guard va", ["validate"]),
        ("trainingjob-guard ", sorted(subcommands(build_parser()))),
        ("trainingjob-guard validate --no-b", ["--no-baseline"]),
        ("trainingjob-guard validate -o ", ["github", "json", "junit", "sarif", "text"]),
        ("trainingjob-guard validate ", ["certs", "job.yaml", "policy.yaml"]),
        ("trainingjob-guard validate --policy ", ["certs", "job.yaml", "policy.yaml"]),
        ("trainingjob-guard serve --cert-dir ", ["certs"]),
        ("trainingjob-guard test ", ["certs"]),
        ("trainingjob-guard policy ", ["crd", "lint", "schema"]),
        ("trainingjob-guard completion ", sorted(SHELLS)),
    ],
)
def test_bash_offers(
    capsys: pytest.CaptureFixture[str], folder: Path, line: str, offered: list[str]
) -> None:
    assert bash_complete(generated(capsys, "bash"), folder, line) == offered


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_script_is_valid_and_compinit_picks_it_up(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = generated(capsys, "zsh")
    assert text.startswith("#compdef trainingjob-guard\n")
    file = write(tmp_path / "zfunc", "_trainingjob-guard", text)
    subprocess.run(["zsh", "-n", str(file)], check=True)
    # As docs/ci.md installs it: the folder on fpath, then compinit.
    setup = (
        f"fpath=({file.parent} $fpath); autoload -Uz compinit && "
        f"compinit -u -d {tmp_path / 'zcompdump'}; print -r -- $_comps[trainingjob-guard]"
    )
    done = subprocess.run(
        ["zsh", "-f", "-c", setup],
        env=os.environ | {"HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == "_trainingjob-guard\n"


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
@pytest.mark.parametrize(
    ("line", "offered"),
    [
        ("trainingjob-guard va", ["validate"]),
        ("trainingjob-guard serve --cert-dir ", ["certs/"]),
        ("trainingjob-guard validate -o ", ["github", "json", "junit", "sarif", "text"]),
        ("trainingjob-guard validate ", ["certs/", "job.yaml", "policy.yaml"]),
    ],
)
def test_fish_offers(
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
    folder: Path,
    line: str,
    offered: list[str],
) -> None:
    scripts = tmp_path_factory.mktemp("completions")
    file = write(scripts, "trainingjob-guard.fish", generated(capsys, "fish"))
    done = subprocess.run(
        ["fish", "--no-config", "-c", f"source {file}; complete -C '{line}'"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    # Each candidate is followed by a tab and its description.
    assert sorted(row.split("\t")[0] for row in done.stdout.splitlines()) == offered


def test_subcommand_menus_show_the_one_line_help(capsys: pytest.CaptureFixture[str]) -> None:
    text = generated(capsys, "zsh")
    assert "validate:'check TrainingJob manifests (files, directories, - for stdin)'" in text
    assert "Apply the policies' defaults" not in text


@pytest.mark.parametrize("shell", SHELLS)
def test_docs_say_how_to_install_each_shell(shell: str) -> None:
    section = CI_DOC.split("## Shell completion", 1)[1]
    assert f"trainingjob-guard completion {shell}" in section
