"""JSON files read as kubectl reads them, JSON that YAML cannot read included.

libyaml refuses some JSON that kubectl reads with Go's JSON decoder: a tab
before the first brace, an escaped surrogate pair (as Python's ``json.dumps``
writes an emoji). Each number form, in each shape of file, must read as the
value kubectl sends, and what the YAML reader refuses on purpose (a duplicate
key) stays refused in every shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, write
from tests.yamlio.conftest import HEADER, Kubectl, Sent, typed
from webhook.cli import main
from webhook.yamlio import Document, YAMLProblem, parse_json_document

Shape = Callable[[dict[str, Any]], str]

SHAPES: dict[str, Shape] = {
    "plain": lambda job: json.dumps(job, indent=2, ensure_ascii=False),
    "tabs": lambda job: json.dumps(job, indent="\t", ensure_ascii=False),
    # YAML cannot read these: JSON is read, then YAML again with the tab made a space.
    "leading-tab": lambda job: "\t" + json.dumps(job, indent="\t", ensure_ascii=False),
    # ... nor these: JSON only, so findings have no line.
    "escaped": lambda job: json.dumps(job, indent="\t"),
}

NUMBERS = [
    *("1.0", "1", "-0.0", "-0", "1e2", "1E+2", "3e-4", "0.1", "1.5", "2.5e-5", "1e-400"),
    *("9223372036854775807", "9223372036854775808", "-9223372036854775809"),
    *("12345678901234567890", "18446744073709551616", "1e20", "1e21"),
    *('"1.0"', "true", "null", "[1.0]", "NaN", "Infinity"),
    # Go's JSON decoder refuses these (YAML would read them as strings)
    *("1e400", "-1e400", "1" + "0" * 400),
]

VALUE = "@value@"


def manifest(name: str, shape: str, value: str) -> str:
    """A TrainingJob-shaped JSON file whose hyperparameter ``value`` is the JSON *value*."""
    header = dict(line.split(": ") for line in HEADER.splitlines())
    job = {
        **header,
        "metadata": {"name": name},
        "spec": {
            "hyperParameters": {"value": VALUE},
            "tags": [{"key": "k", "value": "\U0001f600"}],
        },
    }
    return SHAPES[shape](job).replace(f'"{VALUE}"', value)


def read_json(text: str) -> tuple[Document | None, list[YAMLProblem]]:
    problems: list[YAMLProblem] = []
    return parse_json_document("job.json", text, problems), problems


CASES = {f"{shape}{i}": (shape, value) for shape in SHAPES for i, value in enumerate(NUMBERS)}
FILES = {case: manifest(f"{case}--0", *shape_value) for case, shape_value in CASES.items()}


@pytest.fixture(scope="module")
def sent(kubectl: Kubectl) -> dict[str, Sent]:
    return kubectl.send("json", FILES)


@pytest.mark.parametrize("case", list(CASES), ids=lambda case: f"{case}:{CASES[case][1][:24]}")
def test_json_file_reads_as_kubectl_sends_it(case: str, sent: dict[str, Sent]) -> None:
    document, problems = read_json(FILES[case])
    theirs = sent[case]
    if not theirs.documents:
        assert problems, f"kubectl refuses it ({theirs.refusal}); we read it"
        assert document is None
        return
    assert problems == []
    assert document is not None
    assert typed(document.data) == typed(theirs.documents[0])


@pytest.mark.parametrize(
    ("shape", "where"),
    [
        ("plain", (10, 3)),
        ("tabs", (10, 3)),
        ("leading-tab", (10, 3)),
        ("escaped", (0, 0)),  # only JSON reads it: no line to give
    ],
)
def test_duplicate_key_is_refused_in_every_shape(shape: str, where: tuple[int, int]) -> None:
    """kubectl keeps the last value silently; the YAML reader refuses, and so does JSON."""
    text = manifest("j", shape, '"a",\n\t\t"value": "b"')
    document, problems = read_json(text)
    assert document is None
    expected = 'duplicate key "value"'
    if where != (0, 0):
        expected += ": first at line 9, again at line 10"
    assert problems == [YAMLProblem(*where, expected)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('\t{"a": [1,]}', "invalid JSON: Expecting value"),
        ('{"a": NaN, "b": "\\ud83d\\ude00"}', "invalid JSON: NaN is not a JSON value"),
        ('\t{"a": 1e400}', "1e400 is beyond float64: kubectl cannot read it"),
        ('\t{"a": 1' + "0" * 5000 + "}", "10000000000000000000... is beyond float64"),
        ('\t{"a": "\\ud83d", "b": .inf}', "invalid JSON: Expecting value"),
    ],
)
def test_json_that_neither_reader_reads_is_an_error(text: str, message: str) -> None:
    document, problems = read_json(text)
    assert document is None
    (problem,) = problems
    assert problem.message.startswith(message)


def test_refusal_is_not_retried_as_json() -> None:
    """A YAML refusal stays one, though a JSON parser would read the file."""
    document, problems = read_json('{"a": 1, "a": 2}')
    assert document is None
    assert problems == [YAMLProblem(1, 10, 'duplicate key "a": first at line 1, again at line 1')]


def test_leading_tab_json_keeps_its_lines() -> None:
    document, problems = read_json(manifest("j", "leading-tab", "1.0"))
    assert problems == []
    assert document is not None
    assert document.node is not None
    assert document.data["spec"]["hyperParameters"] == {"value": 1}


# --- through `validate` --------------------------------------------------------------------------

JOB: dict[str, Any] = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())
JOB["metadata"]["annotations"] = {"note": "\U0001f600"}  # escaped as a surrogate pair


def validate(capsys: pytest.CaptureFixture[str], file: Path) -> tuple[int, dict[str, Any]]:
    code = main(["validate", str(file), "--no-policy", "-o", "json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_validate_refuses_a_json_manifest_with_a_duplicate_key(
    shape: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = SHAPES[shape](JOB).replace('"roleARN": ', '"roleARN": "a", "roleARN": ', 1)
    code, report = validate(capsys, write(tmp_path, "job.json", text))
    assert code == 2
    [error] = report["errors"]
    assert error["message"].startswith('duplicate key "roleARN"')
    assert report["results"] == []


@pytest.mark.parametrize("shape", list(SHAPES))
def test_validate_sends_a_json_float_hyperparameter_as_kubectl_does(
    shape: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """kubectl sends ``1.0`` as ``1``: the finding quotes the number the webhook sees."""
    text = SHAPES[shape](JOB).replace('"eta": "0.2"', '"eta": 1.0')
    code, report = validate(capsys, write(tmp_path, "job.json", text))
    assert code == 1
    [result] = report["results"]
    [violation] = result["violations"]
    assert violation["path"] == "spec.hyperParameters[eta]"
    assert violation["message"].endswith('quote it: "1"')
    has_line = shape != "escaped"
    assert (violation["line"] > 0) == has_line


@pytest.mark.parametrize(
    ("text", "data", "problems"),
    [
        ("a: 1e400\nb: 1.0\n", {"a": "1e400", "b": 1}, []),
        ("\t[1e400]", None, [YAMLProblem(1, 1, "YAML syntax error")]),
    ],
)
def test_text_that_does_not_start_with_a_brace_is_yaml_to_kubectl(
    text: str, data: Any, problems: list[YAMLProblem]
) -> None:
    """kubectl tries Go's JSON decoder only on text that starts with ``{``."""
    document, found = read_json(text)
    assert (document.data if document else None) == data
    assert [(p.line, p.column, p.message[:17]) for p in found] == problems
