"""Read manifests: files, directories and stdin, split into YAML documents.

Each document is parsed on its own (split at ``---`` lines, as kubectl's YAML
reader does), so a syntax error in one never stops the others from being
checked. Parsing keeps the node tree, whose marks give every finding its
``file:line:column``. The loader resolves scalars as kubectl does: YAML 1.1
types, except that timestamps stay strings.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson
import yaml

from webhook.cli.report import InputError

SUFFIXES: Final = (".yaml", ".yml", ".json")
STDIN: Final = "-"


class _Loader(yaml.CSafeLoader):
    """The C safe loader, resolving scalars as kubectl does.

    kubectl's YAML decoder leaves timestamp-looking scalars as strings, and a
    lone ``=`` is just a string; PyYAML would build a ``datetime`` or fail.
    """

    yaml_implicit_resolvers = {  # noqa: RUF012 (PyYAML's own class attribute)
        first: [
            (tag, pattern)
            for tag, pattern in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")
        ]
        for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }


@dataclass(frozen=True, slots=True)
class Document:
    """One parsed document: its data, its node tree, and where it starts."""

    file: str
    data: Any
    node: yaml.Node | None
    """The composed node tree (None for JSON that only a JSON parser could read)."""
    first_line: int
    """0-based line of the file where this document's text starts."""


@dataclass(frozen=True, slots=True)
class Source:
    """The text of one input file (or stdin)."""

    file: str
    text: str


def iter_sources(paths: list[str], errors: list[InputError]) -> Iterator[Source]:
    """Yield the text of every input; unreadable ones are recorded in *errors*."""
    for given in paths:
        if given == STDIN:
            yield Source(STDIN, sys.stdin.read())
            continue
        path = Path(given)
        files = sorted(_walk(path)) if path.is_dir() else [path]
        for file in files:
            try:
                yield Source(str(file), file.read_text(encoding="utf-8"))
            except FileNotFoundError:
                errors.append(InputError(str(file), 0, 0, "no such file or directory"))
            except UnicodeDecodeError as error:
                errors.append(InputError(str(file), 0, 0, f"not UTF-8 text: {error.reason}"))
            except OSError as error:
                errors.append(InputError(str(file), 0, 0, f"cannot read: {error.strerror}"))


def _walk(directory: Path) -> Iterator[Path]:
    """Yield manifest files under *directory*, skipping hidden folders."""
    for root, folders, files in os.walk(directory):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in files:
            if name.endswith(SUFFIXES):
                yield Path(root, name)


def split_documents(text: str) -> Iterator[tuple[int, str]]:
    """Yield ``(first line, text)`` of each ``---``-separated document.

    A line that starts with ``---`` at column 0 is always a document marker in
    YAML, even inside a block scalar, so splitting on it is safe. The marker
    line stays with the document it opens (it may carry content: ``--- {}``).
    """
    lines = text.splitlines(keepends=True)
    start = 0
    for number, line in enumerate(lines):
        if number > start and line.startswith("---") and line[3:4] in ("", " ", "\t", "\n", "\r"):
            yield start, "".join(lines[start:number])
            start = number
    yield start, "".join(lines[start:])


def parse_source(source: Source, errors: list[InputError]) -> Iterator[Document]:
    """Yield the non-empty documents of *source*; syntax errors go to *errors*."""
    if source.file.endswith(".json"):
        yield from _parse_json(source, errors)
        return
    for first_line, chunk in split_documents(source.text):
        document = _parse_yaml(source.file, first_line, chunk, errors)
        if document is not None:
            yield document


def _parse_yaml(file: str, first_line: int, text: str, errors: list[InputError]) -> Document | None:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + first_line + 1, mark.column + 1) if mark else (0, 0)
        problem = " ".join(p for p in (error.context, error.problem) if p)
        errors.append(InputError(file, line, column, f"YAML syntax error: {problem}"))
        return None
    except (yaml.YAMLError, RecursionError, ValueError) as error:
        errors.append(InputError(file, first_line + 1, 1, f"cannot parse YAML: {error}"))
        return None
    finally:
        loader.dispose()
    return Document(file, data, node, first_line)


def _parse_json(source: Source, errors: list[InputError]) -> Iterator[Document]:
    """JSON is YAML, so parse it as YAML for node marks; fall back to a JSON parser.

    The fallback covers JSON that YAML 1.1 reads differently (tabs used as
    indentation); its findings then carry the document's line only.
    """
    yaml_errors: list[InputError] = []
    document = _parse_yaml(source.file, 0, source.text, yaml_errors)
    if document is not None:
        yield document
        return
    if not yaml_errors:
        return
    try:
        data = orjson.loads(source.text)
    except orjson.JSONDecodeError as error:
        errors.append(
            InputError(source.file, error.lineno, error.colno, f"invalid JSON: {error.msg}")
        )
        return
    yield Document(source.file, data, None, 0)
