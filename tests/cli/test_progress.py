"""Progress on long audits: drawn on a terminal's stderr, nothing anywhere else."""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES, PROJECT, write
from webhook.cli.progress import progress, tracked

TERMINAL_ENV = {"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}


def _terminal() -> tuple[int, int]:
    """A pseudo-terminal (controller, the side a program writes to), 120 columns wide."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    os.set_blocking(controller, False)
    return controller, terminal


def _drain(controller: int) -> str:
    chunks: list[bytes] = []
    with contextlib.suppress(BlockingIOError, OSError):
        while chunk := os.read(controller, 65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def _environment(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CI")
    }
    return env | extra


def test_a_terminal_shows_the_count_and_the_total(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in _environment(**TERMINAL_ENV).items():
        monkeypatch.setenv(key, value)
    for key in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CI"):
        monkeypatch.delenv(key, raising=False)
    controller, terminal = _terminal()
    drawn = ""
    try:
        with (
            os.fdopen(terminal, "w", closefd=False) as stream,
            progress("checking TrainingJobs", stream) as tracker,
        ):
            tracker.total(5)
            for _ in tracked(range(3), tracker):
                time.sleep(0.12)  # long enough for the display to refresh (10 times a second)
                drawn += _drain(controller)
        drawn += _drain(controller)
    finally:
        os.close(controller)
        os.close(terminal)
    assert "checking TrainingJobs" in drawn
    assert "3/5" in drawn
    assert "\x1b[" in drawn  # drawn and erased with terminal control sequences


def test_off_a_terminal_nothing_is_written() -> None:
    stream = io.StringIO()
    with progress("checking TrainingJobs", stream) as tracker:
        tracker.total(2)
        assert list(tracked(["a", "b"], tracker)) == ["a", "b"]
    assert stream.getvalue() == ""


def _manifests(folder: Path) -> Path:
    base = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())
    items = []
    for index in range(30):
        item = yaml.safe_load(yaml.safe_dump(base))
        item["metadata"]["name"] = item["spec"]["trainingJobName"] = f"job-{index}"
        items.append(item)
    return write(
        folder, "jobs.yaml", yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items})
    )


@pytest.mark.slow
def test_the_audit_command_draws_on_a_terminal_and_keeps_stdout_clean(tmp_path: Path) -> None:
    jobs = str(_manifests(tmp_path))
    command = [sys.executable, "-m", "webhook", "audit", jobs, "-o", "json"]
    piped = subprocess.run(
        command, cwd=PROJECT, capture_output=True, text=True, timeout=120, check=False
    )
    assert piped.returncode == 0
    assert piped.stderr == ""  # a pipe gets nothing
    controller, terminal = _terminal()
    try:
        process = subprocess.Popen(
            command,
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            env=_environment(**TERMINAL_ENV),
        )
        drawn = ""
        while process.poll() is None:
            drawn += _drain(controller)
            time.sleep(0.02)
        out = process.stdout.read() if process.stdout else ""
        if process.stdout:
            process.stdout.close()
        drawn += _drain(controller)
    finally:
        os.close(controller)
        os.close(terminal)
    assert process.returncode == 0
    assert out == piped.stdout  # stdout is the same with or without a display
    assert "checking TrainingJobs" in drawn


def test_validate_and_offline_audit_load_neither_rich_nor_the_kubernetes_client(
    tmp_path: Path,
) -> None:
    jobs = str(_manifests(tmp_path))
    script = (
        "import sys\n"
        "from webhook.cli import main\n"
        f"main(['validate', '--examples'])\n"
        f"main(['audit', {jobs!r}, '--compare-to', 'baseline'])\n"
        "sys.stderr.write(repr(sorted(m for m in ('rich', 'kubernetes') if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stderr == "[]"
