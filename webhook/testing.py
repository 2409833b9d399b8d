"""The policy test runner: ``trainingjob-guard test DIR``.

A policy folder holds ``policy.yaml`` and ``tests/cases.yaml``; each case
names a manifest in ``tests/`` and what the policy must decide about it::

    cases:
      - name: own bucket is fine
        object: good-own-bucket.yaml
        expect: allow                 # allow (no warnings) | warn | deny
      - name: another team's bucket
        object: bad-other-bucket.yaml
        namespace: team-b             # default: the manifest's namespace, else "default"
        expect: deny
        rules: [tenancy/buckets]      # exactly the rule ids of all findings, in any order
        paths: [spec.outputDataConfig.s3OutputPath]   # exactly their field paths
        messageContains: outside the S3 locations
      - name: defaults fill the KMS key
        object: good-no-kms.yaml
        expect: allow
        patched: good-no-kms-patched.yaml   # the object after the defaults
      - name: metadata-only update
        operation: UPDATE
        oldObject: old.yaml
        object: new.yaml
        userInfo: {username: alice, groups: [ml-admins]}
        namespaceLabels: {env: prod}
        expect: allow

Cases run through :func:`webhook.engine.review` exactly as the webhook and
``validate`` do, with the folder's policy loaded on its own. Case files are
read as ``validate`` reads manifests (:mod:`webhook.yamlio`: the values
kubectl sends, so ``lr: 3e-4`` is a number); each holds one document, and a
file that cannot be read fails its case with ``file:line:column: why``.

A mistake in ``cases.yaml`` (an unknown key, a wrong type) is reported as a
policy file's is, with ``file:line:column``, the field and a did-you-mean; it
fails its case (or, outside any case, its folder), and every other case still
runs. ``select`` (``test -k TEXT``) runs only the cases whose name contains it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jsonpatch
from pydantic import BaseModel, ConfigDict, ValidationError

from webhook.engine import Config, review
from webhook.findings import Action, Decision
from webhook.policy.load import PolicyError, PolicyLoadError, load_policies, validation_errors
from webhook.request import Context, Operation
from webhook.yamlio import Document, YAMLProblem, locate, parse_documents

CASES_FILE = Path("tests") / "cases.yaml"


class CaseFileError(Exception):
    """A case file (or ``tests/cases.yaml``) that cannot be read; the message says where."""


def read_case_file(path: Path) -> Any:
    """The data of the single document in *path*, read as ``validate`` reads a manifest."""
    return read_case_document(path).data


def read_case_document(path: Path) -> Document:
    """The single document in *path* (data and node tree, for positions)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CaseFileError(f"{path}: not UTF-8 text: {error.reason}") from None
    except OSError as error:
        raise CaseFileError(f"{path}: cannot read: {error.strerror}") from None
    problems: list[YAMLProblem] = []
    documents = list(parse_documents(str(path), text, problems))
    if problems:
        raise CaseFileError("; ".join(_where(path, problem) for problem in problems))
    if len(documents) != 1:
        raise CaseFileError(f"{path}: holds {len(documents)} documents, not one")
    return documents[0]


def _read_object(path: Path) -> dict[str, Any]:
    """The object (a mapping) a case names in *path*."""
    data = read_case_file(path)
    if not isinstance(data, dict):
        raise CaseFileError(f"{path}: holds {type(data).__name__} data, not an object")
    return data


def _where(path: Path, problem: YAMLProblem) -> str:
    line, column, message = problem
    return f"{path}:{line}:{column}: {message}" if line else f"{path}: {message}"


class UserInfo(BaseModel):
    """The requesting user of a case."""

    model_config = ConfigDict(extra="forbid")
    username: str | None = None
    groups: list[str] = []


class Case(BaseModel):
    """One test case of a policy folder."""

    model_config = ConfigDict(extra="forbid")
    name: str
    object: str
    expect: Literal["allow", "warn", "deny"]
    operation: Operation = "CREATE"
    oldObject: str | None = None
    namespace: str | None = None
    namespaceLabels: dict[str, str] | None = None
    userInfo: UserInfo = UserInfo()
    rules: list[str] | None = None
    paths: list[str] | None = None
    messageContains: str | None = None
    patched: str | None = None


class CasesFile(BaseModel):
    """``tests/cases.yaml``."""

    model_config = ConfigDict(extra="forbid")
    cases: list[Case]


@dataclass(slots=True)
class CaseResult:
    """The outcome of one case (or of a folder that could not run)."""

    folder: str
    name: str
    """The case's name; empty for a problem of the whole folder."""
    problems: list[str] = field(default_factory=list)
    file: str = ""
    """Where to look: ``cases.yaml`` (at the case, or at the mistake), the policy file."""
    line: int = 0
    """1-based; 0 when unknown."""
    column: int = 0
    seconds: float = 0.0
    """How long the case took to run."""
    error: bool = False
    """True when the case could not run (an unreadable or invalid file), not a mismatch."""

    @property
    def passed(self) -> bool:
        """True when the policy decided as the case expects."""
        return not self.problems


