"""Load policy files: YAML in, a compiled :class:`PolicySet` out, or errors with positions.

Paths may be files or directories (searched recursively for ``*.yaml`` and
``*.yml``, skipping hidden folders and folders named ``tests``, which hold a
policy's test cases). Every document must be a ``TrainingJobPolicy``. Each
error names the file, line, column and field, and says what is allowed;
loading reports all errors it finds, not only the first.
"""

from __future__ import annotations

import functools
import os
import re
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from webhook.catalog import RULES
from webhook.findings import Action
from webhook.introspect import is_model, unwrap
from webhook.policy.compiled import CompiledPolicy, PolicySet, compile_policy
from webhook.policy.model import PolicyDocument
from webhook.policy.rules import PolicyConfigError, format_field
from webhook.text import did_you_mean, suggestion
from webhook.yamlio import Document, YAMLProblem, locate, parse_documents

SUFFIXES: Final = (".yaml", ".yml")
SKIPPED_FOLDERS: Final = frozenset({"tests"})


@dataclass(frozen=True, slots=True)
class PolicyError:
    """A problem in a policy file, with its position (1-based; 0 if unknown)."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class PolicyLoadError(Exception):
    """Policies could not be loaded; :attr:`errors` says where and why."""

    def __init__(self, errors: list[PolicyError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """A validated policy document and where it came from."""

    document: PolicyDocument
    source: Document


def bundled_policy_dir() -> Path:
    """The policy library shipped with the package (``policies/`` of the project)."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "policies"
    return installed if installed.is_dir() else package.parent / "policies"


def baseline_policy() -> Path:
    """The bundled baseline organisation policy."""
    return bundled_policy_dir() / "baseline" / "policy.yaml"


BASELINE: Final = "baseline"
"""What ``--policy`` takes as the name of the bundled baseline (``./baseline`` is a path)."""


def policy_sources(paths: Sequence[str | Path], *, baseline: bool = True) -> list[str | Path]:
    """The policy paths a command loads: the CLI and the webhook's one rule.

    The bundled baseline comes first unless *baseline* is False (``--no-baseline``,
    the chart's ``policies.includeBaseline: false``), then *paths*, where
    ``baseline`` names the bundled one. So ``validate --policy my-policies/`` in CI
    checks with what the chart's webhook loads, baseline included.
    """
    named = [baseline_policy() if str(path) == BASELINE else path for path in paths]
    return [baseline_policy(), *named] if baseline else named


def policy_files(paths: Sequence[str | Path]) -> Iterator[Path]:
    """Yield the policy files named by *paths* (files, or directories searched).

    A file named twice (``--policy policies/`` and the baseline included by
    default, say) is read once: the first time it comes.
    """
    seen: set[str] = set()
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            found = [path]
        else:
            found = []
            for root, folders, files in os.walk(path):
                folders[:] = [
                    f for f in folders if not f.startswith(".") and f not in SKIPPED_FOLDERS
                ]
                found.extend(Path(root, name) for name in files if name.endswith(SUFFIXES))
            found.sort()
        for file in found:
            real = os.path.realpath(file)
            if real not in seen:
                seen.add(real)
                yield file


def read_documents(paths: Sequence[str | Path]) -> tuple[list[LoadedDocument], list[PolicyError]]:
    """Parse and validate every policy document in *paths* (no compiling)."""
    loaded: list[LoadedDocument] = []
    errors: list[PolicyError] = []
    for file in policy_files(paths):
        name = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            errors.append(PolicyError(name, 0, 0, "", f"cannot read: {error}"))
            continue
        problems: list[YAMLProblem] = []
        for document in parse_documents(name, text, problems):
            validated = _validate(document, errors)
            if validated is not None:
                loaded.append(LoadedDocument(validated, document))
        errors.extend(PolicyError(name, p.line, p.column, "", p.message) for p in problems)
    return loaded, errors


def load_document(data: Any, source: str = "") -> CompiledPolicy:
    """Validate and compile one policy given as data, not as a file (an object of the API).

    Raise PolicyLoadError with the same field paths, messages and did-you-mean
    as for a file, without positions: each error's ``line`` is 0 and its
    ``file`` is *source* (``trainingjobpolicy/<name>``, say).
    """
    document = Document(source, data, None, 0)
    errors: list[PolicyError] = []
    validated = _validate(document, errors)
    if validated is None:
        raise PolicyLoadError(errors)
    try:
        return compile_policy(validated, source)
    except PolicyConfigError as failure:
        raise PolicyLoadError(
            [_error(document, e.path, e.message, on_key=e.on_key) for e in failure.errors]
        ) from None


def load_policies(paths: Sequence[str | Path]) -> PolicySet:
    """Load, validate and compile the policies in *paths*; raise PolicyLoadError on any error."""
    loaded, errors = read_documents(paths)
    compiled: list[CompiledPolicy] = []
    seen: dict[str, LoadedDocument] = {}
    for item in loaded:
        document = item.document
        first = seen.get(document.id)
        if first is not None:
            errors.append(
                _error(
                    item.source,
                    ("id",),
                    f'policy id "{document.id}" is also used in '
                    f"{describe_source(first.source.file)}; ids must be unique",
                    on_key=False,
                )
            )
            continue
        seen[document.id] = item
        try:
            compiled.append(compile_policy(document, item.source.file))
        except PolicyConfigError as failure:
            errors.extend(
                _error(item.source, error.path, error.message, on_key=error.on_key)
                for error in failure.errors
            )
    if errors:
        raise PolicyLoadError(errors)
    return PolicySet.of(compiled)


