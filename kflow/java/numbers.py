"""Java's numbers: how ``Double.toString``/``Float.toString`` print, how
``Integer.valueOf``/``Float.valueOf`` read text, 32-bit float rounding, and
``java.text.DecimalFormat`` (Pebble's ``numberFormat``).

One implementation for all of kflow: Pebble printing (:mod:`kflow.expr.values`), typed
inputs (:mod:`kflow.flow.inputs`) and the Ion writer (:mod:`kflow.ion`) all print a double
the way the JVM does, so a value shows the same text wherever Kestra would show it.

Doubles print with the shortest round-trip digits, as ``Double.toString`` does since
Java 19 (Kestra runs on Java 21); Java 17 printed a few values between 10^16 and 10^19 with
extra digits (JDK-4511638), so a Java 17 oracle differs there.
"""

from __future__ import annotations

import functools
import math
import re
import struct
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

from kflow.java.exceptions import IllegalArgumentError, NumberFormatError

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


# --------------------------------------------------------------------------- float32


def to_f32(f: float) -> float:
    """Round to the nearest 32-bit float, as a Java ``(float)`` cast does (±inf past it)."""
    try:
        return float(struct.unpack("f", struct.pack("f", f))[0])
    except OverflowError:
        return math.copysign(math.inf, f)


# --------------------------------------------------------------------------- printing


def _digits_exponent(f: float) -> tuple[str, int]:
    """Shortest round-trip digits of abs(f) (no trailing zeros) and the exponent of the first."""
    _, digits, dexp = Decimal(repr(abs(f))).as_tuple()
    ds = "".join(map(str, digits))
    stripped = ds.lstrip("0")
    sci_exp = len(ds) + int(dexp) - 1 - (len(ds) - len(stripped))
    ds = stripped.rstrip("0") or "0"
    if len(ds) == 1:
        # Java prints at least two significant digits and then picks the 2-digit decimal
        # closest to the exact binary value: 4.9E-324, not 5.0E-324
        exact = Decimal(abs(f)).scaleb(-sci_exp).quantize(Decimal("0.1"))
        two = "".join(map(str, exact.as_tuple().digits))
        if len(two) == 2:
            ds = two.rstrip("0") or "0"
    return ds, sci_exp


def _format_java(f: float, digits_exp: tuple[str, int]) -> str:
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    if f == 0:
        return sign + "0.0"
    ds, e = digits_exp
    a = abs(f)
    if 1e-3 <= a < 1e7:
        if e >= 0:
            intpart = ds[: e + 1].ljust(e + 1, "0")
            frac = ds[e + 1 :] or "0"
        else:
            intpart = "0"
            frac = "0" * (-e - 1) + ds
        return f"{sign}{intpart}.{frac}"
    frac = ds[1:] or "0"
    return f"{sign}{ds[0]}.{frac}E{e}"


def double_to_string(f: float) -> str:
    """Java ``Double.toString``: ``1.0``, ``0.30000000000000004``, ``1.0E7``, ``1.0E-4``."""
    if math.isnan(f) or math.isinf(f) or f == 0:
        return _format_java(f, ("0", 0))
    return _format_java(f, _digits_exponent(f))


def float_to_string(f: float) -> str:
    """Java ``Float.toString``: the shortest digits that round-trip through 32 bits."""
    if math.isnan(f) or math.isinf(f) or f == 0:
        return _format_java(f, ("0", 0))
    target = to_f32(f)
    for precision in range(1, 10):
        s = f"{abs(target):.{precision}e}"
        if to_f32(float(s)) == abs(target):
            break
    mant, exp = s.split("e")
    ds = mant.replace(".", "").rstrip("0") or "0"
    return _format_java(target, (ds, int(exp)))


# --------------------------------------------------------------------------- parsing


_JAVA_INT_RE = re.compile(r"[+-]?\d+")  # \d: Character.digit accepts any Unicode digit too
_JAVA_FLOAT_RE = re.compile(
    r"[+-]?(?:NaN|Infinity|(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
    r"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+)[fFdD]?)",
    re.ASCII,
)
_JAVA_TRIM = "".join(chr(c) for c in range(33))


def significant(text: str) -> tuple[str, str]:
    """The sign and the digits of ``text`` (an optionally signed run of digits) without
    leading zeros: a number is known to be out of a Java type's range from its length
    alone, before Python's ``int()`` meets its 4,300-digit limit."""
    sign = "-" if text.startswith("-") else ""
    digits = text.lstrip("+-")
    start = 0
    while start < len(digits) and digits[start].isdigit() and int(digits[start]) == 0:
        start += 1  # any Unicode zero: Java's Character.digit reads them all
    return sign, digits[start:]


