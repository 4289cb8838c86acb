"""Kestra-style ids: FriendlyId, the base62 form of a UUID (21 or 22 characters)."""

from __future__ import annotations

import random
import time

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _base62(number: int) -> str:
    if number == 0:
        return "0"
    digits = []
    while number:
        number, rem = divmod(number, 62)
        digits.append(_ALPHABET[rem])
    return "".join(reversed(digits))


def new_id() -> str:
    """A new id: a UUID in base62, as ``IdUtils.create()`` writes them, but a time-ordered
    one (version 7: 48 bits of Unix milliseconds, then 74 random bits) where Kestra's is
    version 4.

    Both are 128-bit UUIDs that look alike in base62; the difference is where a new row
    lands in the store's indexes. Random keys scatter every insert over the whole B-tree,
    so each task run cost more as a store grew (a chain of 1,000 tasks: +0.27 ms per task
    on a new store, +0.32 on one holding 250,000 runs); ids that grow with time are
    appended at the end. The random bits come from ``random.getrandbits`` (seeded from
    ``os.urandom`` when the process starts, and again in a forked child) rather than from
    ``os.urandom`` per id: ids must be unique, not secret, and a system call per task run
    let the store's writer thread take the interpreter at every one."""
    millis = time.time_ns() // 1_000_000
    rand_a = random.getrandbits(12)
    rand_b = random.getrandbits(62)
    number = (millis & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return _base62(number)


def as_uuid(text: str) -> str | None:
    """The canonical UUID an id made by :func:`new_id` (or Kestra's ``IdUtils``) encodes;
    None for any other text."""
    number = 0
    for char in text:
        digit = _ALPHABET.find(char)
        if digit < 0:
            return None
        number = number * 62 + digit
    if not text or number >> 128:
        return None
    hexa = f"{number:032x}"
    if hexa[12] not in "1234578" or hexa[16] not in "89ab":
        return None  # not an RFC 4122 UUID (a version and the variant)
    return f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:]}"


def id_from(text: str) -> str:
    """A stable id derived from ``text`` (``IdUtils.from``: an MD5-based name UUID)."""
    import hashlib

    digest = bytearray(hashlib.md5(text.encode("utf-8")).digest())
    digest[6] = (digest[6] & 0x0F) | 0x30
    digest[8] = (digest[8] & 0x3F) | 0x80
    return _base62(int.from_bytes(bytes(digest), "big"))
