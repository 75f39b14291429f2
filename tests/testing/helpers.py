"""What the LocalIMS tests share: the org id they use and an app-side id_token verifier."""

from __future__ import annotations

import requests
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

from flask_adobe_admin_auth.testing import LocalIMS

ORG_ID = "0123456789ABCDEF01234567@AdobeOrg"

# The verifier an app needs: RS256 only, strict header check, and Adobe's
# x5u (a bare file name) and itt headers accepted as strings.
IMS_REGISTRY = JWSRegistry(
    header_registry={
        "x5u": HeaderParameter("X.509 URL", "str"),
        "itt": HeaderParameter("IMS token type", "str"),
    },
    algorithms=["RS256"],
)


def fetch_key_set(ims: LocalIMS) -> KeySet:
    """Fetch and import the key set that ``ims`` serves."""
    response = requests.get(f"{ims.base_url}/ims/keys", timeout=5)
    response.raise_for_status()
    key_set: KeySet = KeySet.import_key_set(response.json())
    return key_set