@dataclass(slots=True)
class Results:
    """Every case of every folder."""

    cases: list[CaseResult] = field(default_factory=list)
    deselected: int = 0
    """Cases left out because their name does not contain ``select``."""

    @property
    def passed(self) -> bool:
        """True when every case passed (and there was at least one)."""
        return bool(self.cases) and all(case.passed for case in self.cases)

    @property
    def failed(self) -> int:
        """How many cases (and folders) failed."""
        return sum(1 for case in self.cases if not case.passed)


def discover(paths: Sequence[str | Path]) -> list[Path]:
    """Policy folders (holding ``policy.yaml``) at or under *paths*."""
    folders: set[Path] = set()
    for given in paths:
        path = Path(given)
        if (path / "policy.yaml").is_file():
            folders.add(path)
        elif path.is_dir():
            folders.update(p.parent for p in path.rglob("policy.yaml") if "tests" not in p.parts)
    return sorted(folders)


def run(paths: Sequence[str | Path], *, select: str | None = None) -> Results:
    """Run every case of every policy folder under *paths*.

    Args:
        paths: Policy folders, or folders to search for them.
        select: Run only the cases whose name contains this (ignoring case);
            a folder's own problems (policy does not load, no cases) still count.

    Returns:
        Each case's result (and each folder problem's), in folder and case order.
    """
    results = Results()
    folders = discover(paths)
    given = ", ".join(map(str, paths))
    if not folders:
        results.cases.append(CaseResult(given, "", ["no policy folder"], error=True))
    for folder in folders:
        _run_folder(folder, select, results)
    if select is not None and not results.cases:
        message = f"no case name contains {select!r}"
        results.cases.append(CaseResult(given, "", [message], error=True))
    return results


def _selected(name: str, select: str | None) -> bool:
    return select is None or select.casefold() in name.casefold()


def _run_folder(folder: Path, select: str | None, results: Results) -> None:
    """Run the selected cases of one policy folder into *results*."""
    name = str(folder)
    cases_file = folder / CASES_FILE
    if not cases_file.is_file():
        problem = f"no {CASES_FILE}: every policy needs test cases"
        results.cases.append(CaseResult(name, "", [problem], str(folder), error=True))
        return
    try:
        policies = load_policies([folder / "policy.yaml"])
    except PolicyLoadError as failure:
        result = _failed(name, "", failure.errors)
        result.problems = [f"policy does not load: {problem}" for problem in result.problems]
        results.cases.append(result)
        return
    try:
        document = read_case_document(cases_file)
    except CaseFileError as failure:
        results.cases.append(CaseResult(name, "", [str(failure)], str(cases_file), error=True))
        return
    config = Config(policies=policies)
    for index, case in _cases(folder, document, results):
        if not _selected(case.name, select):
            results.deselected += 1
            continue
        if isinstance(case, _InvalidCase):
            results.cases.append(case.result)
            continue
        started = time.perf_counter()
        result = _run_case(folder, case, config)
        result.seconds = time.perf_counter() - started
        result.file = document.file
        result.line, result.column = _position(document, ("cases", index))
        results.cases.append(result)


def _cases(
    folder: Path, document: Document, results: Results
) -> list[tuple[int, Case | _InvalidCase]]:
    """The cases of *document* with their index: valid, or failed with their mistakes.

    A problem outside any case (``cases`` missing or not a list, an unknown
    top-level key) fails the folder; the valid cases still run.
    """
    name = str(folder)
    data = document.data
    if not isinstance(data, dict):
        mistake = _mistake(document, (), "", "must be a mapping with a list of cases")
        results.cases.append(_failed(name, "", [mistake]))
        return []
    by_case: dict[int, list[PolicyError]] = {}
    outside: list[PolicyError] = []
    try:
        CasesFile.model_validate(data)
    except ValidationError as failure:
        problems = validation_errors(document, failure, CasesFile)
        for problem, item in zip(problems, failure.errors(include_url=False), strict=True):
            loc = item["loc"]
            if len(loc) > 1 and loc[0] == "cases" and isinstance(loc[1], int):
                by_case.setdefault(loc[1], []).append(problem)
            else:
                outside.append(problem)
    if outside:
        results.cases.append(_failed(name, "", outside))
    raw_cases = data.get("cases")
    if not isinstance(raw_cases, list):
        return []
    if not raw_cases:
        mistake = _mistake(document, ("cases",), "cases", "empty: every policy needs test cases")
        results.cases.append(_failed(name, "", [mistake]))
    found: list[tuple[int, Case | _InvalidCase]] = []
    for index, raw in enumerate(raw_cases):
        mistakes = by_case.get(index)
        if mistakes is None:
            found.append((index, Case.model_validate(raw)))
            continue
        given = raw.get("name") if isinstance(raw, dict) else None
        label = given if isinstance(given, str) and given else f"cases[{index}]"
        found.append((index, _InvalidCase(label, _failed(name, label, mistakes))))
    return found


