"""Documents refused on purpose: duplicate keys, order-dependent merges, alias bombs.

kubectl reads some of these (keeping the last duplicate, or either of two keys
at random); other readers refuse them or read them differently, so a check
that accepted them would have to guess which value the cluster gets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, PROJECT, write
from tests.yamlio.conftest import Kubectl, job, read
from webhook.cli import main
from webhook.paths import Path as FieldPath
from webhook.yamlio import YAMLProblem, compose, locate, parse_documents

VALID = (EXAMPLES / "training-job.yaml").read_text(encoding="utf-8")
CEL_POLICY = PROJECT / "policies" / "custom-cel"


def problems_of(body: str) -> list[YAMLProblem]:
    documents, problems = read(job("j", body))
    assert documents == [] or not problems
    return problems


# --- duplicate keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "spec:\n  roleARN: a\n  x: 1\n  roleARN: b\n",
            (8, 3, 'duplicate key "roleARN": first at line 6, again at line 8'),
        ),
        (
            "spec: {a: 1, b: 2, a: 3}\n",
            (5, 20, 'duplicate key "a": first at line 5, again at line 5'),
        ),
        (
            'spec:\n  1: a\n  "1": b\n',
            (
                7,
                3,
                'duplicate key "1": first at line 6, again at line 7 (1 and "1" are one JSON key)',
            ),
        ),
        (
            "spec:\n  true: a\n  y: b\n",
            (
                7,
                3,
                'duplicate key "true": first at line 6, again at line 7 (true and y are one JSON key)',
            ),
        ),
        (
            "spec:\n  1.0: a\n  1: b\n",
            (
                7,
                3,
                'duplicate key "1": first at line 6, again at line 7 (1.0 and 1 are one JSON key)',
            ),
        ),
        (
            "b: &b {1: x}\nspec:\n  <<: *b\n  '1': y\n",
            (
                8,
                3,
                "duplicate key \"1\": first at line 5, again at line 8 (1 and '1' are one JSON key)",
            ),
        ),
        (
            "spec:\n  <<: {a: 1}\n  <<: {b: 2}\n",
            (7, 3, 'duplicate key "<<": first at line 6, again at line 7'),
        ),
        (
            "spec:\n  l:\n  - {k: 1, k: 2}\n",
            (7, 12, 'duplicate key "k": first at line 7, again at line 7'),
        ),
        (
            "spec:\n  <<: {a: 1, a: 2}\n",
            (6, 14, 'duplicate key "a": first at line 6, again at line 6'),
        ),
    ],
    ids=[
        "block",
        "flow",
        "int-and-string",
        "bool-spellings",
        "float-and-int",
        "merged-and-string",
        "two-merge-keys",
        "in-a-list",
        "in-a-merged-mapping",
    ],
)
def test_duplicate_key_is_refused_with_both_lines(
    body: str, expected: tuple[int, int, str]
) -> None:
    assert problems_of(body) == [YAMLProblem(*expected)]


@pytest.mark.parametrize("key", ["0.000244140625", "190517.125"])
def test_float_key_between_two_names_is_refused(key: str) -> None:
    """Go names these 0.00024414063 and 190517.12: each tie broken its own way."""
    (problem,) = problems_of(f"spec:\n  {key}: v\n")
    assert (problem.line, problem.column) == (6, 3)
    assert problem.message == (
        f"float key {key} is halfway between two names kubectl may give it: quote it"
    )


def test_key_a_merge_brings_may_be_overridden_after_it() -> None:
    (document,), problems = read(job("j", "base: &b {a: 1, b: 2}\nspec:\n  <<: *b\n  a: 0\n"))
    assert problems == []
    assert document["spec"] == {"a": 0, "b": 2}


def test_key_a_later_merge_overrides_is_refused() -> None:
    """go-yaml v2 (kubectl) keeps the merged 1; go-yaml v3 and PyYAML keep the explicit 0."""
    body = "base: &b {a: 1, b: 2}\nspec:\n  a: 0\n  <<: *b\n"
    assert problems_of(body) == [
        YAMLProblem(
            8,
            3,
            'key "a" at line 7 is overridden by the merge key "<<" at line 8 (kubectl keeps the'
            ' merged value, other YAML readers the explicit one): put "<<" first',
        )
    ]


def test_kubectl_reads_what_we_refuse_differently(kubectl: Kubectl) -> None:
    """Why these are refused: kubectl silently keeps one value, not the one others keep."""
    sent = kubectl.send(
        "refused",
        {
            "last": job("last--0", "spec:\n  a: 1\n  a: 2\n"),
            "merged": job("merged--0", "base: &b {a: 1}\nspec:\n  a: 0\n  <<: *b\n"),
        },
    )
    assert sent["last"].documents[0]["spec"] == {"a": 2}
    assert sent["merged"].documents[0]["spec"] == {"a": 1}


def test_cli_reports_a_duplicate_key_as_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID.replace(
        "  stoppingCondition:",
        "  roleARN: arn:aws:iam::123456789012:role/other\n  stoppingCondition:",
    )
    file = write(tmp_path, "job.yaml", text)
    lines = text.splitlines()
    first = lines.index("  roleARN: arn:aws:iam::123456789012:role/team-a-sagemaker-execution") + 1
    again = lines.index("  roleARN: arn:aws:iam::123456789012:role/other") + 1
    assert main(["validate", "--no-policy", str(file)]) == 2
    out = capsys.readouterr().out
    assert f'{file}:{again}:3: error: duplicate key "roleARN": first at line {first},' in out
    assert f"again at line {again}" in out


# --- aliases -------------------------------------------------------------------------------------


def billion_laughs(levels: int = 9) -> str:
    """A small file whose aliases expand to 10**levels strings."""
    lines = ['    l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        lines.append(f"    l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10)}]")
    return "spec:\n  hyperParameters:\n" + "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_where_it_goes_off() -> None:
    (problem,) = problems_of(billion_laughs())
    assert problem.message == (
        "aliases expand this document by more than 100,000 nodes (an alias bomb?)"
    )
    assert problem.line == 11  # l5: ten copies of l4 (11,111 nodes each) pass 100,000


def test_cli_refuses_an_alias_bomb_before_a_cel_policy_walks_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, "bomb.yaml", job("bomb", billion_laughs()))
    assert main(["validate", "--policy", str(CEL_POLICY), str(file)]) == 2
    assert f"{file}:11:" in capsys.readouterr().out


def test_aliases_may_add_up_to_the_limit() -> None:
    anchored = "  a: &a [" + ", ".join(["1"] * 999) + "]\n"  # 1,000 nodes
    copies = "  b: [" + ", ".join(["*a"] * 100) + "]\n"  # 100 copies: 100,000 nodes added
    (document,), problems = read(job("j", "spec:\n" + anchored + copies))
    assert problems == []
    assert len(document["spec"]["b"]) == 100
    one_more = "  s: &s 1\n  c: *s\n"
    assert [p.line for p in problems_of("spec:\n" + anchored + copies + one_more)] == [9]


def test_document_without_aliases_is_never_refused_for_its_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compose, "MAX_ALIAS_NODES", 10)
    (document,), problems = read(job("j", "spec:\n  l: [" + ", ".join(["1"] * 50) + "]\n"))
    assert (problems, len(document["spec"]["l"])) == ([], 50)
    assert len(problems_of("spec:\n  a: &a [1, 2, 3, 4, 5]\n  b: [*a, *a]\n")) == 1


def test_deep_nesting_is_refused() -> None:
    deep = "spec: " + "[" * 101 + "]" * 101 + "\n"
    assert problems_of(deep) == [YAMLProblem(5, 106, "nested deeper than 100 levels")]
    assert problems_of("spec: " + "[" * 99 + "]" * 99 + "\n") == []


# --- documents -----------------------------------------------------------------------------------


def test_second_document_after_an_end_marker_is_refused() -> None:
    """kubectl splits at ``---`` only and drops what follows ``...``: refused, not dropped."""
    documents, problems = read(job("a", "spec: {}\n...\n") + job("b", "spec: {}\n"))
    assert documents == []
    assert [p.line for p in problems] == [7]


def test_text_after_a_document_marker_is_refused_and_the_others_read() -> None:
    text = job("a", "spec: {}\n") + "--- {a: 1}\n---\n" + job("b", "spec: {}\n")
    problems: list[YAMLProblem] = []
    names = [d.data["metadata"]["name"] for d in parse_documents("f.yaml", text, problems)]
    assert names == ["a", "b"]
    (problem,) = problems
    assert (problem.line, problem.column) == (6, 4)
    assert problem.message.startswith('text after the document marker "---": kubectl refuses it')


# --- locating keys kubectl converts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "where"),
    [
        (("spec", "1"), (7, 5)),
        (("spec", "true"), (8, 5)),
        (("spec", "31"), (9, 8)),
        (("spec", "merged"), (5, 0)),  # brought by the merge: its mapping
        (("spec", "x"), (5, 0)),
    ],
)
def test_locate_finds_keys_by_the_string_kubectl_sends(
    path: FieldPath, where: tuple[int, int]
) -> None:
    text = job("j", "base: &b {merged: 1}\nspec:\n  <<: *b\n  1: a\n  y: b\n  0x1f: c\n")
    (document,) = parse_documents("f.yaml", text, [])
    assert locate(document.node, path) == where
