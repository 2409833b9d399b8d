"""Files into documents: split where kubectl splits them, each parsed on its own.

Every line that starts with ``---`` opens a document, even inside a block
scalar, as in kubectl; text after the marker (``--- {}``) is refused, as
kubectl refuses it. Each document is parsed on its own, so an error in one
never stops the others, and every problem is recorded with its line and
column in the file, never raised.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from yaml._yaml import CParser

from webhook.yamlio.build import Builder
from webhook.yamlio.compose import compose
from webhook.yamlio.problems import RefusedError, UnreadableError, YAMLProblem


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

    Like kubectl, every line that starts with ``---`` opens a document, even
    inside a block scalar; the marker line stays with the document it opens.
    """
    lines = text.split("\n")
    start = 0
    for number, line in enumerate(lines):
        if number > start and line.startswith("---"):
            yield start, "\n".join(lines[start:number]) + "\n"
            start = number
    yield start, "\n".join(lines[start:])


def read_document(file: str, first_line: int, text: str) -> Document | None:
    """Parse one document (None if *text* holds none); raise :class:`UnreadableError`."""
    parser = CParser(text)
    try:
        node = compose(parser)
        if node is None:
            return None
        data = Builder(first_line).value(node)
    except RefusedError as refusal:
        problem = _problem(refusal.mark, first_line, refusal.message)
        raise UnreadableError(problem, syntax=False) from None
    except yaml.MarkedYAMLError as error:
        reason = " ".join(p for p in (error.context, error.problem) if p)
        mark = error.problem_mark or error.context_mark
        problem = _problem(mark, first_line, f"YAML syntax error: {reason}")
        raise UnreadableError(problem, syntax=True) from None
    except yaml.YAMLError as error:
        problem = YAMLProblem(first_line + 1, 1, f"cannot parse YAML: {error}")
        raise UnreadableError(problem, syntax=True) from None
    except (RecursionError, ValueError) as error:
        problem = YAMLProblem(first_line + 1, 1, f"cannot parse YAML: {error}")
        raise UnreadableError(problem, syntax=False) from None
    finally:
        parser.dispose()
    return Document(file, data, node, first_line)


def parse_document(
    file: str, first_line: int, text: str, problems: list[YAMLProblem]
) -> Document | None:
    """Parse one document; record why it cannot be read in *problems* and return None."""
    try:
        return read_document(file, first_line, text)
    except UnreadableError as error:
        problems.append(error.problem)
        return None


def parse_documents(file: str, text: str, problems: list[YAMLProblem]) -> Iterator[Document]:
    """Yield the non-empty documents of *text*; what cannot be read goes to *problems*."""
    for first_line, chunk in split_documents(text):
        after = chunk.split("\n", 1)[0][3:].strip() if chunk.startswith("---") else ""
        if after and not after.startswith("#"):
            message = (
                f'text after the document marker "---": kubectl refuses it ("invalid Yaml'
                f' document separator: {after}"); start the document on the next line'
            )
            problems.append(YAMLProblem(first_line + 1, 4, message))
            continue
        document = parse_document(file, first_line, chunk, problems)
        if document is not None:
            yield document


def _problem(mark: yaml.Mark | None, first_line: int, message: str) -> YAMLProblem:
    """A problem at *mark* (0-based, in the document), or at no known place."""
    if mark is None:
        return YAMLProblem(0, 0, message)
    return YAMLProblem(mark.line + first_line + 1, mark.column + 1, message)
