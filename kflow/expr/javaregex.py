"""Java regular expressions on Python's ``re``: one translation used by every part of
kflow that takes a Java regex (input ``validator``, ``split``, ``replace(regexp=true)``,
``regexMatch``..., ``String.matches``), Java's ``replaceAll`` replacement syntax, and
``String.split`` with Java's rules (trailing empty strings dropped, ``limit``).
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
    pattern = java_regex(regex)
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


__all__ = ["JavaRegexError", "java_regex", "java_replacement", "java_split"]
