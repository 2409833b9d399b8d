#!/usr/bin/env python3
"""Regenerate, or check, the lock files the container image installs from.

The Dockerfile installs every Python package by hash: the webhook's runtime
dependencies from ``requirements/image.lock`` (pyproject.toml's
``[project] dependencies``) and the build backend that turns the project into
a wheel from ``requirements/image-build.lock`` (``[build-system] requires``).
Both are compiled by uv for every platform at once (``--universal``: the same
file serves amd64 and arm64 builds) for the image's Python version.
Regenerating keeps the current pins where they still fit; ``--upgrade`` moves
every pin to the newest release the constraints allow.

``--check`` needs neither uv nor the network: it reads the lock files against
pyproject.toml (every declared dependency pinned at a version its specifier
allows, every pin needed by a declared one, every pin hashed) and exits 1 when
one is stale. tests/test_image.py runs the same check.

Usage:
    python scripts/lock_image.py              # rewrite both lock files
    python scripts/lock_image.py --upgrade    # ... with the newest allowed versions
    python scripts/lock_image.py --check      # exit 1 if a lock file is stale
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PROJECT = Path(__file__).resolve().parent.parent
PYPROJECT = PROJECT / "pyproject.toml"
RUNTIME_LOCK = PROJECT / "requirements" / "image.lock"
BUILD_LOCK = PROJECT / "requirements" / "image-build.lock"

# The image's Python: the Dockerfile's default base (python:3.11-slim) and Debian
# bookworm's python3 (the stand-in base scripts/build_image makes) are both 3.11,
# the oldest version requires-python allows.
PYTHON_VERSION = "3.11"
# A fixed uv, so that a regenerated file differs from the last only where a pin does.
UV_VERSION = "0.13.9"
UV_HOME = PROJECT / ".cache" / f"uv-{UV_VERSION}"
COMMAND = "scripts/lock_image.py"
"""What the lock files' header names as the command that regenerates them."""

_PIN = re.compile(r"^(?P<requirement>[A-Za-z0-9][^\\]*?)\s*\\?$")
_VIA = re.compile(r"^\s+#\s+via(?:\s+(?P<first>\S.*))?$")
_VIA_MORE = re.compile(r"^\s+#\s{3}(?P<name>\S.*)$")
_HASH = re.compile(r"^\s+--hash=sha256:[0-9a-f]{64}\s*\\?$")


@dataclass
class Pin:
    """One ``name==version`` of a lock file, with its hashes and what needs it."""

    name: str
    version: str
    line: int
    hashes: int = 0
    via: list[str] = field(default_factory=list)


def parse_lock(text: str) -> list[Pin]:
    """Read a lock file as uv writes it (requirement, ``--hash`` lines, ``# via`` lines)."""
    pins: list[Pin] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if pins and _HASH.match(line):
            pins[-1].hashes += 1
        elif pins and (via := _VIA.match(line)):
            if via["first"]:
                pins[-1].via.append(via["first"].strip())
        elif pins and (more := _VIA_MORE.match(line)):
            pins[-1].via.append(more["name"].strip())
        elif pin := _PIN.match(line):
            pins.append(_pin(pin["requirement"], number))
        else:
            raise ValueError(f"line {number}: not a pin, a hash or a '# via' line: {line!r}")
    return pins


def _pin(text: str, line: int) -> Pin:
    try:
        requirement = Requirement(text)
    except InvalidRequirement as error:
        raise ValueError(f"line {line}: {error}") from error
    specifiers = list(requirement.specifier)
    if len(specifiers) != 1 or specifiers[0].operator != "==":
        raise ValueError(f"line {line}: {text!r} is not pinned with ==")
    return Pin(canonicalize_name(requirement.name), specifiers[0].version, line)


