"""``tests/cases.yaml`` and the files its cases name: the format, and how they are read.

Case files are read as ``validate`` reads manifests (:mod:`webhook.yamlio`: the values
kubectl sends, so ``lr: 3e-4`` is a number); each holds one document, and a file that
cannot be read raises :class:`CaseFileError` saying ``file:line:column: why``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from webhook.request import Operation
from webhook.yamlio import Document, YAMLProblem, parse_documents

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


def read_case_object(path: Path) -> dict[str, Any]:
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
