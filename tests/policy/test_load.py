"""Loading policy files as a platform engineer meets it: YAML files in, errors with positions out."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.conftest import write
from webhook.cli import main
from webhook.policy.load import (
    PolicyError,
    PolicyLoadError,
    baseline_policy,
    bundled_policy_dir,
    load_policies,
    policy_files,
    read_documents,
)
from webhook.policy.rules import format_field, parse_field
from webhook.policy.rules.registry import KINDS

PROJECT = Path(__file__).resolve().parents[2]

# Five lines; whatever a test appends starts at line 6.
HEAD = """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata:
  name: {id}
id: {id}
"""


def policy(body: str = "", policy_id: str = "p") -> str:
    """A policy document: HEAD (lines 1-5) then *body* (dedented) from line 6."""
    return HEAD.format(id=policy_id) + textwrap.dedent(body)


def errors_of(*paths: Path) -> list[PolicyError]:
    with pytest.raises(PolicyLoadError) as raised:
        load_policies(list(paths))
    assert str(raised.value) == "\n".join(str(e) for e in raised.value.errors)
    return raised.value.errors


def summary(errors: list[PolicyError]) -> list[tuple[int, int, str, str]]:
    return [(e.line, e.column, e.field, e.message) for e in errors]


# --- a policy that loads -------------------------------------------------------------------------


def test_valid_policy_loads_and_compiles(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policy.yaml",
        policy(
            """\
            action: warn
            rules:
              - id: limits
                kind: resources
                maxInstanceCount: 4
              - id: strict
                kind: tags
                action: deny
            """
        ),
    )
    policies = load_policies([file])
    assert len(policies) == 1
    (compiled,) = policies.policies
    assert compiled.id == "p"
    assert compiled.source == str(file)
    assert [(rule.id, rule.action.value) for rule in compiled.rules] == [
        ("p/limits", "warn"),
        ("p/strict", "deny"),
    ]


def test_policy_set_is_ordered_by_id(tmp_path: Path) -> None:
    files = [
        write(tmp_path, "a.yaml", policy(policy_id="zeta")),
        write(tmp_path, "b.yaml", policy(policy_id="alpha")),
        write(tmp_path, "c.yaml", policy(policy_id="mid")),
    ]
    assert [p.id for p in load_policies(files).policies] == ["alpha", "mid", "zeta"]


def test_several_documents_in_one_file(tmp_path: Path) -> None:
    file = write(tmp_path, "two.yaml", policy(policy_id="one") + "---\n" + policy(policy_id="two"))
    assert [p.id for p in load_policies([file]).policies] == ["one", "two"]


def test_empty_file_loads_nothing(tmp_path: Path) -> None:
    file = write(tmp_path, "empty.yaml", "# nothing here yet\n")
    assert len(load_policies([file])) == 0


# --- unknown fields, with did-you-mean -----------------------------------------------------------


def test_unknown_rule_field_suggests_the_right_one(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policy.yaml",
        policy(
            """\
            rules:
              - id: limits
                kind: resources
                maxInstances: 4
            """
        ),
    )
    (error,) = errors_of(file)
    assert (error.file, error.line, error.column, error.field) == (
        str(file),
        9,
        5,
        "rules[0].maxInstances",
    )
    assert error.message == 'unknown field "maxInstances"; did you mean "maxInstanceCount"?'
    assert str(error) == (
        f'{file}:9:5: rules[0].maxInstances: unknown field "maxInstances"; '
        'did you mean "maxInstanceCount"?'
    )


@pytest.mark.parametrize(
    ("body", "line", "column", "field", "message"),
    [
        (
            "exemptions:\n  user: [alice]\n",
            7,
            3,
            "exemptions.user",
            'unknown field "user"; did you mean "users"?',
        ),
        (
            "matchh: {namespaces: [team-a]}\n",
            6,
            1,
            "matchh",
            'unknown field "matchh"; did you mean "match"?',
        ),
        (
            "match:\n  namespace: [team-a]\n",
            7,
            3,
            "match.namespace",
            'unknown field "namespace"; did you mean "namespaces"?',
        ),
        (
            "exemptions:\n  annotation:\n    annotation: x\n    groups: [a]\n    group: [b]\n",
            10,
            5,
            "exemptions.annotation.group",
            'unknown field "group"; did you mean "groups"?',
        ),
        (
            "rules:\n  - id: hp\n    kind: hyperparameters\n    keys:\n      epochs: {typ: integer}\n",
            10,
            16,
            "rules[0].keys.epochs.typ",
            'unknown field "typ"; did you mean "type"?',
        ),
        (
            "defaults:\n  coerceString: true\n",
            7,
            3,
            "defaults.coerceString",
            'unknown field "coerceString"; did you mean "coerceStrings"?',
        ),
    ],
)
def test_unknown_fields_at_every_level(
    tmp_path: Path, body: str, line: int, column: int, field: str, message: str
) -> None:
    file = write(tmp_path, "policy.yaml", policy(body))
    assert summary(errors_of(file)) == [(line, column, field, message)]


def test_unknown_field_without_a_close_name_has_no_suggestion(tmp_path: Path) -> None:
    file = write(tmp_path, "policy.yaml", policy("zzzzzz: 1\n"))
    assert summary(errors_of(file)) == [(6, 1, "zzzzzz", 'unknown field "zzzzzz"')]


def test_defaults_typo_suggests_the_spec_field(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policy.yaml",
        policy(
            """\
            defaults:
              spec:
                stoppingCondition:
                  maxRuntimeInSecond: 86400
            """
        ),
    )
    (error,) = errors_of(file)
    assert error.line == 9
    assert error.field == "defaults.spec.stoppingCondition.maxRuntimeInSecond"
    assert error.message == (
        'unknown field "maxRuntimeInSecond"; did you mean "maxRuntimeInSeconds"?'
    )


def test_defaults_typo_points_at_the_key(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policy.yaml",
        policy(
            """\
            defaults:
              spec:
                stoppingCondition:
                  maxRuntimeInSecond: 86400
            """
        ),
    )
    (error,) = errors_of(file)
    assert (error.line, error.column) == (9, 7)


# --- rule kinds, enums, constants, required fields -----------------------------------------------


def test_unknown_rule_kind_lists_the_allowed_kinds(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policy.yaml",
        policy(
            """\
            rules:
              - id: limits
                kind: resources
              - id: mystery
                kind: frobnicate
            """
        ),
    )
    (error,) = errors_of(file)
    assert (error.line, error.column, error.field) == (10, 11, "rules[1].kind")
    assert "frobnicate" in error.message
    for kind in KINDS:
        assert kind in error.message.split("one of: ")[1].split(", ")


def test_rule_without_kind_says_kind_is_missing_and_lists_the_kinds(tmp_path: Path) -> None:
    file = write(tmp_path, "policy.yaml", policy("rules:\n  - id: limits\n    maxCount: 3\n"))
    (error,) = errors_of(file)
    assert "kind" in error.field or "kind" in error.message
    for kind in KINDS:
        assert kind in error.message


def test_wrong_action_value(tmp_path: Path) -> None:
    file = write(tmp_path, "policy.yaml", policy("action: block\n"))
    assert summary(errors_of(file)) == [(6, 9, "action", "must be 'deny', 'warn' or 'audit'")]


def test_wrong_rule_action_names_the_rule_field_without_the_kind_tag(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policy.yaml",
        policy(
            """\
            rules:
              - id: limits
                kind: resources
                action: block
            """
        ),
    )
    assert summary(errors_of(file)) == [
        (9, 13, "rules[0].action", "must be 'deny', 'warn' or 'audit'")
    ]


def test_wrong_api_version_and_kind(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policy.yaml",
        "apiVersion: v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: p}\nid: p\n",
    )
    assert summary(errors_of(file)) == [
        (1, 13, "apiVersion", "must be 'trainingjob-guard.io/v1alpha1'"),
        (2, 7, "kind", "must be 'TrainingJobPolicy'"),
    ]


def test_missing_policy_id_points_at_the_document(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policy.yaml",
        "apiVersion: trainingjob-guard.io/v1alpha1\nkind: TrainingJobPolicy\nmetadata: {name: p}\n",
    )
    assert summary(errors_of(file)) == [(1, 1, "id", "required field is missing")]


def test_missing_rule_id_points_at_the_rule(tmp_path: Path) -> None:
    file = write(tmp_path, "policy.yaml", policy("rules:\n  - kind: tags\n"))
    assert summary(errors_of(file)) == [(7, 5, "rules[0].id", "required field is missing")]


def test_bad_policy_id(tmp_path: Path) -> None:
    file = write(tmp_path, "policy.yaml", policy(policy_id="Team_A"))
    ((line, column, field, message),) = summary(errors_of(file))
    assert (line, column, field) == (5, 5, "id")
    assert message.startswith("String should match pattern")


# --- metadata.name and id: the id is the policy's one name ------------------------------------


def test_metadata_name_other_than_the_id_is_an_error_at_the_name_with_the_fix(
    tmp_path: Path,
) -> None:
    file = write(tmp_path, "policy.yaml", policy().replace("  name: p\n", "  name: team-net\n"))
    assert summary(errors_of(file)) == [
        (
            4,
            9,
            "metadata.name",
            '"team-net" is not the policy\'s id "p", its name in findings ("p/<rule id>"): '
            'set metadata.name to "p" or leave it out',
        )
    ]


@pytest.mark.parametrize(
    "metadata",
    ["", "metadata: {}\n", "metadata: {labels: {team: net}}\n", "metadata: {name: p}\n"],
    ids=["no metadata", "empty", "labels only", "same name"],
)
def test_metadata_name_may_be_left_out_or_equal_the_id(tmp_path: Path, metadata: str) -> None:
    text = f"apiVersion: trainingjob-guard.io/v1alpha1\nkind: TrainingJobPolicy\n{metadata}id: p\n"
    text += "rules: [{id: t, kind: tags}]\n"
    [compiled] = load_policies([write(tmp_path, "policy.yaml", text)]).policies
    assert compiled.id == "p"
    assert compiled.rules[0].id == "p/t"


def test_policy_lint_reports_a_metadata_name_other_than_the_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, "policy.yaml", policy().replace("  name: p\n", "  name: q\n"))
    assert main(["policy", "lint", str(file)]) == 2
    assert capsys.readouterr().out.splitlines()[0] == (
        f'{file}:4:9: metadata.name: "q" is not the policy\'s id "p", its name in findings '
        '("p/<rule id>"): set metadata.name to "p" or leave it out'
    )


def test_every_bundled_policy_names_itself_once() -> None:
    for file in sorted(bundled_policy_dir().glob("*/policy.yaml")):
        document = yaml.safe_load(file.read_text())
        assert document.get("metadata", {}).get("name", document["id"]) == document["id"], file


@pytest.mark.parametrize(
    ("text", "line"),
    [("- a\n- b\n", 1), ("just some text\n", 1), (policy() + "---\n42\n", 7)],
)
def test_document_that_is_not_a_mapping(tmp_path: Path, text: str, line: int) -> None:
    file = write(tmp_path, "policy.yaml", text)
    (error,) = errors_of(file)
    assert (error.line, error.column, error.field) == (line, 1, "")
    assert error.message == "a policy document must be a mapping"
    assert str(error) == f"{file}:{line}:1: a policy document must be a mapping"


# --- YAML syntax ---------------------------------------------------------------------------------


def test_yaml_syntax_error_with_its_position(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policy.yaml",
        "apiVersion: trainingjob-guard.io/v1alpha1\nkind: TrainingJobPolicy\n"
        "metadata: {name: p}\nid: p: q\n",
    )
    assert summary(errors_of(file)) == [
        (4, 6, "", "YAML syntax error: mapping values are not allowed in this context")
    ]


def test_yaml_syntax_error_in_a_later_document_keeps_the_others(tmp_path: Path) -> None:
    text = policy(policy_id="good") + "---\n" + policy(policy_id="bad") + "rules: [\n"
    file = write(tmp_path, "policy.yaml", text)
    loaded, errors = read_documents([file])
    assert [item.document.id for item in loaded] == ["good"]
    (error,) = errors
    assert error.line > 6  # in the second document, not the first
    assert error.message.startswith("YAML syntax error:")


def test_errors_in_a_later_document_have_file_lines(tmp_path: Path) -> None:
    text = policy(policy_id="one") + "---\n" + policy("action: block\n", policy_id="two")
    file = write(tmp_path, "policy.yaml", text)
    # document two starts at line 6 ("---"), its action at line 12
    assert summary(errors_of(file)) == [(12, 9, "action", "must be 'deny', 'warn' or 'audit'")]


# --- compile errors: regexes and CEL -------------------------------------------------------------


def test_invalid_regex_is_reported_at_its_field(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policy.yaml",
        policy(
            """\
            rules:
              - id: names
                kind: naming
                prefix: "{namespace}-"
              - id: hp
                kind: hyperparameters
                keys:
                  epochs:
                    type: integer
                    pattern: "("
            """
        ),
    )
    (error,) = errors_of(file)
    assert (error.line, error.column, error.field) == (15, 18, "rules[1].keys.epochs.pattern")
    assert error.message.startswith('"(" is not a valid regex: ')


def test_invalid_regex_under_a_dotted_key_is_reported_at_its_field(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policy.yaml",
        policy(
            """\
            rules:
              - id: hp
                kind: hyperparameters
                keys:
                  trainer.max_epochs:
                    type: integer
                    pattern: "("
            """
        ),
    )
    (error,) = errors_of(file)
    assert (error.line, error.column) == (12, 18)


def test_invalid_cel_is_reported_at_the_expression_with_the_cel_column(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policy.yaml",
        policy(
            """\
            rules:
              - id: ok
                kind: cel
                expression: "true"
              - id: broken
                kind: cel
                expression: "object.spec.x == "
            """
        ),
    )
    (error,) = errors_of(file)
    assert (error.line, error.column, error.field) == (12, 17, "rules[1].expression")
    assert error.message.startswith("invalid CEL: ")
    assert ":1:18:" in error.message  # line 1, column 18 of the expression
    assert "INVALID_ARGUMENT" not in error.message


def test_non_boolean_cel_is_a_load_error(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policy.yaml",
        policy('rules:\n  - id: sum\n    kind: cel\n    expression: "1 + 2"\n'),
    )
    assert summary(errors_of(file)) == [
        (9, 17, "rules[0].expression", "the expression yields INT, not BOOL")
    ]


# --- several errors, several files ---------------------------------------------------------------


def test_every_error_of_every_file_is_reported(tmp_path: Path) -> None:
    first = write(
        tmp_path,
        "a.yaml",
        policy(
            """\
            action: block
            rules:
              - id: limits
                kind: resources
                maxInstances: 4
            """,
            policy_id="a",
        ),
    )
    second = write(
        tmp_path,
        "b.yaml",
        policy('rules:\n  - id: nm\n    kind: naming\n    pattern: "["\n', policy_id="b"),
    )
    third = write(tmp_path, "c.yaml", "id: [\n")
    errors = errors_of(tmp_path)
    assert sorted((e.file, e.field) for e in errors) == [
        (str(first), "action"),
        (str(first), "rules[0].maxInstances"),
        (str(second), "rules[0].pattern"),
        (str(third), ""),
    ]


def test_every_compile_error_of_one_policy_is_reported(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "policy.yaml",
        policy(
            """\
            rules:
              - id: hp
                kind: hyperparameters
                keys:
                  epochs: {pattern: "("}
              - id: broken
                kind: cel
                expression: "object.spec.x == "
            defaults:
              spec:
                stoppingCondition:
                  maxRuntimeInSecond: 86400
            """
        ),
    )
    assert [e.field for e in errors_of(file)] == [
        "rules[0].keys.epochs.pattern",
        "rules[1].expression",
        "defaults.spec.stoppingCondition.maxRuntimeInSecond",
    ]


def test_duplicate_policy_ids_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", policy(policy_id="team-a"))
    second = write(tmp_path, "b.yaml", policy(policy_id="team-a"))
    (error,) = errors_of(first, second)
    assert (error.file, error.line, error.column, error.field) == (str(second), 5, 5, "id")
    assert error.message == f'policy id "team-a" is also used in {first}; ids must be unique'


def test_unreadable_path_is_an_error_without_position(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    (error,) = errors_of(missing)
    assert (error.file, error.line, error.column, error.field) == (str(missing), 0, 0, "")
    assert error.message.startswith("cannot read: ")
    assert str(error).startswith(f"{missing}: cannot read: ")


def test_read_documents_validates_without_compiling(tmp_path: Path) -> None:
    file = write(tmp_path, "p.yaml", policy('rules:\n  - {id: nm, kind: naming, pattern: "["}\n'))
    loaded, errors = read_documents([file])
    assert errors == []
    assert [item.document.id for item in loaded] == ["p"]
    assert loaded[0].source.file == str(file)


# --- directories ---------------------------------------------------------------------------------


def test_directory_skips_tests_and_hidden_folders(tmp_path: Path, job_yaml: str) -> None:
    folder = tmp_path / "team-a"
    write(folder, "policy.yaml", policy(policy_id="team-a"))
    write(folder, "tests/good.yaml", job_yaml)
    write(folder, "tests/cases.yaml", "cases:\n  - {file: good.yaml, allowed: true}\n")
    write(folder, ".git/config.yaml", "not: a policy\n")
    write(folder, "extra/more.yml", policy(policy_id="team-a-extra"))
    write(folder, "README.md", "# not yaml\n")
    assert list(policy_files([tmp_path])) == [
        folder / "extra" / "more.yml",
        folder / "policy.yaml",
    ]
    assert [p.id for p in load_policies([tmp_path]).policies] == ["team-a", "team-a-extra"]


def test_a_file_named_directly_is_read_whatever_its_name(tmp_path: Path) -> None:
    file = write(tmp_path, "policy.txt", policy())
    assert list(policy_files([file])) == [file]
    assert [p.id for p in load_policies([file]).policies] == ["p"]


@pytest.fixture
def job_yaml() -> str:
    return (PROJECT / "webhook" / "examples" / "training-job.yaml").read_text()


# --- the bundled library -------------------------------------------------------------------------


def test_bundled_baseline_loads() -> None:
    assert baseline_policy() == bundled_policy_dir() / "baseline" / "policy.yaml"
    assert baseline_policy().is_file()
    policies = load_policies([baseline_policy()])
    assert [p.id for p in policies.policies] == ["baseline"]
    assert policies.policies[0].rules


def test_bundled_directory_loads_without_its_test_cases() -> None:
    files = list(policy_files([bundled_policy_dir()]))
    assert baseline_policy() in files
    assert not any("tests" in file.relative_to(bundled_policy_dir()).parts for file in files)
    assert "baseline" in [p.id for p in load_policies([bundled_policy_dir()]).policies]


# --- field paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), ""),
        (("action",), "action"),
        (("rules", 0, "instanceTypes"), "rules[0].instanceTypes"),
        (("rules", 2, "keys", "epochs", "pattern"), "rules[2].keys.epochs.pattern"),
        (("rules", 1, "subnets", 3), "rules[1].subnets[3]"),
        (("defaults", "spec", "stoppingCondition"), "defaults.spec.stoppingCondition"),
    ],
)
def test_format_and_parse_field(path: tuple[str | int, ...], text: str) -> None:
    assert format_field(path) == text
    assert parse_field(text) == path


def test_policy_error_rendering() -> None:
    assert (
        str(PolicyError("p.yaml", 3, 7, "rules[0].kind", "bad")) == "p.yaml:3:7: rules[0].kind: bad"
    )
    assert str(PolicyError("p.yaml", 3, 7, "", "bad")) == "p.yaml:3:7: bad"
    assert str(PolicyError("p.yaml", 0, 0, "", "bad")) == "p.yaml: bad"


# --- trainingjob-guard policy schema -------------------------------------------------------------


@pytest.fixture
def schema(capsys: pytest.CaptureFixture[str]) -> Draft202012Validator:
    assert main(["policy", "schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    Draft202012Validator.check_schema(printed)
    return Draft202012Validator(printed)


def test_schema_accepts_the_baseline(schema: Draft202012Validator) -> None:
    document = yaml.safe_load(baseline_policy().read_text())
    assert list(schema.iter_errors(document)) == []


def test_schema_rejects_an_unknown_top_level_key(schema: Draft202012Validator) -> None:
    document = yaml.safe_load(baseline_policy().read_text())
    document["rulez"] = []
    messages = [error.message for error in schema.iter_errors(document)]
    assert len(messages) == 1
    assert "rulez" in messages[0]


def test_schema_rejects_an_unknown_rule_field(schema: Draft202012Validator) -> None:
    document = yaml.safe_load(policy("rules:\n  - {id: r, kind: resources, maxInstances: 4}\n"))
    assert list(schema.iter_errors(document)) != []
    document["rules"][0] = {"id": "r", "kind": "resources", "maxInstanceCount": 4}
    assert list(schema.iter_errors(document)) == []
