"""Exceptions raised by the extension.

Every error derives from :class:`AdobeAdminAuthError` and carries a short,
stable ``code`` that logs, audit events and templates can use. Messages never
contain a secret, a token, an id_token or a state value.
"""

from __future__ import annotations


class AdobeAdminAuthError(Exception):
    """Base class of every error the extension raises.

    :param message: a sentence for people: what failed and what to do.
    :param code: a stable machine-readable reason, such as ``nonce_mismatch``.
    :param org_id: the Adobe org involved, when known.
    :param account_id: the partner app's account involved, when known.
    """

    code = "adobe_admin_auth_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        org_id: str | None = None,
        account_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.org_id = org_id
        self.account_id = account_id

    def __str__(self) -> str:
        return self.message


class ConfigurationError(AdobeAdminAuthError):
    """The app's ``ADOBE_ADMIN_AUTH_*`` configuration is missing or invalid.

    Raised at ``init_app`` for a bad key, and when IMS rejects the app's own
    client credentials with every configured secret.
    """

    code = "configuration_error"


class ConsentRejected(AdobeAdminAuthError):
    """A consent callback failed a check, so nothing was stored.

    ``code`` names the check, for example ``state_unknown`` or
    ``id_token_expired``. ``status`` is the HTTP status of the response.
    """

    code = "consent_rejected"

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int = 400,
        org_id: str | None = None,
        account_id: str | None = None,
    ) -> None:
        super().__init__(message, code=code, org_id=org_id, account_id=account_id)
        self.status = status


class TokenMintFailed(AdobeAdminAuthError):
    """IMS did not mint an access token for an org.

    ``debug_id`` is the ``x-debug-id`` header of the IMS response, which Adobe
    support requests. ``status`` is the HTTP status IMS returned, if any.
    """

    code = "token_mint_failed"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        org_id: str | None = None,
        status: int | None = None,
        debug_id: str | None = None,
    ) -> None:
        super().__init__(message, code=code, org_id=org_id)
        self.status = status
        self.debug_id = debug_id


class IMSUnavailable(TokenMintFailed):
    """IMS could not be reached or returned a transient error after retries.

    A transient failure never revokes a consent.
    """

    code = "ims_unavailable"


class ConsentRevokedError(TokenMintFailed):
    """IMS rejected a mint for an org, so the org's consent was marked revoked."""

    code = "consent_revoked"


class NoActiveConsent(AdobeAdminAuthError):
    """The account or org has no active consent to act on.

    Raised by :meth:`AdobeAdminAuth.get_token` and the API session before a
    mint for an org that has no active consent in the app, and by the ``flask
    adobe-admin-auth token`` command.
    """

    code = "no_active_consent"