def significant_digits(text: str) -> int:
    """How many digits ``text`` has once its sign and leading zeros are dropped."""
    return len(significant(text)[1])


def small_int(text: str) -> int:
    """``int(text)`` for a run of digits already known to be short once zeros are dropped."""
    sign, digits = significant(text)
    return int(sign + (digits or "0"))


def parse_int(text: str) -> int:
    """``Integer.valueOf``: 32-bit, no whitespace, no underscores."""
    if _JAVA_INT_RE.fullmatch(text) and significant_digits(text) <= 10:
        number = small_int(text)
        if INT_MIN <= number <= INT_MAX:
            return number
    raise NumberFormatError(f'For input string: "{text}"')


def _nearest_f32(exact: Fraction, approx: float) -> float:
    """Round ``exact`` to float32 once (a double then float32 cast can round twice)."""
    try:
        first = to_f32(approx)
    except OverflowError:
        return math.copysign(math.inf, approx)
    if math.isinf(first):
        return first
    bits = struct.unpack("<I", struct.pack("<f", first))[0]
    candidates = [first]
    for nb in (bits - 1, bits + 1):
        if 0 <= nb < 2**32:
            cand = float(struct.unpack("<f", struct.pack("<I", nb))[0])
            if math.isfinite(cand):
                candidates.append(cand)

    def key(c: float) -> tuple[Fraction, int]:
        odd = struct.unpack("<I", struct.pack("<f", c))[0] & 1
        return abs(Fraction(c) - exact), odd

    return min(candidates, key=key)


def _java_float_text(text: str) -> tuple[str, str]:
    """(trimmed text, body without its type suffix) for ``Double.valueOf``/``Float.valueOf``
    (``FloatingDecimal.readJavaFormatString``), or NumberFormatError with Java's message."""
    trimmed = text.strip(_JAVA_TRIM)
    if not trimmed:
        raise NumberFormatError("empty String")
    if not _JAVA_FLOAT_RE.fullmatch(trimmed):
        raise NumberFormatError(f'For input string: "{trimmed}"')
    # The grammar ends with exponent digits, so a final f/F/d/D is always the type suffix.
    return trimmed, trimmed[:-1] if trimmed[-1] in "fFdD" else trimmed


def _special(body: str) -> float | None:
    """NaN and ±Infinity as Java spells them, else None."""
    name = body.lstrip("+-")
    if name == "NaN":
        return math.nan
    if name == "Infinity":
        return -math.inf if body.startswith("-") else math.inf
    return None


def parse_double(text: str) -> float:
    """``Double.valueOf``: Java's grammar (hex, ``NaN``, ``Infinity``, a ``d``/``f``
    suffix), spaces and control characters around it ignored."""
    _, body = _java_float_text(text)
    special = _special(body)
    if special is not None:
        return special
    if body.lstrip("+-")[:2].lower() == "0x":
        try:
            return float.fromhex(body)
        except OverflowError:  # past a double: Java gives Infinity
            return -math.inf if body.startswith("-") else math.inf
    return float(body)


def parse_float32(text: str) -> float:
    """``Float.valueOf``: the float32 nearest to the text (rounded once, not through a
    double), as a Python float; ``NaN`` and ``Infinity`` as Java reads them."""
    _, body = _java_float_text(text)
    special = _special(body)
    if special is not None:
        return special
    negative = body.startswith("-")
    if body.lstrip("+-")[:2].lower() == "0x":
        try:
            return _f32_or_inf(float.fromhex(body))
        except OverflowError:  # past a double: Java's Float.valueOf gives Infinity
            return -math.inf if negative else math.inf
    magnitude = Decimal(body)
    if magnitude.is_zero() or magnitude.adjusted() < -60:  # under float32's smallest value
        return math.copysign(0.0, -1.0 if negative else 1.0)
    if magnitude.adjusted() > 60:  # past float32's range; skip an exact Fraction of 10**1e9
        return -math.inf if negative else math.inf
    return _nearest_f32(Fraction(Decimal(body)), float(body))


def parse_float(text: str) -> float:
    """``Float.valueOf`` for a typed input: finite only, returned as the double that prints
    like the float (``0.1f`` gives ``0.1``, not ``0.10000000149011612``)."""
    value = parse_float32(text)
    if not math.isfinite(value):
        # Java would keep NaN/Infinity; they are not JSON, so kflow refuses them.
        trimmed, _ = _java_float_text(text)
        raise NumberFormatError(f'For input string: "{trimmed}" (only finite numbers are accepted)')
    return float(float_to_string(value))


