"""Blinker signals sent by the extension.

Every signal's sender is the Flask app (``current_app._get_current_object()``).
Payloads carry ids and model objects, never a secret in clear: an
:class:`~flask_adobe_admin_auth.AccessToken` hides its value in ``repr``.

Example subscriber::

    from flask_adobe_admin_auth import consent_granted

    @consent_granted.connect_via(app)
    def welcome(sender, consent, account_id, org_id, **extra):
        app.logger.info("account %s linked org %s", account_id, org_id)
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A customer admin consented and the id_token passed every check.
#: Keyword arguments: ``consent`` (the stored :class:`Consent`), ``account_id``,
#: ``org_id``, ``reconnected`` (``True`` when the pair was linked before).
consent_granted = _signals.signal("consent-granted")

#: The consent flow ended without a consent: the admin cancelled, Adobe
#: returned an error code, or a check failed. Keyword arguments:
#: ``account_id`` (``None`` when no account was signed in), ``reason`` (the
#: error code, ``cancelled``, or the failed check such as ``nonce_mismatch``).
consent_denied = _signals.signal("consent-denied")

#: A consent stopped being usable. Keyword arguments: ``consent``,
#: ``account_id``, ``org_id``, ``reason`` (``disconnected``,
#: ``token_rejected`` or ``revoked_locally``).
consent_revoked = _signals.signal("consent-revoked")

#: A new access token was minted (not sent for cache hits). Keyword
#: arguments: ``org_id``, ``token`` (an :class:`AccessToken`).
token_minted = _signals.signal("token-minted")
