"""Kestra-style ids: FriendlyId, the base62 form of a random UUID (about 22 characters)."""

from __future__ import annotations

import random

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
    """A new random id, as ``IdUtils.create()`` makes them: a version-4 UUID in base62.

    Its 122 random bits come from ``random.getrandbits`` (seeded from ``os.urandom`` when
    the process starts, and again in a forked child) rather than from ``os.urandom`` per
    id: ids must be unique, not secret, and a system call per task run let the store's
    writer thread take the interpreter at every one."""
    number = random.getrandbits(128)
    number = (number & ~(0xF000 << 64)) | (4 << 76)  # version 4
    number = (number & ~(0xC000 << 48)) | (0x8000 << 48)  # the RFC 4122 variant
    return _base62(number)


def id_from(text: str) -> str:
    """A stable id derived from ``text`` (``IdUtils.from``: an MD5-based name UUID)."""
    import hashlib

    digest = bytearray(hashlib.md5(text.encode("utf-8")).digest())
    digest[6] = (digest[6] & 0x0F) | 0x30
    digest[8] = (digest[8] & 0x3F) | 0x80
    return _base62(int.from_bytes(bytes(digest), "big"))
