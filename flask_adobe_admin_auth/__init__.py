"""Adobe admin authentication (Enterprise Web App credential) for Flask partner apps."""

from __future__ import annotations

from .decorators import requires_consent, requires_customer_token
from .errors import (
    AdobeAdminAuthError,
    ConfigurationError,
    ConsentRejected,
    ConsentRevokedError,
    IMSUnavailable,
    NoActiveConsent,
    TokenMintFailed,
)
from .extension import AdobeAdminAuth
from .models import Consent, ConsentEvent
from .proxies import current_consent, current_token
from .signals import consent_denied, consent_granted, consent_revoked, token_minted
from .tokens import AccessToken

__all__ = [
    "AccessToken",
    "AdobeAdminAuth",
    "AdobeAdminAuthError",
    "ConfigurationError",
    "Consent",
    "ConsentEvent",
    "ConsentRejected",
    "ConsentRevokedError",
    "IMSUnavailable",
    "NoActiveConsent",
    "TokenMintFailed",
    "consent_denied",
    "consent_granted",
    "consent_revoked",
    "current_consent",
    "current_token",
    "requires_consent",
    "requires_customer_token",
    "token_minted",
]
