r"""``.json`` files, read as kubectl reads them: as JSON where Go reads it, as YAML otherwise.

kubectl reads text that starts with ``{`` with Go's JSON decoder, and as YAML
only if that decoder finds a syntax error; other text is YAML to it. The YAML
reader gives the same values for JSON and keeps node marks (findings get
their line), so it reads the file, with these differences:

- A number beyond float64 in JSON that Go's decoder reads is refused, as
  kubectl refuses it (YAML would read ``1e400`` as a string).
- A refusal of the YAML reader (a duplicate key, infinity ...) stays a
  refusal, though a JSON parser would read the file.
- libyaml refuses some JSON that kubectl reads: a tab before the first brace
  or after the last, an escaped surrogate pair (``"\ud83d\ude00"``, as
  Python's ``json.dumps`` writes an emoji), a key longer than 1,024
  characters. On such a YAML *syntax* error the JSON parser's reading is
  used. JSON holds tabs only between tokens (a string cannot hold a raw one),
  so with every tab made a space it reads as YAML again, with node marks and
  the YAML reader's refusals; this also reads ``NaN`` and ``Infinity``
  (JSON to Python, not to Go) as the strings kubectl's YAML reading makes.
  What YAML still cannot read keeps the JSON parser's data, numbers as
  kubectl sends them (integers within int64 stay, any other number passes
  through Go's float64: ``1.0`` is ``1``); ``NaN``, ``Infinity`` and
  duplicate keys are refused there (Go's decoder and orjson would keep a
  key's last value silently). Findings in such a file carry no line.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from webhook.yamlio.documents import Document, read_document
from webhook.yamlio.gojson import json_number
from webhook.yamlio.goyaml import INT64
from webhook.yamlio.problems import UnreadableError, YAMLProblem


def parse_json_document(file: str, text: str, problems: list[YAMLProblem]) -> Document | None:
    """Parse a JSON file as one document; record why it cannot be read in *problems*."""
    try:
        return _read(file, text)
    except UnreadableError as error:
        problems.append(error.problem)
        return None


def _read(file: str, text: str) -> Document | None:
    """The document of a JSON file, read as kubectl reads it; raise :class:`UnreadableError`."""
    read = _JSONRead.of(text) if _is_json_stream(text) else None
    if read is not None and read.go_reads and read.beyond:  # Go reads it, and refuses the number
        raise _refusal(_beyond_float64(read.beyond[0]))
    try:
        return read_document(file, 0, text)
    except UnreadableError as error:
        if not error.syntax or read is None:
            raise
    if read.invalid is not None:
        raise UnreadableError(read.invalid, syntax=True)
    try:  # Python's JSON (strict) holds tabs only between tokens: as spaces, YAML may read it
        return read_document(file, 0, text.replace("\t", " "))
    except UnreadableError as error:
        if not error.syntax:
            raise
    if read.constants:
        message = f"invalid JSON: {read.constants[0]} is not a JSON value"
        raise _refusal(message + " (quote it to send a string)")
    if read.duplicates:
        raise _refusal(f'duplicate key "{read.duplicates[0]}"')
    return Document(file, read.data, None, 0)


def _is_json_stream(text: str) -> bool:
    """Whether kubectl tries Go's JSON decoder first: the text starts with ``{``."""
    return text.lstrip().startswith("{")


def _refusal(message: str) -> UnreadableError:
    """A refusal of JSON that only a JSON parser reads: no line to give."""
    return UnreadableError(YAMLProblem(0, 0, message), syntax=False)


@dataclass(slots=True)
class _JSONRead:
    """JSON read by Python's parser, numbers as kubectl sends them, with what Go would not read."""

    data: Any = None
    duplicates: list[str] = field(default_factory=list)
    """Keys set twice in one object (Go's decoder and orjson keep the last)."""
    constants: list[str] = field(default_factory=list)
    """``NaN`` and ``Infinity``: Python reads them, Go's decoder fails as on a syntax error."""
    beyond: list[str] = field(default_factory=list)
    """Numbers beyond float64, which Go's decoder refuses."""

    invalid: YAMLProblem | None = None
    """Where and why the text is not JSON, if it is not."""

    @property
    def go_reads(self) -> bool:
        """Whether Go's JSON decoder reads the text (then kubectl reads it as JSON, not YAML)."""
        return self.invalid is None and not self.constants

    @classmethod
    def of(cls, text: str) -> _JSONRead:
        """Read *text*, noting what keeps Go's decoder from reading it."""
        read = cls()
        try:
            read.data = json.loads(
                text,
                object_pairs_hook=read._object,
                parse_int=read._integer,
                parse_float=read._float,
                parse_constant=read._constant,
            )
        except json.JSONDecodeError as error:
            message = f"invalid JSON: {error.msg}"
            read.invalid = YAMLProblem(error.lineno, error.colno, message)
        return read

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                self.duplicates.append(key)
            result[key] = value
        return result

    def _integer(self, text: str) -> int | float | None:
        """Go keeps an integer within int64; any other goes through float64."""
        try:
            value = int(text)
            if value in INT64:
                return value
            return self._number(float(value), text)
        except (ValueError, OverflowError):  # more digits than Python converts, or beyond float64
            self.beyond.append(text)
            return None

    def _float(self, text: str) -> int | float | None:
        return self._number(float(text), text)

    def _number(self, number: float, text: str) -> int | float | None:
        if math.isinf(number):
            self.beyond.append(text)
            return None
        return json_number(number)

    def _constant(self, text: str) -> None:
        self.constants.append(text)


def _beyond_float64(text: str) -> str:
    shown = text if len(text) <= 24 else f"{text[:20]}..."
    return f"{shown} is beyond float64: kubectl cannot read it (quote it to send a string)"
