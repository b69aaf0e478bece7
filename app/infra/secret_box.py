"""Encrypting a small secret that must be read back (a TOTP secret) with a key derived from the
app's SECRET_KEY, so that a copy of the database alone does not reveal it.

Fernet (AES-128-CBC with HMAC-SHA256) from `cryptography`; the key is HKDF-SHA256 of the
secret key with a purpose label, so it is never the key that signs sessions. Keys listed in
SECRET_KEY_FALLBACKS (Flask's setting for rotating the secret key) still open what they
sealed; what is sealed now uses SECRET_KEY.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "fernet1:"


class SecretUnreadableError(Exception):
    """The stored value was sealed with a key this app no longer has (or was altered)."""


def derive_key(secret_key: str, purpose: str) -> bytes:
    """32 bytes for one purpose: HKDF-SHA256 of the secret key with the label "rungs:<purpose>"
    (also the key of the recovery codes' HMAC)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"rungs:{purpose}".encode()
    ).derive(secret_key.encode("utf-8", "surrogatepass"))


def _fernet(secret_key: str, purpose: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derive_key(secret_key, purpose)))


def _box(keys: Iterable[str], purpose: str) -> MultiFernet:
    return MultiFernet([_fernet(key, purpose) for key in keys if key])


def seal(plain: str, *, keys: Iterable[str], purpose: str) -> str:
    """`plain` encrypted with the first of `keys` (the current secret key)."""
    return PREFIX + _box(keys, purpose).encrypt(plain.encode()).decode("ascii")


def open_sealed(sealed: str, *, keys: Iterable[str], purpose: str) -> str:
    """What `seal` was given, with any of `keys`; SecretUnreadableError when none opens it."""
    if not sealed.startswith(PREFIX):
        raise SecretUnreadableError("not a sealed value")
    try:
        return _box(keys, purpose).decrypt(sealed[len(PREFIX) :].encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError) as error:
        raise SecretUnreadableError("sealed with another key") from error


def is_sealed_with_current_key(sealed: str, *, keys: Iterable[str], purpose: str) -> bool:
    """Whether the first of `keys` opens it (False: a fallback key did, or none)."""
    first = next((key for key in keys if key), None)
    if first is None or not sealed.startswith(PREFIX):
        return False
    try:
        _fernet(first, purpose).decrypt(sealed[len(PREFIX) :].encode("ascii"))
    except (InvalidToken, ValueError):
        return False
    return True
