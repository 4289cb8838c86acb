"""Java regular expressions on Python's ``re``: the few translations that matter, and
``String.split`` with Java's rules (trailing empty strings dropped, ``limit``).

Used by the emulated ``'a,b'.split(',')`` method and available to filters (``split``,
``replace(..., regexp=true)``).
"""

from __future__ import annotations

import re
from functools import lru_cache

_POSIX = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": "!-/:-@\\[-`{-~",
    "Graph": "!-~",
    "Print": " -~",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0b\\f\\r",
    "L": "^\\W\\d_",
    "IsAlphabetic": "^\\W\\d_",
    "IsLetter": "^\\W\\d_",
    "N": "\\d",
    "Nd": "\\d",
}


def _translate(pattern: str) -> str:
    out: list[str] = []
    i = 0
    in_class = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt in "pP" and i + 2 < len(pattern) and pattern[i + 2] == "{":
                end = pattern.find("}", i + 3)
                name = pattern[i + 3 : end] if end > 0 else ""
                body = _POSIX.get(name.removeprefix("Is") if name not in _POSIX else name)
                if body is not None and end > 0:
                    negate = nxt == "P"
                    if body.startswith("^"):
                        # a negated class body: only usable outside brackets
                        cls = f"[{'' if negate else '^'}{body[1:]}]" if not in_class else body
                        out.append(cls if not in_class else body[1:])
                    elif in_class:
                        out.append(body)
                    else:
                        out.append(f"[{'^' if negate else ''}{body}]")
                    i = end + 1
                    continue
            if nxt == "z":
                out.append("\\Z")
                i += 2
                continue
            if nxt == "Z":
                out.append("(?=\\n?\\Z)")
                i += 2
                continue
            if nxt == "h":
                out.append("[ \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000]")
                i += 2
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


@lru_cache(maxsize=256)
def java_pattern(regex: str, flags: int = 0) -> re.Pattern[str]:
    """Compile a Java regex (``\\p{Alpha}``, ``\\z``, ``\\h``… translated)."""
    return re.compile(_translate(regex), flags)


def java_replacement(replacement: str) -> str:
    """A Java ``replaceAll`` replacement (``$1``, ``${name}``, ``\\$``) for ``re.sub``."""
    out: list[str] = []
    i = 0
    while i < len(replacement):
        ch = replacement[i]
        if ch == "\\" and i + 1 < len(replacement):
            nxt = replacement[i + 1]
            out.append("\\\\" if nxt == "\\" else nxt)
            i += 2
        elif ch == "$" and i + 1 < len(replacement):
            if replacement[i + 1] == "{":
                end = replacement.index("}", i)
                out.append(f"\\g<{replacement[i + 2 : end]}>")
                i = end + 1
            else:
                j = i + 1
                while j < len(replacement) and replacement[j].isdigit():
                    j += 1
                if j == i + 1:
                    raise ValueError("Illegal group reference")
                out.append(f"\\g<{replacement[i + 1 : j]}>")
                i = j
        else:
            out.append("\\\\" if ch == "\\" else ch)
            i += 1
    return "".join(out)


def java_split(s: str, regex: str, limit: int = 0) -> list[str]:
    """``String.split(regex, limit)``."""
    pattern = java_pattern(regex)
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


__all__ = ["java_pattern", "java_replacement", "java_split"]
