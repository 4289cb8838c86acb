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


# ----------------------------------------------------------------- secret() values
# Kestra OSS reads a secret NAME from the environment variable SECRET_NAME (base64). A
# `kflow run --secrets FILE` file gives more, for this process only (never put in the
# environment, so script tasks do not inherit them); its values win over the variables.
_file_secrets: dict[str, str] = {}


def use_secrets(values: dict[str, str]) -> None:
    """Make these secrets (name → clear value) available to ``secret()`` in this process."""
    _file_secrets.clear()
    _file_secrets.update(values)


def lookup_secret(name: str) -> str | None:
    """The clear value of secret ``name``: from a secrets file, else ``SECRET_<name>``
    (base64); None when neither has it."""
    if name in _file_secrets:
        return _file_secrets[name]
    raw = os.environ.get(f"SECRET_{name}")
    if raw is None:
        return None
    try:
        return base64.b64decode(raw).decode("utf-8")
    except ValueError as exc:
        raise KflowError(f"SECRET_{name} is not valid base64") from exc


def read_secrets_file(path: Path) -> dict[str, str]:
    """Secrets from a file, name → clear value. ``.env``: ``NAME=BASE64`` lines, as the
    ``SECRET_`` variables (a ``SECRET_`` prefix is dropped; ``#`` comments, ``export``
    and quotes allowed). ``.yml``/``.yaml``: a mapping of names to plain values. Errors
    name the file and line, never a value."""
    from kflow.errors import NotFoundError, UsageError

    name = path.name.lower()
    is_yaml = path.suffix.lower() in (".yml", ".yaml")
    is_env = not is_yaml and (name.endswith(".env") or name.startswith(".env."))
    if not is_env and not is_yaml:
        raise UsageError(
            f"--secrets {path}: not a .env, .yml or .yaml file",
            hint="use a .env file of NAME=BASE64 lines, or a YAML mapping of plain values",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"secrets file not found: {path}") from None
    except UnicodeDecodeError:
        raise UsageError(f"secrets file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise NotFoundError(f"cannot read secrets file {path}: {exc.strerror}") from None
    if is_env:
        return _env_secrets(text, str(path))
    return _yaml_secrets(text, str(path))


def _env_secrets(text: str, where: str) -> dict[str, str]:
    import re

    from kflow.errors import UsageError

    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, raw = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key):
            raise UsageError(
                "a secrets .env line must be NAME=BASE64", path=where, line=number,
                hint="e.g. SECRET_API_KEY=c2stbGl2ZQ== (the value base64-encoded)",
            )  # fmt: skip
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
            raw = raw[1:-1]
        name = key[len("SECRET_") :] if key.startswith("SECRET_") and len(key) > 7 else key
        try:
            found[name] = base64.b64decode(raw, validate=True).decode("utf-8")
        except ValueError:
            raise UsageError(
                f"the value of {key} is not base64 of UTF-8 text", path=where, line=number,
                hint=f"encode it: printf %s 'value' | base64  (then {key}=<that>)",
            ) from None  # fmt: skip
    return found


def _yaml_secrets(text: str, where: str) -> dict[str, str]:
    import json

    import yaml

    from kflow.errors import UsageError
    from kflow.flow.yamlio import YamlDataLoader, load_bounded

    try:
        data = load_bounded(text, YamlDataLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UsageError(
            "the secrets file is not valid YAML", path=where,
            line=mark.line + 1 if mark is not None else None,
        ) from None  # fmt: skip
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"secrets file {where} must hold a mapping of names to values")
    found: dict[str, str] = {}
    for key, value in data.items():
        if value is None:
            raise UsageError(f"secret {key} in {where} has no value")
        if isinstance(value, dict | list):  # a JSON secret, for secret('NAME', subkey=...)
            found[str(key)] = json.dumps(value, default=str)
        elif isinstance(value, bool):
            found[str(key)] = "true" if value else "false"
        else:
            found[str(key)] = str(value)
    return found
