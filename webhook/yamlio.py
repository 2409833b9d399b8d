"""YAML as kubectl reads it, keeping node marks for file:line:column.

Each ``---``-separated document is parsed on its own, so a syntax error in one
never stops the others. The loader resolves scalars as kubectl does: YAML 1.1
types, except that timestamps stay strings. :func:`locate` turns a field path
into the line and column of its node.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import yaml

from webhook.paths import Path


class YAMLProblem(NamedTuple):
    """A document that could not be parsed: where (1-based; 0 if unknown) and why."""

    line: int
    column: int
    message: str


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


def parse_document(
    file: str, first_line: int, text: str, problems: list[YAMLProblem]
) -> Document | None:
    """Parse one document; record a syntax error in *problems* and return None."""
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
        problems.append(YAMLProblem(line, column, f"YAML syntax error: {problem}"))
        return None
    except (yaml.YAMLError, RecursionError, ValueError) as error:
        problems.append(YAMLProblem(first_line + 1, 1, f"cannot parse YAML: {error}"))
        return None
    finally:
        loader.dispose()
    return Document(file, data, node, first_line)


def parse_documents(file: str, text: str, problems: list[YAMLProblem]) -> Iterator[Document]:
    """Yield the non-empty documents of *text*; syntax errors go to *problems*."""
    for first_line, chunk in split_documents(text):
        document = parse_document(file, first_line, chunk, problems)
        if document is not None:
            yield document


def locate(node: yaml.Node | None, path: Path, *, on_key: bool = False) -> tuple[int, int]:
    """Return the 0-based ``(line, column)`` of *path* under *node*.

    *on_key* points at the mapping key rather than its value (for unknown
    fields and bad map keys). A path that leaves the tree (a missing required
    field) points at the deepest node that exists: the block to add it to.
    Returns ``(-1, -1)`` when there is no tree.
    """
    if node is None:
        return -1, -1
    current, anchor = node, node
    for index, step in enumerate(path):
        if isinstance(current, yaml.MappingNode) and isinstance(step, str):
            pair = _find_key(current, step)
            if pair is None:
                break
            key, current = pair
            # A block (map or list) is shown at its key's line, where it starts to a reader.
            last = index == len(path) - 1
            anchor = key if (last and on_key) or _is_block(current) else current
        elif isinstance(current, yaml.SequenceNode) and isinstance(step, int):
            if not 0 <= step < len(current.value):
                break
            current = anchor = current.value[step]
        else:
            break
    mark = anchor.start_mark
    return mark.line, mark.column


def _is_block(node: yaml.Node) -> bool:
    return isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style


def _find_key(node: yaml.MappingNode, name: str) -> tuple[yaml.Node, yaml.Node] | None:
    found = None
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            found = (key, value)  # the last one wins, as in the parsed data
    return found
