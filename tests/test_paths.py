"""Field paths: Kubernetes' notation, one line whatever the keys hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, write
from webhook.cli import main
from webhook.paths import format_path


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (("spec", "inputDataConfig", 1, "channelName"), "spec.inputDataConfig[1].channelName"),
        (("spec", "hyperParameters", "max_depth"), "spec.hyperParameters[max_depth]"),
        (("spec", "hyperParameters", "a.b c"), "spec.hyperParameters[a.b c]"),
        (("spec", "hyperParameters", "bad\nkey"), 'spec.hyperParameters["bad\\nkey"]'),
        (("spec", "environment", "x]y"), 'spec.environment["x]y"]'),
        (("spec", "environment", "tab\there"), 'spec.environment["tab\\there"]'),
        (("spec", "odd\u2028field", "x"), 'spec["odd\\u2028field"].x'),
        (("metadata", "labels", ""), "metadata.labels[]"),
    ],
)
def test_paths_are_one_line_and_unambiguous(path: tuple[str | int, ...], shown: str) -> None:
    assert format_path(path) == shown


def test_a_key_with_a_line_break_stays_on_its_finding_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = (EXAMPLES / "training-job.yaml").read_text(encoding="utf-8")
    text = text.replace('    num_round: "100"\n', '    num_round: "100"\n    "bad\\nkey": "x"\n')
    job = write(tmp_path, "job.yaml", text)
    assert main(["validate", "--no-policy", str(job)]) == 1
    [finding] = [line for line in capsys.readouterr().out.splitlines() if " deny " in line]
    assert 'spec.hyperParameters["bad\\nkey"]' in finding
