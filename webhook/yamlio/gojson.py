"""Numbers as Go writes them: float64 through ``encoding/json``, float32 through ``strconv``.

sigs.k8s.io/yaml turns go-yaml's values into JSON with Go's ``encoding/json``,
and the webhook reads that JSON back with orjson; :func:`json_number` gives
the value it reads. A float key becomes the string
``strconv.FormatFloat(f, 'g', -1, 32)``; :func:`float32_text` gives it, or None
where Go's own choice between two equally short names is not predictable
(the caller refuses such a key rather than guess).
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal
from fractions import Fraction

import orjson


def json_number(number: float) -> int | float:
    """A float64 as the webhook reads it after Go's JSON writes it (shortest form).

    Go writes integral values below 1e21 without a fraction or exponent, so
    they come back as integers; JSON parsers read integers beyond 64 bits as
    floats again.
    """
    if number == 0:
        return 0  # Go writes -0 as "-0", an integer
    if number.is_integer() and abs(number) < 1e21:
        value: int | float = orjson.loads(str(int(Decimal(repr(number)))))
        return value
    return number


def float32_text(number: float) -> str | None:
    """Go's ``strconv.FormatFloat(number, 'g', -1, 32)``, as sigs.k8s.io/yaml names a float key.

    None when two shortest forms are exactly as close: Go's choice between them
    depends on how exact its own arithmetic happened to be.
    """
    try:
        single: float = struct.unpack("<f", struct.pack("<f", number))[0]
    except OverflowError:
        single = math.copysign(math.inf, number)
    if math.isinf(single):
        return ".inf" if single > 0 else "-.inf"
    if single == 0:
        return "-0" if math.copysign(1.0, single) < 0 else "0"
    shortest = _shortest_float32(abs(single))
    if shortest is None:
        return None
    digits, point = shortest
    sign = "-" if single < 0 else ""
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _shortest_float32(number: float) -> tuple[str, int] | None:
    """The fewest digits that read back as float32 *number* (> 0), and the decimal point's place.

    Among the shortest, the one closest to *number*, as Go's Ryū algorithm picks;
    None for a tie. (Checked against kubectl on thousands of float32 values.)
    """
    bits: int = struct.unpack("<I", struct.pack("<f", number))[0]
    below = Fraction(struct.unpack("<f", struct.pack("<I", bits - 1))[0])
    exact = Fraction(number)
    above = exact + (exact - below)  # past the largest float32, the gap stays the same
    if bits + 1 < 0x7F800000:
        above = Fraction(struct.unpack("<f", struct.pack("<I", bits + 1))[0])
    low, high, even = (below + exact) / 2, (exact + above) / 2, bits % 2 == 0

    def reads_back(candidate: Decimal) -> bool:
        value = Fraction(candidate)
        return low < value < high or (even and value in (low, high))

    for count in range(1, 10):
        nearest = Decimal(f"{number:.{count - 1}e}")
        step = Decimal(1).scaleb(nearest.adjusted() - count + 1)
        fits = [c for c in (nearest, nearest - step, nearest + step) if reads_back(c)]
        if fits:
            fits.sort(key=lambda c: abs(Fraction(c) - exact))
            if len(fits) > 1 and abs(Fraction(fits[0]) - exact) == abs(Fraction(fits[1]) - exact):
                return None
            _, digit_tuple, exponent = fits[0].normalize().as_tuple()
            assert isinstance(exponent, int)
            return "".join(map(str, digit_tuple)), len(digit_tuple) + exponent
    raise AssertionError("nine digits always read back as a float32")