def lock_problems(text: str, declared: Sequence[str], project: str) -> list[str]:
    """What makes a lock file stale against the requirements it was compiled from.

    *declared* are the requirement strings of pyproject.toml; *project* is the
    name uv gives them as their origin (``NAME (pyproject.toml)``). A pin is a
    root when it has no ``via`` (requirements read from standard input) or
    names *project* among them; every other pin must be reachable from a root.
    """
    try:
        pins = parse_lock(text)
    except ValueError as error:
        return [f"unreadable: {error}"]
    by_name = {pin.name: pin for pin in pins}
    origin = f"{project} (pyproject.toml)"
    problems: list[str] = []
    wanted = {canonicalize_name(Requirement(text).name): Requirement(text) for text in declared}
    for name, requirement in wanted.items():
        pin = by_name.get(name)
        if pin is None:
            problems.append(f"{requirement}: declared in pyproject.toml, not pinned")
        elif not _allows(requirement, pin.version):
            problems.append(f"{name}=={pin.version}: pyproject.toml asks for {requirement}")
    roots = [pin for pin in pins if not pin.via or origin in pin.via]
    for pin in roots:
        if pin.name not in wanted:
            problems.append(f"{pin.name}=={pin.version}: pinned as declared, not in pyproject.toml")
    for pin in pins:
        for source in pin.via:
            if source != origin and canonicalize_name(source) not in by_name:
                problems.append(f"{pin.name}: pinned for {source}, which is not pinned")
        if pin.hashes == 0:
            problems.append(f"{pin.name}=={pin.version}: no hash")
    needed = _reachable({pin.name for pin in roots}, pins)
    problems.extend(
        f"{pin.name}=={pin.version}: pinned, but nothing declared needs it"
        for pin in pins
        if pin.name not in needed
    )
    return problems


def _allows(requirement: Requirement, version: str) -> bool:
    try:
        return requirement.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def _reachable(roots: Iterable[str], pins: Sequence[Pin]) -> set[str]:
    needs: dict[str, set[str]] = {}
    for pin in pins:
        for source in pin.via:
            needs.setdefault(canonicalize_name(source), set()).add(pin.name)
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(needs.get(name, ()))
    return seen


def pyproject() -> dict[str, object]:
    """pyproject.toml, parsed."""
    with PYPROJECT.open("rb") as file:
        return tomllib.load(file)


def runtime_requirements() -> list[str]:
    """The webhook's runtime dependencies: ``[project] dependencies``."""
    project = pyproject()["project"]
    assert isinstance(project, dict)
    return list(project["dependencies"])


def build_requirements() -> list[str]:
    """The build backend: ``[build-system] requires``."""
    build_system = pyproject()["build-system"]
    assert isinstance(build_system, dict)
    return list(build_system["requires"])


def project_name() -> str:
    """The project's name, as uv writes it in ``via`` lines."""
    project = pyproject()["project"]
    assert isinstance(project, dict)
    return str(project["name"])


def check() -> list[str]:
    """Every problem of both lock files, each prefixed with its file."""
    problems: list[str] = []
    for lock, declared in (
        (RUNTIME_LOCK, runtime_requirements()),
        (BUILD_LOCK, build_requirements()),
    ):
        name = lock.relative_to(PROJECT)
        if not lock.is_file():
            problems.append(f"{name}: missing")
            continue
        text = lock.read_text(encoding="utf-8")
        problems.extend(f"{name}: {p}" for p in lock_problems(text, declared, project_name()))
    return problems


def _uv() -> Path:
    """The pinned uv, installed into .cache on first use."""
    uv = UV_HOME / "bin" / "uv"
    if not uv.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(UV_HOME)], check=True)
        pip = [str(UV_HOME / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, f"uv=={UV_VERSION}"], check=True)
    return uv


def compile_locks(upgrade: bool) -> None:
    """Rewrite both lock files with uv."""
    common = [
        "pip",
        "compile",
        "--quiet",
        "--universal",
        f"--python-version={PYTHON_VERSION}",
        "--generate-hashes",
        f"--custom-compile-command={COMMAND}",
        *(["--upgrade"] if upgrade else []),
    ]
    uv = str(_uv())
    RUNTIME_LOCK.parent.mkdir(exist_ok=True)
    subprocess.run(
        [uv, *common, "pyproject.toml", "--output-file", str(RUNTIME_LOCK.relative_to(PROJECT))],
        cwd=PROJECT,
        check=True,
    )
    # uv reads [project] dependencies only; the build backend comes in on standard input.
    subprocess.run(
        [uv, *common, "-", "--output-file", str(BUILD_LOCK.relative_to(PROJECT))],
        cwd=PROJECT,
        input="\n".join(build_requirements()) + "\n",
        text=True,
        check=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="exit 1 if a lock file is stale")
    action.add_argument("--upgrade", action="store_true", help="newest allowed versions")
    args = parser.parse_args(argv)
    if not args.check:
        compile_locks(args.upgrade)
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"stale lock files: regenerate them with {COMMAND}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