def _f32_or_inf(value: float) -> float:
    try:
        return to_f32(value)
    except OverflowError:
        return math.copysign(math.inf, value)


# --------------------------------------------------------------------------- DecimalFormat


class DecimalFormat:
    """A ``java.text.DecimalFormat`` pattern (English symbols, HALF_EVEN rounding); build
    one with :func:`decimal_format`, which caches them."""

    def __init__(self, pattern: str) -> None:
        positive, _, negative = _split_pattern(pattern)
        self.prefix, body, self.suffix = _affixes(positive)
        self.neg_prefix, self.neg_suffix = "-" + self.prefix, self.suffix
        if negative:
            neg_prefix, _, neg_suffix = _affixes(negative)
            self.neg_prefix, self.neg_suffix = neg_prefix, neg_suffix
        self.multiplier = 1
        for affix in (self.prefix, self.suffix):
            if "%" in affix:
                self.multiplier = 100
            elif "\u2030" in affix:
                self.multiplier = 1000
        mantissa, exp_mark, exponent = body.partition("E")
        if body.count(".") > 1:
            raise IllegalArgumentError(f'Multiple decimal separators in pattern "{pattern}"')
        int_part, dot, _ = mantissa.partition(".")
        self.grouping = 0
        if "," in int_part:
            self.grouping = len(int_part) - int_part.rindex(",") - 1
        # DecimalFormat.applyPattern's digit counting, quirks included ("#.##" → 1 int digit)
        digits = mantissa.replace(",", "")
        decimal_pos = digits.index(".") if dot else -1
        digits = digits.replace(".", "")
        zeros = digits.count("0")
        left = len(digits) - len(digits.lstrip("#"))
        right = len(digits) - left - zeros
        if zeros == 0 and left > 0 and decimal_pos >= 0:
            n = decimal_pos or 1
            left, right, zeros = n - 1, left - n, 1
        total = left + zeros + right
        effective = decimal_pos if decimal_pos >= 0 else total
        self.min_int = effective - left
        self.max_int = left + self.min_int if exp_mark else 2**31 - 1
        self.max_frac = total - decimal_pos if decimal_pos >= 0 else 0
        self.min_frac = max(0, left + zeros - decimal_pos) if decimal_pos >= 0 else 0
        self.decimal_always = decimal_pos == 0 or (decimal_pos >= 0 and decimal_pos == total)
        self.exponent_digits = len(exponent) if exp_mark else 0
        self.scientific = bool(exp_mark)
        if pattern == "":
            self.grouping, self.max_frac = 3, 340

    def format(self, value: int | float | Decimal) -> str:
        """``DecimalFormat.format`` of a Java number (``Integer``/``Long``/``Double``/
        ``BigDecimal``)."""
        if isinstance(value, float) and math.isnan(value):
            return "NaN"
        negative = (value < 0) or (isinstance(value, float) and math.copysign(1.0, value) < 0)
        if isinstance(value, float) and math.isinf(value):
            body = "\u221e"
        elif self.scientific:
            body = _format_scientific(self, abs(value))
        else:
            body = _format_fixed(self, _round(abs(value), self.multiplier, self.max_frac))
        if negative:
            return self.neg_prefix + body + self.neg_suffix
        return self.prefix + body + self.suffix


def _split_pattern(pattern: str) -> tuple[str, str, str | None]:
    """Split ``positive;negative`` outside quotes."""
    in_quote = False
    for i, c in enumerate(pattern):
        if c == "'":
            in_quote = not in_quote
        elif c == ";" and not in_quote:
            return pattern[:i], ";", pattern[i + 1 :]
    return pattern, "", None


def _affixes(sub: str) -> tuple[str, str, str]:
    """(prefix, number body, suffix) of a sub-pattern, quotes resolved in the affixes."""
    body_re = re.compile(r"[#0,.]+(?:E0+)?")
    in_quote = False
    start = end = -1
    i = 0
    while i < len(sub):
        c = sub[i]
        if c == "'":
            in_quote = not in_quote
        elif not in_quote and c in "#0,.":
            m = body_re.match(sub, i)
            assert m is not None
            start, end = m.start(), m.end()
            break
        i += 1
    if start < 0:
        return _unquote(sub), "", ""
    return _unquote(sub[:start]), sub[start:end], _unquote(sub[end:])


