"""Every kind of scalar reads as the value kubectl sends, as a value and as a key.

Each form is a hyperparameter of its own TrainingJob-shaped file (a form that
kubectl refuses refuses its file only). Where kubectl sends a value, we read
the same value of the same type; where it refuses the file, we refuse too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, write
from tests.yamlio.conftest import Kubectl, Sent, job, read, typed
from webhook.cli import main
from webhook.policy.defaults.plan import as_string

SCALARS: list[str] = [
    # booleans: YAML 1.1, every spelling go-yaml knows, and some it does not
    *("true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO"),
    *("on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", "tRUE", "yES", "oN"),
    # null
    *("null", "Null", "NULL", "~", "", "nULL"),
    # integers: signs, bases, underscores, octal-looking, the int64 and uint64 edges
    *("0", "-0", "+0", "+1", "-1", "007", "0755", "-0755", "08", "09", "00", "0_7", "0o755"),
    *("0O755", "0o8", "0o", "0x1f", "0X1f", "0x_1F", "0xFF_FF", "0x", "0xg", "-0x1f", "+0x1f"),
    *("0b1010", "0B1010", "0b_1", "-0b11", "0b2", "1_000", "1__0", "_1", "1_", "-1_000"),
    *("9223372036854775807", "9223372036854775808", "-9223372036854775808"),
    *("-9223372036854775809", "18446744073709551615", "18446744073709551616"),
    *("+9223372036854775808", "0xFFFFFFFFFFFFFFFF", "123456789012345678901234567890"),
    # floats: with and without a dot or exponent, out of range, special values
    *("1.0", "-1.0", "1.", "0.", ".5", "-.5", "+.5", "1.5", "0.0", "-0.0", "0e0", "1e3", "1E3"),
    *("1e+3", "3e-4", "1e-3", "1.0e-3", "2.5e-5", "1e-400", "1e400", "-1e400", "1.5e308"),
    *("1.8e308", "4.9e-324", "1e-6", "1e-7", "1e20", "1e21", "-1e21", "123456789.123456789"),
    *("0.1", "0.30000000000000004", "1_0.5", "1.0_0", "1e1_0", "9007199254740993.0"),
    *("1e19", "1.5e19", "2e19", ".5_0", "._5", ".5e1_0", ".1e400", ".1e-400", ".5_", ".e3"),
    *(".inf", ".Inf", ".INF", "-.inf", "+.inf", "inf", "Infinity", ".nan", ".NaN", ".NAN"),
    *("nan", "+.nan", "0x1p3", "1e", "e3", ".", "+", "+.", "-.e3", "1.2.3"),
    # what YAML 1.1 reads and go-yaml does not: sexagesimal numbers, timestamps, merge, value
    *("1:30", "1:30:00", "-1:30", "190:20:30.15", "2001-12-14", "2001-12-14t21:59:43.10-05:00"),
    *("2001-12-14 21:59:43.10 -5", "2001-02-30", "<<", "=", "hello", "a b", "12:00"),
    # quoted: always strings
    *('"1"', "'1'", '"true"', "'y'", '"1e3"', '""', "''", '"~"', "'null'", '"\\u00e9"'),
    # tags: go-yaml's resolution of an explicit tag, and the tags it does not know
    *("!!str 1", '!!int "2"', "!!float 3", "!!float 1e3", "!!int 0x10", "!!bool yes"),
    *('!!null ""', "!!str", "!foo x", "!foo", "! 5", "!!binary aGVsbG8=", "!!binary gIHi"),
    *("!!binary 7aCA4oKA", '!!binary "aGVsbG8"', "!!timestamp 2001-12-14", "!!merge x"),
    *("!!timestamp 2001-12-14T21:59:43+24:00", "!!timestamp 2001-12-14T21:59:43+25:00"),
    *("!!timestamp 2001-1-2T3:4:5.123456789123Z", "!!timestamp '2001-12-14   21:59:43'"),
    *("!!timestamp 2001-02-29", "!!timestamp 2000-02-29", "!!timestamp 2001-12-14T21:60:00Z"),
    *("!!int x", "!!float x", "!!bool x", "!!null x", "!!int 1.5", "!!float .inf"),
    *("!!float 18446744073709551615", "!!int 18446744073709551615", "!!timestamp x"),
]

KEYS: list[str] = [
    *("1", "-1", "0x1f", "1_000", "007", "true", "y", "N", "off", "1.5", "0.1", "1e3", "1e7"),
    *("1e-7", "1e-5", "1e-4", "-0.0", "1.0", "123456.0", "1234567.0", "123456789.0", "3e-4"),
    *("16777217.0", "1.0000001", "3.4028235e38", "3.5e38", "1e-46", "7.038531e-26", ".inf"),
    *("-.inf", ".nan", "1e400", "2001-12-14", "1:30", '"1"', "'y'", "!!str 1", "!!float 2"),
    *("null", "~", "9223372036854775808", "-9223372036854775809", "[a]", "{a: 1}", "<<"),
]


def _value_file(index: int, form: str) -> str:
    return job(f"v{index}--0", f"spec:\n  hyperParameters:\n    value: {form}\n")


def _key_file(index: int, form: str) -> str:
    return job(f"k{index}--0", f"spec:\n  hyperParameters:\n    {form}: value\n")


FILES = {
    **{f"v{i}": _value_file(i, form) for i, form in enumerate(SCALARS)},
    **{f"k{i}": _key_file(i, form) for i, form in enumerate(KEYS)},
}


@pytest.fixture(scope="module")
def sent(kubectl: Kubectl) -> dict[str, Sent]:
    return kubectl.send("scalars", FILES)


def _hyperparameters(documents: list[Any]) -> Any:
    return [document["spec"]["hyperParameters"] for document in documents]


def _compare(case: str, sent: dict[str, Sent]) -> None:
    ours, problems = read(FILES[case])
    theirs = sent[case]
    if theirs.refusal is not None:
        assert problems, f"kubectl refuses it ({theirs.refusal}); we read {ours}"
        assert ours == []
    else:
        assert problems == []
        assert typed(_hyperparameters(ours)) == typed(_hyperparameters(theirs.documents))


@pytest.mark.parametrize(("index", "form"), list(enumerate(SCALARS)), ids=repr)
def test_value_reads_as_kubectl_sends_it(index: int, form: str, sent: dict[str, Sent]) -> None:
    _compare(f"v{index}", sent)


@pytest.mark.parametrize(("index", "form"), list(enumerate(KEYS)), ids=repr)
def test_key_reads_as_kubectl_sends_it(index: int, form: str, sent: dict[str, Sent]) -> None:
    _compare(f"k{index}", sent)


def test_coerced_hyperparameters_are_the_strings_the_webhook_makes(sent: dict[str, Sent]) -> None:
    """``coerceStrings`` turns a number or boolean into the same string in CI and webhook."""
    coerced = 0
    for index, form in enumerate(SCALARS):
        theirs = sent[f"v{index}"]
        if theirs.refusal is not None:
            continue
        (value,) = _hyperparameters(theirs.documents)
        if not isinstance(value["value"], bool | int | float):
            continue
        (ours,) = _hyperparameters(read(FILES[f"v{index}"])[0])
        assert as_string(ours["value"]) == as_string(value["value"]), form
        coerced += 1
    assert coerced > 100


def test_mutate_coerces_hyperparameters_as_the_webhook_does(
    sent: dict[str, Sent], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The baseline's ``coerceStrings`` in CI gives the strings the webhook gives."""
    expected: dict[str, str] = {}
    lines = []
    for index, form in enumerate(SCALARS):
        theirs = sent[f"v{index}"]
        value = theirs.documents[0]["spec"]["hyperParameters"]["value"] if theirs.documents else ""
        if isinstance(value, bool | int | float) and not form.startswith("!"):
            expected[f"h{index}"] = as_string(value)
            lines.append(f"    h{index}: {form}\n")
    manifest = (EXAMPLES / "training-job.yaml").read_text(encoding="utf-8")
    manifest = manifest.replace("  hyperParameters:\n", "  hyperParameters:\n" + "".join(lines))
    assert main(["mutate", str(write(tmp_path, "job.yaml", manifest))]) == 0
    mutated = yaml.safe_load(capsys.readouterr().out)["spec"]["hyperParameters"]
    assert {key: mutated[key] for key in expected} == expected
    assert len(expected) > 90


