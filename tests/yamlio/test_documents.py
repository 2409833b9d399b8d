"""Whole files read as kubectl sends them: structures, keys, merges, anchors, documents.

Each case is a file; its documents are named NAME (numbered per file). Where
kubectl sends objects, we read the same objects; where it refuses the file, we
refuse at least one of its documents. Cases kubectl reads but readers disagree
about are refused on purpose: see ``test_refusals.py``.
"""

from __future__ import annotations

import itertools

import pytest

from tests.yamlio.conftest import HEADER, Kubectl, Sent, read, typed

HEAD = HEADER + "metadata:\n  name: NAME\n"

CASES: dict[str, str] = {
    "nested": HEAD + "spec:\n  a:\n    b:\n      c: [1, {d: e}]\n  f: []\n  g: {}\n",
    "lists": HEAD + "spec:\n  l:\n  - 1\n  -\n  - - a\n    - b\n  - {x: 1}\n  - ''\n",
    "flow": HEAD + "spec: {a: 1, b: [y, n, 1.0], c: {d: ~}, 'e f': \"g\"}\n",
    "empty-values": HEAD + "spec:\n  a:\n  b: ''\n  c: \"\"\n  d: ~\n  e: []\n",
    "non-string-keys": HEAD
    + "spec:\n  1: a\n  true: b\n  1.5: c\n  0x1f: d\n  1e3: e\n  n: f\n  -0.0: g\n",
    "complex-key": HEAD + "spec:\n  ? |\n    ab\n  : v\n",
    "null-key": HEAD + "spec:\n  null: v\n",
    "list-key": HEAD + "spec:\n  [a]: v\n",
    "merge-first": HEAD + "base: &b {a: 1, b: 2}\nspec:\n  <<: *b\n  a: 0\n",
    "merge-list": HEAD + "x: &x {a: 1, b: 1}\nz: &z {a: 2, c: 2}\nspec:\n  <<: [*x, *z]\n",
    "merge-inline": HEAD + "spec:\n  <<: {a: 1, <<: {b: 2}}\n  c: 3\n",
    "merge-nested": HEAD + "b: &b {a: 1}\nspec:\n  <<: [*b, {<<: *b, a: 2}]\n",
    "merge-quoted-key": HEAD + 'spec:\n  "<<": {a: 1}\n',
    "merge-tagged-key": HEAD + 'spec:\n  !!merge "<<": {a: 1}\n',
    "merge-of-scalar": HEAD + "spec:\n  <<: 1\n",
    "merge-of-null": HEAD + "spec:\n  <<: ~\n",
    "merge-of-scalar-list": HEAD + "spec:\n  <<: [1]\n",
    "anchors": HEAD + "spec:\n  a: &a {x: [1, 2]}\n  b: *a\n  c: &c 3\n  d: *c\n",
    "anchor-redefined": HEAD + "spec:\n  a: &x 1\n  b: &x 2\n  c: *x\n",
    "alias-key": HEAD + "spec:\n  a: &k key\n  *k : v\n",
    "alias-cycle": HEAD + "spec: &a [*a]\n",
    "alias-cycle-in-merge": HEAD + "spec:\n  <<: &a {b: *a}\n",
    "alias-undefined": HEAD + "spec:\n  a: *nowhere\n",
    "block-scalars": HEAD
    + "spec:\n  a: |\n    x\n    y\n  b: >\n    x\n    y\n\n    z\n  c: |-\n    x\n  d: |+\n"
    + "    x\n\n  e: >-\n    a\n     b\n    c\n  f: |2\n     indented\n  g: >+\n    k\n\n",
    "plain-multiline": HEAD + "spec:\n  a: one\n    two\n\n    three\n  b: 'it''s'\n",
    "escapes": HEAD + 'spec:\n  a: "\\u00e9\\x41\\t\\n\\\\"\n  b: "é ✓ 😀"\n  c: \'"\'\n',
    "comments": HEAD + "# top\nspec: # after\n  a: 1 # one\n  # alone\n  b: '#not'\n",
    "unicode-escape-invalid": HEAD + 'spec:\n  a: "\\ud800"\n',
    "syntax-error": HEAD + "spec:\n  a: [1\n",
    "tab-indent": HEAD + "spec:\n\ta: 1\n",
    "multi": HEAD + "spec: {a: 1}\n---\n" + HEAD + "spec: {a: 2}\n",
    "multi-marker-first": "---\n" + HEAD + "spec: {a: 1}\n--- # two\n" + HEAD + "spec: {a: 2}\n",
    "multi-empty": HEAD + "spec: {a: 1}\n---\n---\n# nothing\n---\n" + HEAD + "spec: {}\n...\n",
    "multi-one-bad": HEAD + "spec: {a: .inf}\n---\n" + HEAD + "spec: {a: 2}\n",
    "marker-with-content": HEAD
    + "spec: {a: 1}\n--- {apiVersion: v1, kind: K, metadata: {name: x}}\n",
    "marker-glued": HEAD + "spec: {a: 1}\n---x\n" + HEAD,
    "directive": "%YAML 1.1\n---\n" + HEAD + "spec: {a: 1}\n",
    "crlf": (
        HEAD
        + "spec:\n  a: |\n    x\n    y\n  b: >\n    x\n    y\n  c: 'q\n    r'\n---\n"
        + HEAD
        + "spec: {d: 1.0}\n"
    ).replace("\n", "\r\n"),
    "bom": "\ufeff" + HEAD + "spec: {a: 1}\n",
    "deep": HEAD
    + "spec:\n"
    + "".join(f"{'  ' * n}l{n}:\n" for n in range(1, 40))
    + "  " * 40
    + "x\n",
}


def _named(case: str, text: str) -> str:
    counter = itertools.count()
    parts = text.split("NAME")
    return parts[0] + "".join(f"{case}--{next(counter)}{part}" for part in parts[1:])


FILES = {case: _named(case, text) for case, text in CASES.items()}


@pytest.fixture(scope="module")
def sent(kubectl: Kubectl) -> dict[str, Sent]:
    return kubectl.send("documents", FILES)


@pytest.mark.parametrize("case", CASES)
def test_file_reads_as_kubectl_sends_it(case: str, sent: dict[str, Sent]) -> None:
    ours, problems = read(FILES[case])
    theirs = sent[case]
    if theirs.refusal is not None:
        assert problems, f"kubectl refuses it ({theirs.refusal}); we read {ours}"
    else:
        assert problems == []
        assert typed(ours) == typed(theirs.documents)
