"""Encryption at rest for SECRET inputs/outputs and script ``encryptedOutputs``.

Values are stored as Kestra stores them, ``{"type": "io.kestra.datatype:aes_encrypted",
"value": <base64>}``, so a stored execution never holds them in clear text. The key is
``$KFLOW_ENCRYPTION_KEY`` (base64 of 32 bytes) or a file ``encryption.key`` created in the
kflow home with owner-only permissions on first use. AES-256-GCM from ``cryptography``.
"""

from __future__ import annotations

import base64
import os
import threading
from pathlib import Path
from typing import Any

from kflow.errors import KflowError

ENCRYPTED_TYPE = "io.kestra.datatype:aes_encrypted"
MASK = "******"
_lock = threading.Lock()
_keys: dict[str, bytes] = {}


def _key() -> bytes:
    env = os.environ.get("KFLOW_ENCRYPTION_KEY")
    if env:
        try:
            key = base64.b64decode(env, validate=True)
        except ValueError as exc:
            raise KflowError(
                "KFLOW_ENCRYPTION_KEY is not valid base64",
                hint="generate one with: python -c 'import os,base64;"
                "print(base64.b64encode(os.urandom(32)).decode())'",
            ) from exc
        if len(key) != 32:
            raise KflowError("KFLOW_ENCRYPTION_KEY must decode to 32 bytes (AES-256)")
        return key
    from kflow.home import kflow_home

    path = kflow_home() / "encryption.key"
    cache_key = str(path)
    with _lock:
        if cache_key in _keys:
            return _keys[cache_key]
        key = _read_or_create(path)
        _keys[cache_key] = key
        return key


def _read_or_create(path: Path) -> bytes:
    if path.exists():
        return base64.b64decode(path.read_bytes().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, base64.b64encode(key))
    finally:
        os.close(fd)
    return key


def encrypt(plaintext: str) -> dict[str, str]:
    """Encrypt a string into Kestra's encrypted-value shape."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    data = AESGCM(_key()).encrypt(nonce, plaintext.encode("utf-8"), None)
    return {"type": ENCRYPTED_TYPE, "value": base64.b64encode(nonce + data).decode("ascii")}


def decrypt(value: dict[str, Any] | str) -> str:
    """Decrypt a value made by :func:`encrypt` (the dict or its ``value`` string)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = value["value"] if isinstance(value, dict) else value
    key = _key()
    try:
        blob = base64.b64decode(raw, validate=True)
        if len(blob) < 12 + 16:  # nonce + GCM tag
            raise ValueError("too short")
    except (TypeError, ValueError) as exc:
        # a hand-written --context file, or a value encrypted by something else
        raise KflowError(
            f"cannot decrypt {str(raw)[:40]!r}: not a value kflow encrypted",
            hint='an encrypted value is {"type": "io.kestra.datatype:aes_encrypted", '
            '"value": <base64 of nonce + AES-GCM ciphertext>}',
        ) from exc
    try:
        return AESGCM(key).decrypt(blob[:12], blob[12:], None).decode("utf-8")
    except (InvalidTag, UnicodeDecodeError) as exc:
        raise KflowError(
            "cannot decrypt a stored secret: the encryption key changed",
            hint="use the KFLOW_ENCRYPTION_KEY (or encryption.key) that the run was made with",
        ) from exc


def is_encrypted(value: Any) -> bool:
    """True for Kestra's ``{"type": "io.kestra.datatype:aes_encrypted", "value": ...}``."""
    return isinstance(value, dict) and value.get("type") == ENCRYPTED_TYPE and "value" in value


def decrypt_tree(value: Any) -> Any:
    """A copy of ``value`` with every encrypted leaf replaced by its plaintext."""
    if isinstance(value, dict):
        if is_encrypted(value):
            return decrypt(value)
        return {k: decrypt_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decrypt_tree(v) for v in value]
    return value


def mask_tree(value: Any) -> Any:
    """A copy of ``value`` with every encrypted leaf shown as ``******`` (for display)."""
    if isinstance(value, dict):
        if is_encrypted(value):
            return MASK
        return {k: mask_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_tree(v) for v in value]
    return value