# What kubectl sends where PyYAML's YAML 1.1 reads otherwise: these hold without kubectl.
@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ("3e-4", 0.0003),
        ("1e-3", 0.001),
        ("1e3", 1000),
        ("y", True),
        ("n", False),
        ("Y", True),
        ("N", False),
        ("0o755", 493),
        ("08", 8),
        ("0X1f", 31),
        ("-.5", -0.5),
        ("1e-400", 0),
        ("1:30", "1:30"),
        ("<<", "<<"),
        ("1.0", 1),
        ("-0.0", 0),
        ("9223372036854775808", 9223372036854776000),  # beyond int64: a float64
        ("18446744073709551615", 1.8446744073709552e19),
        ("-9223372036854775809", -9.223372036854776e18),
        ("1e20", 1e20),
        ("1e-7", 1e-7),
        ("2001-12-14", "2001-12-14"),
        ("! 5", "5"),
    ],
    ids=repr,
)
def test_value_is_what_kubectl_sends(form: str, expected: Any) -> None:
    (document,), problems = read(_value_file(0, form))
    assert problems == []
    assert typed(document["spec"]["hyperParameters"]["value"]) == typed(expected)


@pytest.mark.parametrize(
    ("form", "expected"),
    [("1.0", "1"), ("3e-4", "0.0003"), ("y", "true"), ("1e21", "1e+21"), ("0x1f", "31")],
)
def test_coerced_string_is_what_the_webhook_makes(form: str, expected: str) -> None:
    (document,), _ = read(_value_file(0, form))
    assert as_string(document["spec"]["hyperParameters"]["value"]) == expected


@pytest.mark.parametrize(
    ("form", "key"),
    [
        ("1", "1"),
        ("y", "true"),
        ("0x1f", "31"),
        ("1.5", "1.5"),
        ("1e7", "1e+07"),
        ("123456789.0", "1.2345679e+08"),
        ("-0.0", "-0"),
        ("1e-5", "1e-05"),
        ("3.5e38", ".inf"),
        (".nan", ".nan"),
    ],
)
def test_key_is_the_string_kubectl_makes(form: str, key: str) -> None:
    (document,), problems = read(_key_file(0, form))
    assert problems == []
    assert list(document["spec"]["hyperParameters"]) == [key]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (".inf", ".inf is infinity, which JSON cannot carry"),
        ("-.Inf", "-.Inf is infinity, which JSON cannot carry"),
        (".nan", ".nan is NaN, which JSON cannot carry"),
        ("!!int x", "cannot read 'x' as !!int: it is a !!str"),
        ("!!float 18446744073709551615", "as !!float: it is a !!int"),
        ("!!binary '!!!'", "a !!binary value that is not valid base64"),
    ],
)
def test_value_kubectl_refuses_is_refused_at_its_place(form: str, message: str) -> None:
    documents, problems = read(_value_file(0, form))
    assert documents == []
    (problem,) = problems
    assert (problem.line, problem.column) == (7, 12)
    assert message in problem.message
