"""Kestra-style ids: FriendlyId, the base62 form of a random UUID (about 22 characters)."""

from __future__ import annotations

import hashlib
import uuid

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
    """A new random id, as ``IdUtils.create()`` makes them."""
    return _base62(uuid.uuid4().int)


def id_from(text: str) -> str:
    """A stable id derived from ``text`` (``IdUtils.from``: an MD5-based name UUID)."""
    digest = bytearray(hashlib.md5(text.encode("utf-8")).digest())
    digest[6] = (digest[6] & 0x0F) | 0x30
    digest[8] = (digest[8] & 0x3F) | 0x80
    return _base62(int.from_bytes(bytes(digest), "big"))
