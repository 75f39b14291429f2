"""Default values of the ``ADOBE_ADMIN_AUTH_*`` configuration keys.

Each name here is the key without its prefix. Times are in seconds.
"""

from __future__ import annotations

#: Adobe's consent screen (Enterprise Web App credential).
CONSENT_URL = "https://id.adobe.com/consent"

#: IMS token endpoint for the client-credentials grant.
TOKEN_URL = "https://ims-na1.adobelogin.com/ims/token/v3"

#: IMS JSON Web Key Set that signs id_tokens.
JWKS_URL = "https://ims-na1.adobelogin.com/ims/keys"

#: Accepted ``iss`` values. Adobe's API reference names the first, while the
#: OpenID discovery document of IMS names the second.
ISSUER = ("https://ims-na1.adobelogin.com/ims", "https://ims-na1.adobelogin.com")

#: Scopes requested on the consent screen and for every token.
SCOPES = ("openid", "AdobeID")

#: Mount point of the consent blueprint.
URL_PREFIX = "/adobe"

#: How long a started consent flow stays valid.
STATE_MAX_AGE = 600

#: Clock skew tolerated on ``exp`` and ``iat`` of an id_token.
CLOCK_LEEWAY = 60

#: A cached access token is renewed this long before it expires.
TOKEN_REFRESH_MARGIN = 300

#: Upper bound on a token's lifetime; a larger ``expires_in`` is capped.
TOKEN_MAX_LIFETIME = 7 * 24 * 3600

#: Timeout of one HTTP request to IMS.
HTTP_TIMEOUT = 10.0

#: Attempts at one request to IMS when it fails transiently.
HTTP_MAX_ATTEMPTS = 3

#: Upper bound on the time spent retrying one request to IMS.
HTTP_MAX_RETRY_TIME = 20.0

#: First backoff delay between retries; it doubles per attempt, with jitter.
HTTP_BACKOFF = 0.5

#: How long the JWKS stays cached.
JWKS_CACHE_TIMEOUT = 6 * 3600

#: Minimum time between two JWKS fetches triggered by an unknown ``kid``.
JWKS_REFETCH_COOLDOWN = 60

#: Lifetime of the lease that lets one worker mint an org's token.
MINT_LEASE_TIMEOUT = 30

#: How long a request waits for another worker's mint before giving up.
MINT_WAIT_TIMEOUT = 35

#: How long the active consents of an account stay in the shared cache.
CONSENT_CACHE_TIMEOUT = 300

#: How long each process keeps its own copy of an account's active consents.
#: Other processes see a revocation within this time, so keep it short.
CONSENT_LOCAL_TIMEOUT = 2.0

#: Claim name preferred for the org id (``orgId`` or ``org_id``).
ORG_ID_CLAIM = "orgId"

#: Name of the cookie that binds a consent flow to the browser.
BINDING_COOKIE_NAME = "adobe_admin_auth_binding"

#: ``SameSite`` of the binding cookie. ``Strict`` would drop it on Adobe's
#: cross-site redirect back to the callback.
BINDING_COOKIE_SAMESITE = "Lax"

#: Longest accepted ``state`` in a callback.
MAX_STATE_LENGTH = 256

#: Longest accepted ``id_token`` in a callback.
MAX_ID_TOKEN_LENGTH = 16 * 1024

#: Longest accepted ``next`` target on connect and disconnect.
MAX_PARAM_LENGTH = 2048

#: Prefix of every key the extension writes to the cache.
CACHE_KEY_PREFIX = "adobe_admin_auth:"
