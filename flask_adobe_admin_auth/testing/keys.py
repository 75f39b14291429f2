"""Signing keys and JWTs shaped like the ones Adobe IMS issues.

Adobe's JWTs seen in public code share one header layout:
``{"alg": "RS256", "x5u": "<kid>.cer", "kid": "<kid>", "itt": "<type>"}``
with no ``typ``. ``x5u`` is a bare file name and ``itt`` is not a registered
JOSE header, so the registry below accepts both as plain strings.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

#: Size of the RSA signing keys, as on Adobe's published key set.
RSA_KEY_SIZE = 2048

#: Prefix of the ``kid`` values, followed by a counter (``ims_na1-key-1``, ...).
KID_PREFIX = "ims_na1-key-"

#: Header parameters that Adobe's JWTs carry beyond the JOSE registry's rules.
IMS_HEADER_PARAMETERS = {
    "x5u": HeaderParameter("X.509 URL, a bare file name in Adobe's tokens", "str"),
    "itt": HeaderParameter("IMS token type (id, at)", "str"),
}


def b64url(data: bytes) -> str:
    """Encode ``data`` as unpadded base64url, as JWS compact serialization does."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def json_b64url(value: Mapping[str, Any]) -> str:
    """Serialize a JSON object compactly and encode it as unpadded base64url."""
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def apply_overrides(base: dict[str, Any], overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return ``base`` updated with ``overrides``, where a ``None`` value deletes the key."""
    merged = dict(base)
    for name, value in (overrides or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def ims_header(kid: str, *, alg: str = "RS256", itt: str = "id") -> dict[str, Any]:
    """Build the JOSE header of an IMS token, in Adobe's field order and without ``typ``.

    :param itt: IMS token type, ``id`` for id_tokens and ``at`` for access tokens.
    """
    return {"alg": alg, "x5u": f"{kid}.cer", "kid": kid, "itt": itt}


def sign_jwt(header: Mapping[str, Any], claims: Mapping[str, Any], key: RSAKey) -> str:
    """Sign a JWT with ``key`` using the algorithm named in ``header["alg"]``.

    ``RS*`` and ``PS*`` algorithms are signed by joserfc. Two forgeries are built by
    hand because no correct library produces them:

    - ``HS256``: an HMAC whose secret is the PEM of ``key``'s public key, as in the
      algorithm-confusion attack on verifiers that pass the RSA key to any algorithm;
    - ``none``: an unsigned token with an empty signature segment.

    :raises ValueError: when ``header`` has no ``alg``.
    :raises joserfc.errors.JoseError: when joserfc cannot sign with that algorithm.
    """
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise ValueError(f"the JWT header needs a string 'alg', got {alg!r}")

    if alg == "none":
        return f"{json_b64url(header)}.{json_b64url(claims)}."

    if alg == "HS256":
        signing_input = f"{json_b64url(header)}.{json_b64url(claims)}"
        secret = key.as_pem(private=False)
        digest = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(digest)}"

    # strict_check_header=False lets tests add any header field; joserfc still
    # checks the values of the fields it registers (for example ``jku`` must be a URL).
    registry = JWSRegistry(
        header_registry=IMS_HEADER_PARAMETERS,
        algorithms=[alg],
        strict_check_header=False,
    )
    return jwt.encode(
        dict(header), dict(claims), key, algorithms=[alg], registry=registry, default_type=None
    )


def fake_access_token(
    *,
    client_id: str,
    technical_account_id: str,
    org_id: str,
    scopes: list[str],
    created_at: int,
    lifetime: int,
) -> str:
    """Build an opaque access token that looks like an IMS access token.

    The payload carries ``created_at`` and ``expires_in`` as strings in
    milliseconds, like Adobe's. The signature segment is random bytes, so the
    token cannot be verified: apps must treat it as opaque and use the token
    response's ``expires_in``.
    """
    header = ims_header("ims_na1-key-at-1", itt="at")
    payload = {
        "id": secrets.token_hex(16),
        "type": "access_token",
        "client_id": client_id,
        "user_id": technical_account_id,
        "org": org_id,
        "as": "ims-na1",
        "scope": ",".join(scopes),
        "created_at": str(created_at * 1000),
        "expires_in": str(lifetime * 1000),
    }
    return f"{json_b64url(header)}.{json_b64url(payload)}.{b64url(secrets.token_bytes(256))}"


class KeyRing:
    """RSA signing keys of the stand-in: one current key plus older published keys.

    Thread-safe. Keys get ``kid`` values ``ims_na1-key-1``, ``ims_na1-key-2``, ... in
    creation order, and the counter keeps growing across :meth:`replace_all`, so a
    ``kid`` is never reused for a different key.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = 0
        self._keys: list[RSAKey] = [self._generate()]

    def _generate(self) -> RSAKey:
        self._counter += 1
        key: RSAKey = RSAKey.generate_key(
            RSA_KEY_SIZE, parameters={"kid": f"{KID_PREFIX}{self._counter}"}
        )
        return key

    @property
    def current(self) -> RSAKey:
        """The key that signs new id_tokens."""
        with self._lock:
            return self._keys[-1]

    def rotate(self, *, keep_old: bool = True) -> str:
        """Generate a new current key and return its ``kid``.

        :param keep_old: keep publishing the previous keys, so tokens they signed
            still verify; ``False`` drops them from the key set.
        """
        with self._lock:
            key = self._generate()
            self._keys = [*self._keys, key] if keep_old else [key]
            return key.kid or ""

    def replace_all(self) -> str:
        """Drop every key, generate a fresh current key and return its ``kid``."""
        return self.rotate(keep_old=False)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """Build the published key set, newest key first, with Adobe's key fields only."""
        with self._lock:
            keys = list(reversed(self._keys))

        published = []
        for key in keys:
            public = key.as_dict(private=False)
            published.append(
                {
                    "alg": "RS256",
                    "kty": "RSA",
                    "use": "sig",
                    "kid": str(key.kid),
                    "e": str(public["e"]),
                    "n": str(public["n"]),
                }
            )
        return {"keys": published}
