"""Encryption of access tokens before they enter the shared cache.

Keys come from ``ADOBE_ADMIN_AUTH_TOKEN_ENCRYPTION_KEYS`` (newest first) or,
when that is unset, from the app's ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS``.
Each configured string is stretched with HKDF-SHA256 into a Fernet key, so
any high-entropy string works. The first key encrypts; every key decrypts,
which lets a deployment rotate keys without dropping cached tokens.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

logger = logging.getLogger(__name__)

_HKDF_INFO = b"flask-adobe-admin-auth token cache v1"


class TokenCipher:
    """Encrypts and decrypts cache values with the newest of several keys."""

    def __init__(self, secrets: Sequence[str | bytes]) -> None:
        if not secrets:
            raise ValueError("TokenCipher needs at least one secret")
        self._fernet = MultiFernet([Fernet(_derive_key(secret)) for secret in secrets])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str | None:
        """Return the plaintext, or ``None`` when no key opens the value (it is then ignored)."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            logger.warning("A cached token could not be decrypted with any configured key")
            return None


def _derive_key(secret: str | bytes) -> bytes:
    material = secret.encode() if isinstance(secret, str) else secret
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(material)
    return base64.urlsafe_b64encode(key)
