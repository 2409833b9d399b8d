"""The proof of the built-in checks is never looser than the checks.

It may only say "nothing to report" when the constraint walk, the typed
model and the cross-field rules (the full Python checks,
``check_object(full=True)``) report nothing but what the one cross-field rule
the proof leaves to Python says.
"""

from __future__ import annotations

import itertools
from typing import Any

import jsonschema_rs
import pytest

from tests.conftest import EXAMPLES
from tests.native.corpus import CORPORA, ack_jobs, corpus_of, job_file, jobs, mutants
from webhook.constraints.check import default_checker
from webhook.constraints.proof import regex_of
from webhook.constraints.rules import UNPROVEN, check_rules
from webhook.constraints.schema import MapShape, StringShape, load
from webhook.engine import builtin_proof, check_object

CHECKER = default_checker()
PROOF = builtin_proof(CHECKER)
CORPUS = jobs()


def _clean(job: dict[str, Any]) -> bool:
    """True when the exact Python checks find nothing the proof should have seen."""
    return check_object(job, CHECKER, full=True) == check_rules(job["spec"], UNPROVEN)


@pytest.mark.parametrize("corpus", CORPORA)
def test_the_bundled_example_and_most_of_the_corpus_are_proven(corpus: str) -> None:
    """The fast path is taken for clean jobs: a proof that never holds would pass
    every other test here and help no one."""
    assert PROOF.holds(job_file(EXAMPLES / "training-job.yaml"))
    found = corpus_of(corpus)
    proven = [name for name, job in found if PROOF.holds(job)]
    assert len(proven) >= len(found) // 2, proven


@pytest.mark.parametrize(("name", "job"), CORPUS, ids=[name for name, _ in CORPUS])
def test_a_proven_job_is_clean(name: str, job: dict[str, Any]) -> None:
    """Every shipped manifest and case, and 40 mutants of each."""
    _assert_proven_only_if_clean(name, job)


@pytest.mark.requires_ack
def test_a_proven_ack_job_is_clean() -> None:
    """The same for every manifest of the ACK controller's tree."""
    for name, job in ack_jobs():
        _assert_proven_only_if_clean(name, job)


def _assert_proven_only_if_clean(name: str, job: dict[str, Any]) -> None:
    for mutant in itertools.chain([job], mutants(job, 40, seed=len(name))):
        if PROOF.holds(mutant):
            assert _clean(mutant), (name, mutant)
    # and the proof does not hold for what the checks report
    if not _clean(job):
        assert not PROOF.holds(job), name


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("instanceCount", 1.0),  # JSON Schema draft 6+ would call it an integer
        ("instanceCount", True),
        ("instanceCount", 2**31),  # int32 overflow in the controller
        ("volumeSizeInGB", -(2**63) - 1),
        ("instanceType", "ml.m5.xlarge\n"),
        ("instanceType", "ml.m5.XLARGE"),
        ("volumeKMSKeyID", "$KMS_KEY"),
    ],
)
def test_what_the_checks_report_is_not_proven(job: dict[str, Any], field: str, value: Any) -> None:
    job["spec"]["resourceConfig"][field] = value
    assert not _clean(job)
    assert not PROOF.holds(job)


@pytest.mark.parametrize(
    ("value", "proven"),
    [
        ("registry.example/train:1", True),
        ("registry.example/\ntrain:1", False),
        # Java's '.' stops at each of its line terminators, not only at a line feed
        ("registry.example/train:1\r", False),
        ("registry.example/\x85train:1", False),
        ("registry.example/\u2028train:1", False),
        ("registry.example/\u2029train:1", False),
        ("registry.example/\x0btrain:1", True),  # a vertical tab ends no line in Java
        ("$REGISTRY/train:1", False),
        ("<your registry>/train:1", False),
    ],
)
def test_a_free_form_text_field_screens_line_terminators_and_placeholders_in_one_search(
    job: dict[str, Any], value: str, *, proven: bool
) -> None:
    """``trainingImage`` has the pattern ``.*``: one search for a line terminator, ``$``
    or ``<`` stands for both checks."""
    job["spec"]["algorithmSpecification"]["trainingImage"] = value
    assert _clean(job) is proven
    assert PROOF.holds(job) is proven


