"""Secrets stored encrypted at rest (Security and privacy: secrets).

A webhook secret must be retrievable (tnld signs with it), so it cannot be hashed like an API
key: it is encrypted (AES-256-GCM, from ``cryptography``) under a key derived from the current
``TNLD_SECRET_KEY``, and decrypted with any key of the ring. A copy of the database alone does
not yield the secrets. Values written before encryption (they start with ``whsec_``) are read
as they are until migration 0009 has encrypted them.

What is sealed is the secret's 32 random bytes (``whsec_`` + base64 of them is rebuilt when
read): ``s1.`` + base64url(nonce, ciphertext, tag) is 83 characters, within the column.
"""

from __future__ import annotations

import base64
import hashlib
import os
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from app.config import get_settings

#: Plain secrets start so; sealed ones with SEALED_PREFIX.
PLAIN_PREFIX = "whsec_"
SEALED_PREFIX = "s1."
_CONTEXT = b"tnld sealed secrets v1\x00"
_NONCE_BYTES = 12


def _cipher(key: bytes) -> AESGCM:
    return AESGCM(hashlib.sha256(_CONTEXT + key).digest())


def seal(value: str, keys: list[bytes] | None = None) -> str:
    if not value.startswith(PLAIN_PREFIX):
        raise ValueError("Only whsec_ secrets are sealed")
    secret = base64.b64decode(value.removeprefix(PLAIN_PREFIX), validate=True)
    ring = keys or get_settings().secret_keys
    nonce = os.urandom(_NONCE_BYTES)
    sealed = nonce + _cipher(ring[0]).encrypt(nonce, secret, _CONTEXT)
    return SEALED_PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")


def unseal(value: str, keys: list[bytes] | None = None) -> str:
    if value.startswith(PLAIN_PREFIX):
        return value
    return _unseal(value, tuple(keys or get_settings().secret_keys))


@lru_cache(maxsize=256)
def _unseal(value: str, keys: tuple[bytes, ...]) -> str:
    """Decrypting costs a key derivation and AES: the delivery worker reads a recipient's
    secret with every claimed webhook, the same few secrets over and over."""
    raw = base64.urlsafe_b64decode(value.removeprefix(SEALED_PREFIX) + "=" * (-len(value) % 4))
    nonce, ciphertext = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    for key in keys:
        try:
            secret = _cipher(key).decrypt(nonce, ciphertext, _CONTEXT)
        except InvalidTag:
            continue
        return PLAIN_PREFIX + base64.b64encode(secret).decode("ascii")
    raise ValueError("A stored secret cannot be decrypted with any key of TNLD_SECRET_KEY")


class SealedString(TypeDecorator[str]):
    """A string column stored sealed (:func:`seal`) and read unsealed."""

    impl = String(100)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else seal(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else unseal(str(value))
