"""The start of a credential form as regexes: in clear, in base64, and grouped.

A form of :data:`webhook.policy.rules.credentials.CREDENTIALS` opens with a
*start*: ASCII characters matched as they are, ``[...]`` a set of them, nothing
else. That small syntax is what lets one start be written several ways from
its one definition: the regex of the start itself (:func:`start_regex`, for
Python's ``re`` and Rust's ``regex`` alike), the regexes of its base64 text at
each byte alignment in both alphabets (:func:`encodings`, :func:`sextets`), and
alternations of many of them that open with a literal character
(:func:`openings`, :func:`alternation`), which ``re`` searches several times
faster than alternatives it must try at every position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

_SPECIAL: Final = frozenset("\\.^$|?*+()[]{}")


def positions(start: str) -> list[str]:
    """The characters each position of a start may hold (a literal, or a ``[...]`` set)."""
    found = []
    index = 0
    while index < len(start):
        if start[index] == "[":
            end = start.index("]", index)
            found.append(start[index + 1 : end])
            index = end + 1
        else:
            found.append(start[index])
            index += 1
    return found


def _literal(character: str) -> str:
    """*character* in a regex, outside a set (for Python's ``re`` and Rust's ``regex``)."""
    return f"\\{character}" if character in _SPECIAL else character


def _position(characters: str) -> str:
    """The regex of one position: a literal, or a set listing its characters."""
    if len(characters) == 1:
        return _literal(characters)
    return "[" + "".join(f"\\{c}" if c in "\\]^-[" else c for c in characters) + "]"


def start_regex(start: str) -> str:
    """The regex of a start."""
    return "".join(_position(characters) for characters in positions(start))


def openings(sequence: Sequence[str]) -> list[tuple[str, str]]:
    """Positions (:func:`positions`) as (one literal first character, the rest's regex).

    One pair per character the first position may hold. Regexes whose alternatives all
    open with a literal let ``re`` skip to the positions holding one of those characters
    (its "charset prefix") instead of trying every alternative at every position:
    several times faster on a job's strings.
    """
    first, *others = sequence
    rest = "".join(_position(position) for position in others)
    return [(_literal(character), rest) for character in first]


def alternation(alternatives: Sequence[tuple[str, str]]) -> str:
    """(first character, rest) pairs as one regex, grouped by first character."""
    groups: dict[str, list[str]] = {}
    for head, tail in alternatives:
        groups.setdefault(head, []).append(tail)
    return "|".join(
        head + (tails[0] if len(tails) == 1 else f"(?:{'|'.join(tails)})")
        for head, tails in groups.items()
    )


def last_literal(pattern: str) -> str:
    """A character every match of regex *pattern* holds: its last, when a literal; else none."""
    last = pattern[-1:]
    plain = last and last not in _SPECIAL and not pattern.endswith("\\" + last)
    return last if plain else ""


# -- base64 -------------------------------------------------------------------------------

_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#: Sextets 62 and 63 in either alphabet (standard ``+/``, base64url ``-_``).
_HIGH: Final = {62: "+-", 63: "/_"}
_ANY_BYTE: Final = frozenset(range(256))


def sextets(start: str) -> list[list[str]]:
    """The base64 characters of *start*, at each of the 3 byte alignments: one list each.

    A start's bytes preceded by 0, 1 or 2 bytes of a 3-byte group give a sextet
    sequence; each sextet is given as the characters of the values it may take (bits
    of a byte outside the start, or a set of characters in the start, make several),
    in both alphabets, for every sextet holding a bit of the start (so the first and
    last may be partial). Any base64 text whose decoding holds the start holds one of
    these sequences, starting wherever the start's group does.
    """
    known = [frozenset(map(ord, characters)) for characters in positions(start)]
    found = []
    for lead in range(3):
        stream = [_ANY_BYTE] * lead + known + [_ANY_BYTE]
        first, last = 8 * lead // 6, (8 * (lead + len(known)) - 1) // 6
        sequence = []
        for sextet in range(first, last + 1):
            low = 6 * sextet
            left, right = stream[low // 8], stream[low // 8 + 1]
            shift = 10 - low % 8  # the sextet's place in the 16 bits of the two bytes
            values = {((a << 8 | b) >> shift) & 63 for a in left for b in right}
            sequence.append("".join(_HIGH.get(v, _ALPHABET[v : v + 1]) for v in sorted(values)))
        found.append(sequence)
    return found


def encodings(start: str) -> list[str]:
    """Regexes of the base64 (and base64url) text of *start*, at the 3 byte alignments."""
    return ["".join(map(_position, sequence)) for sequence in sextets(start)]
