"""Running the cases of policy folders through :func:`webhook.engine.review`.

Each folder's policy is loaded on its own, and each case judged exactly as the webhook
and ``validate`` judge a request. A mistake in ``cases.yaml`` (an unknown key, a wrong
type) is reported as a policy file's is, with ``file:line:column``, the field and a
did-you-mean; it fails its case (or, outside any case, its folder), and every other case
still runs. ``select`` (``test -k TEXT``) runs only the cases whose name contains it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jsonpatch
from pydantic import ValidationError

from webhook.engine import Config, review
from webhook.findings import Action, Decision
from webhook.policy.load import PolicyError, PolicyLoadError, load_policies, validation_errors
from webhook.request import Context
from webhook.testing.cases import (
    CASES_FILE,
    Case,
    CaseFileError,
    CasesFile,
    read_case_document,
    read_case_object,
)
from webhook.testing.results import CaseResult, Results
from webhook.yamlio import Document, locate


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
        obj = read_case_object(tests / case.object)
        old = read_case_object(tests / case.oldObject) if case.oldObject else None
        expected_patched = read_case_object(tests / case.patched) if case.patched else None
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