@pytest.mark.parametrize(
    ("block", "field", "value"),
    [
        ("resourceConfig", "instanceType", None),  # neither type nor groups
        ("resourceConfig", "instanceGroups", [{"instanceType": "ml.m5.xlarge"}]),  # both
        ("algorithmSpecification", "algorithmName", "xgboost"),  # both image and algorithm
        ("algorithmSpecification", "trainingImage", None),  # neither
    ],
)
def test_what_the_cross_field_rules_report_is_not_proven(
    job: dict[str, Any], block: str, field: str, value: Any
) -> None:
    job["spec"][block][field] = value
    assert not _clean(job)
    assert not PROOF.holds(job)


def test_a_channel_without_a_data_source_is_not_proven(job: dict[str, Any]) -> None:
    job["spec"]["inputDataConfig"][0]["dataSource"] = {}
    assert not _clean(job)
    assert not PROOF.holds(job)


def test_values_json_cannot_carry_are_not_proven(job: dict[str, Any]) -> None:
    """A date or an integer key (YAML gives both) makes the proof fail, not raise."""
    job["spec"]["hyperParameters"][1] = "x"
    assert not PROOF.holds(job)


def _string_shapes() -> list[StringShape]:
    shapes: dict[str, StringShape] = {}
    pending: list[Any] = [load().root]
    while pending:
        shape = pending.pop()
        if shape.name in shapes:
            continue
        if isinstance(shape, StringShape):
            shapes[shape.name] = shape
        elif isinstance(shape, MapShape):
            pending += [shape.key, shape.value]
        elif hasattr(shape, "members"):
            pending += [member.shape for member in shape.members.values()]
        elif hasattr(shape, "member"):
            pending.append(shape.member)
    return [shape for shape in shapes.values() if regex_of(shape) is not None]


#: Every ASCII character and the Unicode ones where regex dialects part ways: other
#: scripts' digits and letters, other kinds of numbers, white space, line terminators,
#: case folding.
_CHARACTERS = [chr(code) for code in range(128)] + list(
    "\u0085\u00a0\u00b2\u00e9\u0130\u0131\u017f\u01c5\u0300\u0661\u1680\u2028\u2029"
    "\u2160\u212a\u3000\uff10\uff21\U0001d7ce\U0001f600"
)


def _samples(shape: StringShape) -> list[str]:
    """Values of the corpus the shape's pattern takes, to vary one character at a time."""
    assert shape.matcher is not None
    values = {
        value
        for _, job in CORPUS
        for value in _strings(job)
        if shape.matcher.fullmatch(value) is not None
    }
    return sorted(values, key=len)[:4] or ["a"]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


@pytest.mark.parametrize("shape", _string_shapes(), ids=lambda shape: shape.name)
def test_a_pattern_takes_no_value_the_python_pattern_refuses(shape: StringShape) -> None:
    """Each SageMaker pattern, in jsonschema-rs's dialect, against Python's ``re``/``regex``:
    every sample value with each character in turn replaced, inserted and appended."""
    regex = regex_of(shape)
    assert regex is not None
    assert shape.matcher is not None
    native = jsonschema_rs.Draft4Validator({"pattern": regex})
    looser = []
    for sample in _samples(shape):
        for position, character in itertools.product(range(len(sample) + 1), _CHARACTERS):
            for value in (
                sample[:position] + character + sample[position + 1 :],
                sample[:position] + character + sample[position:],
            ):
                if native.is_valid(value) and shape.matcher.fullmatch(value) is None:
                    looser.append(value)
    assert not looser, f"{shape.pattern}: {looser[:5]}"
