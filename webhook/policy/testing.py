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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jsonpatch
from pydantic import BaseModel, ConfigDict, ValidationError

from webhook.engine import Config, review
from webhook.findings import Action, Decision
from webhook.policy.load import PolicyLoadError, load_policies
from webhook.request import Context, Operation
from webhook.yamlio import YAMLProblem, parse_documents

CASES_FILE = Path("tests") / "cases.yaml"


class CaseFileError(Exception):
    """A case file (or ``tests/cases.yaml``) that cannot be read; the message says where."""


def read_case_file(path: Path) -> Any:
    """The data of the single document in *path*, read as ``validate`` reads a manifest."""
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
    return documents[0].data


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
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when the policy decided as the case expects."""
        return not self.problems


@dataclass(slots=True)
class Results:
    """Every case of every folder."""

    cases: list[CaseResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every case passed (and there was at least one)."""
        return bool(self.cases) and all(case.passed for case in self.cases)


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


def run(paths: Sequence[str | Path]) -> Results:
    """Run every case of every policy folder under *paths*."""
    results = Results()
    folders = discover(paths)
    if not folders:
        results.cases.append(CaseResult(", ".join(map(str, paths)), "", ["no policy folder"]))
    for folder in folders:
        results.cases.extend(run_folder(folder))
    return results


def run_folder(folder: Path) -> list[CaseResult]:
    """Run the cases of one policy folder."""
    name = str(folder)
    cases_file = folder / CASES_FILE
    if not cases_file.is_file():
        return [CaseResult(name, "", [f"no {CASES_FILE}: every policy needs test cases"])]
    try:
        policies = load_policies([folder / "policy.yaml"])
    except PolicyLoadError as error:
        return [CaseResult(name, "", [f"policy does not load: {e}" for e in error.errors])]
    try:
        cases = CasesFile.model_validate(read_case_file(cases_file))
    except CaseFileError as error:
        return [CaseResult(name, "", [str(error)])]
    except ValidationError as error:
        return [CaseResult(name, "", [f"{cases_file}: {error}"])]
    if not cases.cases:
        return [CaseResult(name, "", [f"{cases_file} has no cases"])]
    config = Config(policies=policies)
    return [_run_case(folder, case, config) for case in cases.cases]


def _run_case(folder: Path, case: Case, config: Config) -> CaseResult:
    result = CaseResult(str(folder), case.name)
    tests = folder / "tests"
    try:
        obj = _read_object(tests / case.object)
        old = _read_object(tests / case.oldObject) if case.oldObject else None
        expected_patched = _read_object(tests / case.patched) if case.patched else None
    except CaseFileError as error:
        result.problems.append(f"cannot read a case file: {error}")
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
    return f"; findings:{lines}"


def render(results: Results) -> str:
    """Text report: one line per case, details under failures, then a summary."""
    lines = []
    for case in results.cases:
        status = "PASS" if case.passed else "FAIL"
        label = f"{case.folder}: {case.name}" if case.name else case.folder
        lines.append(f"{status} {label}")
        lines.extend(f"    {problem}" for problem in case.problems)
    failed = sum(1 for case in results.cases if not case.passed)
    passed = len(results.cases) - failed
    lines.append("")
    lines.append(f"{passed} passed, {failed} failed")
    return "\n".join(lines) + "\n"
