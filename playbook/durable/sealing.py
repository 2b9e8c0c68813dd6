"""Secrets in a durable run's history: sealed with a key that the submitter and the workers
hold (``PLAYBOOK_SECRET_KEY``), never written in the clear.

Standard library only: a keystream of HMAC-SHA256 blocks over (nonce, counter) XORed
with the text, then an HMAC-SHA256 tag over nonce and ciphertext (encrypt-then-MAC, with
keys for the two derived apart). A random 16-byte nonce per sealing. A sealed value is a
mapping ``{"sealed": "<base64>"}``, so that a reader of the history sees what it is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from typing import Any

from playbook.errors import PlaybookError, UsageError

KEY_VARIABLE = "PLAYBOOK_SECRET_KEY"
"""The environment variable holding the key (any text; at least 16 characters)."""

_NONCE = 16
_TAG = 32


class SealBroken(PlaybookError):
    """A sealed value that this key does not open (another key, or altered on the way)."""

    exit_code = 3


def key_from(environ: Mapping[str, str]) -> bytes | None:
    """The key the environment gives, or None; a short one is a usage error."""
    text = environ.get(KEY_VARIABLE)
    if not text:
        return None
    if len(text) < 16:
        raise UsageError(f"{KEY_VARIABLE} is too short: give at least 16 characters")
    return hashlib.sha256(text.encode()).digest()


def _subkey(key: bytes, purpose: bytes) -> bytes:
    return hmac.new(key, purpose, hashlib.sha256).digest()


def _stream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = []
    for counter in range((length + 31) // 32):
        blocks.append(hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest())
    return b"".join(blocks)[:length]


def seal(key: bytes, value: Any) -> dict[str, str]:
    """``value`` (JSON-compatible) sealed with ``key``."""
    plain = json.dumps(value, ensure_ascii=False).encode()
    nonce = secrets.token_bytes(_NONCE)
    stream = _stream(_subkey(key, b"encrypt"), nonce, len(plain))
    cipher = bytes(a ^ b for a, b in zip(plain, stream))
    tag = hmac.new(_subkey(key, b"mac"), nonce + cipher, hashlib.sha256).digest()
    return {"sealed": base64.b64encode(nonce + cipher + tag).decode()}


def is_sealed(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"sealed"}


def unseal(key: bytes | None, value: Mapping[str, str]) -> Any:
    """The value inside; :class:`SealBroken` when ``key`` does not open it."""
    if key is None:
        raise SealBroken(
            f"this run carries sealed secrets, but this worker has no {KEY_VARIABLE}; "
            "give the workers the key the run was submitted with"
        )
    raw = base64.b64decode(value["sealed"])
    nonce, cipher, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    expected = hmac.new(_subkey(key, b"mac"), nonce + cipher, hashlib.sha256).digest()
    if not hmac.compare_digest(tag, expected):
        raise SealBroken(
            f"a sealed secret of this run does not open with this worker's {KEY_VARIABLE}; "
            "the workers need the key the run was submitted with"
        )
    stream = _stream(_subkey(key, b"encrypt"), nonce, len(cipher))
    return json.loads(bytes(a ^ b for a, b in zip(cipher, stream)))


def worker_key() -> bytes | None:
    """The key of this process (submitter or worker)."""
    return key_from(os.environ)
