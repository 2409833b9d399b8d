"""Read manifests: files, directories and stdin, as parsed documents.

Parsing (per document, with node marks) is :mod:`webhook.yamlio`'s; this
module finds the files and turns read and parse problems into input errors.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from webhook.cli.report import InputError
from webhook.yamlio import Document, YAMLProblem, parse_documents, parse_json_document

SUFFIXES: Final = (".yaml", ".yml", ".json")
STDIN: Final = "-"


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


def parse_source(source: Source, errors: list[InputError]) -> Iterator[Document]:
    """Yield the non-empty documents of *source*; what cannot be read goes to *errors*.

    A ``.json`` file is one document, read as kubectl reads JSON: as YAML for
    node marks, as JSON where libyaml cannot read it
    (:mod:`webhook.yamlio.jsonfile`).
    """
    problems: list[YAMLProblem] = []
    if source.file.endswith(".json"):
        document = parse_json_document(source.file, source.text, problems)
        if document is not None:
            yield document
    else:
        yield from parse_documents(source.file, source.text, problems)
    errors.extend(InputError(source.file, *problem) for problem in problems)