@dataclass(frozen=True, slots=True)
class _InvalidCase:
    """A case of ``cases.yaml`` that does not validate: it fails, with the mistakes."""

    name: str
    result: CaseResult


def _failed(folder: str, name: str, mistakes: list[PolicyError]) -> CaseResult:
    """A case (or folder) that cannot run for *mistakes*, placed at the first one."""
    first = mistakes[0]
    problems = [str(mistake) for mistake in mistakes]
    return CaseResult(folder, name, problems, first.file, first.line, first.column, error=True)


def _mistake(
    document: Document, path: tuple[str | int, ...], field: str, message: str
) -> PolicyError:
    return PolicyError(document.file, *_position(document, path), field, message)


def _position(document: Document, path: tuple[str | int, ...]) -> tuple[int, int]:
    """1-based line and column of *path* in *document* (0, 0 when unknown)."""
    line, column = locate(document.node, path)
    return (line + document.first_line + 1, column + 1) if line >= 0 else (0, 0)


def _run_case(folder: Path, case: Case, config: Config) -> CaseResult:
    result = CaseResult(str(folder), case.name)
    tests = folder / "tests"
    try:
        obj = _read_object(tests / case.object)
        old = _read_object(tests / case.oldObject) if case.oldObject else None
        expected_patched = _read_object(tests / case.patched) if case.patched else None
    except CaseFileError as error:
        result.problems.append(f"cannot read a case file: {error}")
        result.error = True
        return result
    metadata = obj.get("metadata")
    own_namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    namespace = case.namespace or own_namespace or "default"
    context = Context(
        case.operation,
        namespace=namespace,
        user=case.userInfo.username,
        groups=tuple(case.userInfo.groups),
        namespace_labels=case.namespaceLabels,
    )
    decision = review(obj, old=old, context=context, config=config)
    result.problems.extend(_compare(case, decision))
    if expected_patched is not None:
        patched = jsonpatch.apply_patch(obj, list(decision.patch)) if decision.patch else obj
        if patched != expected_patched:
            result.problems.append(
                f"patched object differs from {case.patched}: the patch was {list(decision.patch)}"
            )
    return result


def _compare(case: Case, decision: Decision) -> list[str]:
    problems = []
    warned = any(f.action is Action.WARN for f in decision.findings)
    outcome = "deny" if not decision.allowed else ("warn" if warned else "allow")
    if outcome != case.expect:
        problems.append(f"expected {case.expect}, got {outcome}{_summary(decision)}")
    if case.rules is not None:
        fired = sorted({f.rule for f in decision.findings})
        if fired != sorted(set(case.rules)):
            problems.append(f"expected rules {sorted(set(case.rules))}, got {fired}")
    if case.paths is not None:
        where = sorted({f.where for f in decision.findings})
        if where != sorted(set(case.paths)):
            problems.append(f"expected paths {sorted(set(case.paths))}, got {where}")
    if case.messageContains is not None and not any(
        case.messageContains in f.message for f in decision.findings
    ):
        problems.append(f"no message contains {case.messageContains!r}{_summary(decision)}")
    return problems


def _summary(decision: Decision) -> str:
    if not decision.findings:
        return ""
    lines = "".join(
        f"\n      {f.action.value} {f.rule} {f.where}: {f.message}" for f in decision.findings
    )
    count = len(decision.findings)
    return f"; {count} finding{'' if count == 1 else 's'}:{lines}"


def label(case: CaseResult) -> str:
    """``FOLDER: NAME``, or ``FOLDER`` for a problem of the whole folder."""
    return f"{case.folder}: {case.name}" if case.name else case.folder


def summary(results: Results) -> str:
    """``N passed, N failed``, then ``, N deselected`` when ``select`` left cases out."""
    failed = results.failed
    line = f"{len(results.cases) - failed} passed, {failed} failed"
    return f"{line}, {results.deselected} deselected" if results.deselected else line


def render(results: Results) -> str:
    """Text report: one line per case, details under failures, then a summary."""
    lines = []
    for case in results.cases:
        status = "PASS" if case.passed else "FAIL"
        lines.append(f"{status} {label(case)}")
        lines.extend(f"    {problem}" for problem in case.problems)
    lines.append("")
    lines.append(summary(results))
    return "\n".join(lines) + "\n"