def describe_source(file: str) -> str:
    """*file*, said to be the bundled baseline when it is (with how to leave it out)."""
    if os.path.realpath(file) == os.path.realpath(baseline_policy()):
        return f"{file}, the bundled baseline (included unless --no-baseline)"
    return file


def _validate(document: Document, errors: list[PolicyError]) -> PolicyDocument | None:
    data = document.data
    if not isinstance(data, dict):
        errors.append(_error(document, (), "a policy document must be a mapping"))
        return None
    try:
        validated = PolicyDocument.model_validate(data)
    except ValidationError as error:
        errors.extend(validation_errors(document, error))
        return None
    name = validated.metadata.name
    if name is not None and name != validated.id:
        # One name per policy: the id, which findings carry (see webhook.policy.model).
        message = (
            f'"{name}" is not the policy\'s id "{validated.id}", its name in findings '
            f'("{validated.id}/<rule id>"): set metadata.name to "{validated.id}" or leave it out'
        )
        errors.append(_error(document, ("metadata", "name"), message))
        return None
    return validated


def validation_errors(
    document: Document, error: ValidationError, model: type[BaseModel] = PolicyDocument
) -> list[PolicyError]:
    """Pydantic's errors for *document*, validated as *model*, as readable positioned errors.

    Each names the file, line, column and field; an unknown field gets a
    did-you-mean from *model*'s fields at that place. The policy test runner
    reports ``tests/cases.yaml`` errors through this too.
    """
    return [_pydantic_error(document, item, model) for item in error.errors(include_url=False)]


def _pydantic_error(document: Document, error: Any, model: type[BaseModel]) -> PolicyError:
    raw = tuple(error["loc"])
    loc = _without_tags(raw)
    kind = error["type"]
    if kind == "extra_forbidden":
        name = str(loc[-1])
        near = did_you_mean(name, sorted(_fields_at(model, raw[:-1])), limit=1)
        return _error(document, loc, f'unknown field "{name}"{suggestion(near)}', on_key=True)
    if kind == "missing":
        return _error(document, loc, "required field is missing")
    if kind == "union_tag_not_found":
        allowed = ", ".join(sorted(_rule_kinds()))
        return _error(document, loc, f"kind is missing; one of: {allowed}")
    if kind == "union_tag_invalid":
        given = str(error.get("ctx", {}).get("tag", ""))
        hint = suggestion(did_you_mean(given, sorted(_rule_kinds()), limit=1))
        allowed = ", ".join(sorted(_rule_kinds()))
        return _error(
            document, (*loc, "kind"), f'unknown rule kind "{given}"{hint}; one of: {allowed}'
        )
    message = str(error["msg"])
    message = re.sub(r"^Input should be", "must be", message)
    return _error(document, loc, message)


def _error(
    document: Document, path: tuple[str | int, ...], message: str, *, on_key: bool = False
) -> PolicyError:
    line, column = locate(document.node, path, on_key=on_key)
    offset = document.first_line
    position = (line + offset + 1, column + 1) if line >= 0 else (0, 0)
    return PolicyError(document.file, *position, format_field(path), message)


@functools.cache
def _rule_kinds() -> frozenset[str]:
    rule = unwrap(typing.get_args(PolicyDocument.model_fields["rules"].annotation)[0])
    return frozenset(
        typing.get_args(member.model_fields["kind"].annotation)[0]
        for member in typing.get_args(rule)
        if is_model(member)
    )


def _without_tags(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Drop the discriminator tag pydantic puts in the location of a rule's error."""
    out: list[str | int] = []
    for index, step in enumerate(loc):
        if (
            index >= 2
            and loc[index - 2] == "rules"
            and isinstance(loc[index - 1], int)
            and step in _rule_kinds()
        ):
            continue
        out.append(step)
    return tuple(out)


def _fields_at(model: type[BaseModel], loc: Sequence[str | int]) -> set[str]:
    """The field names of the model found at *loc* (for did-you-mean)."""
    current: Any = model
    for step in loc:
        current = _descend(current, step)
        if current is None:
            return set()
    return set(current.model_fields) if is_model(current) else set()


def _descend(annotation: Any, step: str | int) -> Any:
    annotation = unwrap(annotation)
    if is_model(annotation):
        field = annotation.model_fields.get(step) if isinstance(step, str) else None
        return unwrap(field.annotation) if field else None
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is list and isinstance(step, int):
        return unwrap(arguments[0])
    if origin is dict and isinstance(step, str):
        return unwrap(arguments[1])
    if origin in (typing.Union, types.UnionType):
        models = [a for a in arguments if is_model(a)]
        for member in models:
            kind = member.model_fields.get("kind")
            if kind is not None and step in typing.get_args(kind.annotation):
                return member
        return _descend(models[0], step) if len(models) == 1 else None
    return None


def unknown_rule_actions(actions: Mapping[str, Action], policies: PolicySet) -> list[PolicyError]:
    """The ``--rule-action`` entries that name no rule: built-in or of a loaded policy.

    An action for a rule that does not exist would change nothing, silently:
    a typo in CI or in the chart's ``ruleActions`` must be an error instead.
    """
    known = sorted({*RULES, *policies.rule_ids})
    return [
        PolicyError(
            "--rule-action",
            0,
            0,
            "",
            f"no rule {rule!r} among the built-in rules and the loaded policies' rules"
            f"{suggestion(did_you_mean(rule, known, limit=1))}",
        )
        for rule in actions
        if rule not in known
    ]
