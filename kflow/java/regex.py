"""Java regular expressions on Python's ``re``: one translation used by every part of
kflow that takes a Java regex (input ``validator``, ``split``, ``replace(regexp=true)``,
``regexMatch``..., ``String.matches``), Java's ``replaceAll`` replacement syntax, and
``String.split`` with Java's rules (trailing empty strings dropped, ``limit``).

Java's compound character classes, which ``re`` would read silently differently, are
translated: a nested class is a union (``[a-c[x-z]]``), ``&&`` an intersection written with
a lookahead (``[a-z&&[^aeiou]]`` → ``(?:(?=[^aeiou])[a-z])``), and a leading ``^`` negates the
whole class, as in Java 9 and later.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable


class JavaRegexError(ValueError):
    """A replacement string Java would refuse (callers turn it into their own error)."""


_POSIX_CLASSES = {
    "Lower": "a-z", "Upper": "A-Z", "Alpha": "a-zA-Z", "Digit": "0-9", "Alnum": "a-zA-Z0-9",
    "XDigit": "0-9a-fA-F", "Space": r" \t\n\x0b\f\r", "ASCII": r"\x00-\x7f",
    "Punct": r"!-/:-@\[-`{-~", "Graph": "!-~", "Print": " -~", "Blank": r" \t",
    "Cntrl": r"\x00-\x1f\x7f",
}  # fmt: skip


@functools.lru_cache(maxsize=256)
def java_regex(source: str) -> re.Pattern[str]:
    """Compile a Java regex with Python's ``re``: the common syntax differences translated.

    Java's defaults are kept: ``\\w``, ``\\d``, ``\\s`` and case folding are ASCII-only.
    """
    out: list[str] = []
    i, in_class = 0, 0
    while i < len(source):
        c = source[i]
        if c == "\\" and i + 1 < len(source):
            n = source[i + 1]
            if n == "Q":
                end = source.find("\\E", i + 2)
                out.append(re.escape(source[i + 2 :] if end < 0 else source[i + 2 : end]))
                i = len(source) if end < 0 else end + 2
                continue
            if n == "h":
                horizontal = r" \t\xa0\u1680\u180e\u2000-\u200a\u202f\u205f\u3000"
                out.append(horizontal if in_class else f"[{horizontal}]")
            elif n == "z" and not in_class:
                out.append(r"\Z")
            elif n == "Z" and not in_class:
                out.append(r"(?=\n?\Z)")
            elif n == "k" and source.startswith("<", i + 2) and ">" in source[i + 3 :]:
                end = source.index(">", i + 3)
                out.append(f"(?P={source[i + 3 : end]})")
                i = end + 1
                continue
            elif n in "pP" and source.startswith("{", i + 2) and "}" in source[i + 3 :]:
                end = source.index("}", i + 3)
                name = source[i + 3 : end]
                body = _POSIX_CLASSES.get(name.removeprefix("Is"))
                if body is None or (in_class and n == "P"):
                    raise re.error(f"unsupported character class \\{n}{{{name}}}")
                out.append(body if in_class else f"[{'^' if n == 'P' else ''}{body}]")
                i = end + 1
                continue
            else:
                out.append(source[i : i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            translated, end = _compound_class(source, i)
            if translated is not None:
                out.append(translated)
                i = end
                continue
        if c == "[":
            in_class += 1
        elif c == "]" and in_class:
            in_class -= 1
        elif (
            c == "("
            and not in_class
            and source.startswith("(?<", i)
            and source[i + 3 : i + 4] not in ("=", "!")  # named group, not a lookbehind
        ):
            out.append("(?P<")
            i += 3
            continue
        out.append(c)
        i += 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Python warns on Java's nested classes ([a-z&&[^b]])
        return re.compile("".join(out), re.ASCII)


# One character class as a predicate: ("set", body, negated) renders as [body] or [^body];
# ("re", pattern) is any regex matching exactly one character.
_Class = tuple[str, str, bool] | tuple[str, str]
_HORIZONTAL = r" \t\xa0\u1680\u180e\u2000-\u200a\u202f\u205f\u3000"


def _render_class(node: _Class) -> str:
    if node[0] == "set":
        return f"[{'^' if node[2] else ''}{node[1]}]"  # type: ignore[misc]
    return node[1]


def _union(a: _Class | None, b: _Class) -> _Class:
    if a is None:
        return b
    if a[0] == "set" and b[0] == "set" and not a[2] and not b[2]:  # type: ignore[misc]
        return ("set", a[1] + b[1], False)
    return ("re", f"(?:{_render_class(a)}|{_render_class(b)})")


def _intersect(a: _Class, b: _Class) -> _Class:
    return ("re", f"(?:(?={_render_class(b)}){_render_class(a)})")


def _negate(a: _Class) -> _Class:
    if a[0] == "set":
        return ("set", a[1], not a[2])  # type: ignore[misc]
    return ("re", f"(?:(?!{_render_class(a)})[\\s\\S])")


def _compound_class(source: str, start: int) -> tuple[str | None, int]:
    """A Java class with a nested class (union, ``[a-c[x-z]]``) or an intersection
    (``[a-z&&[^aeiou]]``) as a Python regex matching one character (lookaheads for ``&&``);
    ``(None, start)`` for a plain class, which ``re`` reads as Java does."""
    node, end, compound = _java_class(source, start + 1, consume=True)
    if not compound:
        return None, start
    return _render_class(node), end


def _java_class(source: str, i: int, consume: bool) -> tuple[_Class, int, bool]:
    """``Pattern.clazz`` of Java 9+: ``i`` is just past the ``[``; a leading ``^`` negates the
    whole class, nested classes are unions, ``&&`` intersects with what follows."""
    prev: _Class | None = None
    bits = ""
    negated = False
    compound = False
    first = True
    n = len(source)
    while True:
        if i >= n:
            raise re.error("Unclosed character class", source, i)
        c = source[i]
        if c == "^" and first and source[i - 1] == "[":
            negated, i, first = not negated, i + 1, False
            continue
        first = False
        if c == "[":
            inner, i, _ = _java_class(source, i + 1, consume=True)
            prev = _union(prev, inner)
            compound = True
            continue
        if c == "&" and source.startswith("&&", i):
            i += 2
            compound = True
            right: _Class | None = None
            while i < n and source[i] != "]" and not source.startswith("&&", i):
                if source[i] == "[":
                    inner, i, _ = _java_class(source, i + 1, consume=True)
                else:
                    inner, i, _ = _java_class(source, i, consume=False)
                right = _union(right, inner)
            if bits:
                prev, bits = _union(prev, ("set", bits, False)), ""
            if right is None:
                if prev is None:
                    raise re.error("Bad class syntax", source, i)
            else:
                prev = right if prev is None else _intersect(prev, right)
            continue
        if c == "]" and (prev is not None or bits):
            if consume:
                i += 1
            if bits:
                prev = _union(prev, ("set", bits, False))
            assert prev is not None
            return (_negate(prev) if negated else prev), i, compound
        if c == "]" and not consume:
            raise re.error("Bad class syntax", source, i)
        if c == "\\" and i + 1 < n:
            e = source[i + 1]
            if e == "Q":
                end = source.find("\\E", i + 2)
                text = source[i + 2 :] if end < 0 else source[i + 2 : end]
                bits += "".join("\\" + ch if not ch.isalnum() else ch for ch in text)
                i = n if end < 0 else end + 2
            elif e == "h":
                bits, i = bits + _HORIZONTAL, i + 2
            elif e in "pP" and source.startswith("{", i + 2) and "}" in source[i + 3 :]:
                end = source.index("}", i + 3)
                name = source[i + 3 : end]
                body = _POSIX_CLASSES.get(name.removeprefix("Is"))
                if body is None:
                    raise re.error(f"unsupported character class \\{e}{{{name}}}", source, i)
                if e == "P":
                    prev = _union(prev, ("set", body, True))
                else:
                    bits += body
                i = end + 1
            else:
                bits, i = bits + source[i : i + 2], i + 2
            continue
        if c == "]":  # "[]a]": a ']' first in a class is a literal, as in Java
            bits, i = bits + "\\]", i + 1
            continue
        bits, i = bits + c, i + 1


def java_replacement(replacement: str) -> Callable[[re.Match[str]], str]:
    """``Matcher.replaceAll`` replacement text: ``$1``, ``${name}``, ``\\$``."""

    def expand(m: re.Match[str]) -> str:
        out: list[str] = []
        i, n = 0, len(replacement)
        while i < n:
            c = replacement[i]
            if c == "\\":
                if i + 1 >= n:
                    raise JavaRegexError("character to be escaped is missing")
                out.append(replacement[i + 1])
                i += 2
            elif c == "$":
                if i + 1 >= n:
                    raise JavaRegexError("Illegal group reference: group index is missing")
                if replacement[i + 1] == "{":
                    close = replacement.find("}", i + 2)
                    if close < 0:
                        raise JavaRegexError("named capturing group is missing trailing '}'")
                    name = replacement[i + 2 : close]
                    try:
                        out.append(m.group(name) or "")
                    except IndexError:
                        raise JavaRegexError(f"No group with name {{{name}}}") from None
                    i = close + 1
                elif replacement[i + 1].isdigit() and replacement[i + 1].isascii():
                    num = int(replacement[i + 1])
                    i += 2
                    if num > (m.re.groups):
                        raise JavaRegexError(f"No group {num}")
                    while i < n and replacement[i].isdigit() and replacement[i].isascii():
                        candidate = num * 10 + int(replacement[i])
                        if candidate > m.re.groups:
                            break
                        num = candidate
                        i += 1
                    out.append(m.group(num) or "")
                else:
                    raise JavaRegexError("Illegal group reference")
            else:
                out.append(c)
                i += 1
        return "".join(out)

    return expand


def java_split(s: str, regex: str, limit: int = 0) -> list[str]:
    """``String.split(regex, limit)``."""
    return split_on(java_regex(regex), s, limit)


def split_on(pattern: re.Pattern[str], s: str, limit: int = 0) -> list[str]:
    """``String.split`` on an already compiled pattern (callers that translate regex errors
    into their own messages compile first): trailing empty strings dropped when
    ``limit == 0``."""
    parts: list[str] = []
    start = 0
    matched = False
    for m in pattern.finditer(s):
        if limit > 0 and len(parts) == limit - 1:
            break
        if m.end() == 0:
            # a zero-width match at the beginning never yields a leading empty string
            continue
        matched = True
        parts.append(s[start : m.start()])
        start = m.end()
    if not matched:
        return [s]
    parts.append(s[start:])
    if limit == 0:
        while parts and parts[-1] == "":
            parts.pop()
    return parts


__all__ = ["JavaRegexError", "java_regex", "java_replacement", "java_split", "split_on"]