def _unquote(affix: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(affix):
        c = affix[i]
        if c == "'":
            if i + 1 < len(affix) and affix[i + 1] == "'":
                out.append("'")
                i += 2
                continue
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _exact_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(value)
    return Decimal(int(value))


def _short_decimal(value: Any) -> Decimal:
    """The digits Java prints for a double (``Double.toString``)."""
    if isinstance(value, float):
        return Decimal(double_to_string(value))
    return _exact_decimal(value)


def _round(value: Any, multiplier: int, places: int) -> Decimal:
    """Round HALF_EVEN on the exact binary value, showing no more than Java's digits."""
    short = _short_decimal(value) * multiplier
    quantum = Decimal(1).scaleb(-places)
    if short == short.quantize(quantum, rounding=ROUND_HALF_EVEN):
        return short.normalize() if short else Decimal(0)
    exact = _exact_decimal(value) * multiplier
    return exact.quantize(quantum, rounding=ROUND_HALF_EVEN)


def _format_fixed(p: DecimalFormat, number: Decimal) -> str:
    """Integer digits (padded, grouped) and fraction digits of an already rounded number."""
    int_str, _, frac_str = format(number, "f").partition(".")
    int_str = int_str.lstrip("0")
    if len(int_str) > p.max_int:
        int_str = int_str[-p.max_int :]
    frac_str = frac_str.rstrip("0")
    if len(int_str) < p.min_int:
        int_str = "0" * (p.min_int - len(int_str)) + int_str
    if p.grouping and len(int_str) > p.grouping:
        groups: list[str] = []
        while len(int_str) > p.grouping:
            groups.insert(0, int_str[-p.grouping :])
            int_str = int_str[: -p.grouping]
        groups.insert(0, int_str)
        int_str = ",".join(groups)
    frac_str = frac_str[: p.max_frac].ljust(p.min_frac, "0")
    if not int_str and not frac_str:
        int_str = "0"
    return int_str + ("." + frac_str if frac_str or p.decimal_always else "")


def _format_scientific(p: DecimalFormat, value: Any) -> str:
    number = _short_decimal(value) * p.multiplier
    if number == 0:
        exponent = 0
        mantissa_digits = ""
        decimal_at = 0
    else:
        sig = p.max_int + p.max_frac
        adjusted = number.adjusted()
        quantum = Decimal(1).scaleb(adjusted - sig + 1)
        if number != number.quantize(quantum, rounding=ROUND_HALF_EVEN):
            number = (_exact_decimal(value) * p.multiplier).quantize(
                quantum, rounding=ROUND_HALF_EVEN
            )
        _, dt, exp = number.normalize().as_tuple()
        assert isinstance(exp, int)
        mantissa_digits = "".join(map(str, dt))
        decimal_at = len(mantissa_digits) + exp
    repeat = p.max_int
    min_int = p.min_int
    if repeat > 1 and repeat > p.min_int:
        if decimal_at >= 1:
            exponent = ((decimal_at - 1) // repeat) * repeat
        else:
            exponent = -((-(decimal_at - repeat)) // repeat) * repeat
        min_int = 1
    else:
        exponent = decimal_at - min_int
    if not mantissa_digits:
        exponent = 0
    minimum_digits = p.min_int + p.min_frac
    integer_digits = min_int if not mantissa_digits else decimal_at - exponent
    minimum_digits = max(minimum_digits, integer_digits)
    total = max(len(mantissa_digits), minimum_digits)
    out: list[str] = []
    for i in range(total):
        if i == integer_digits:
            out.append(".")
        out.append(mantissa_digits[i] if i < len(mantissa_digits) else "0")
    exp_text = str(abs(exponent)).rjust(p.exponent_digits, "0")
    return "".join(out) + "E" + ("-" if exponent < 0 else "") + exp_text


@functools.lru_cache(maxsize=128)
def decimal_format(pattern: str) -> DecimalFormat:
    """``new DecimalFormat(pattern)``, cached; IllegalArgumentError for a bad pattern."""
    return DecimalFormat(pattern)


__all__ = [
    "DecimalFormat",
    "INT_MAX",
    "INT_MIN",
    "LONG_MAX",
    "LONG_MIN",
    "NumberFormatError",
    "decimal_format",
    "double_to_string",
    "float_to_string",
    "parse_double",
    "parse_float",
    "parse_float32",
    "parse_int",
    "significant",
    "significant_digits",
    "small_int",
    "to_f32",
]
