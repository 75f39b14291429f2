"""Per-app state: the services one app's settings build, kept in ``app.extensions``."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flask import Flask, current_app

from .browser import BrowserBinding
from .cache import SharedCache
from .consent_request import ConsentRequests, digest
from .crypto import TokenCipher
from .errors import ConsentRevokedError, NoActiveConsent
from .jwks import JWKSClient
from .models import REASON_MAX_LENGTH, Consent
from .settings import Settings
from .signals import consent_revoked, token_minted
from .store import EVENT_TOKEN_REJECTED, ConsentStore
from .token_endpoint import TokenFailure
from .token_service import TokenService
from .tokens import AccessToken
from .verifier import IdTokenVerifier

if TYPE_CHECKING:
    from .extension import AdobeAdminAuth

logger = logging.getLogger(__name__)

EXTENSION_KEY = "adobe_admin_auth"

#: Accounts whose consents one process keeps at most; past it the snapshots start over.
LOCAL_CONSENT_MAX_ACCOUNTS = 10_000


class Runtime:
    """Everything the extension built for one app."""

    def __init__(
        self,
        *,
        app: Flask,
        extension: AdobeAdminAuth,
        settings: Settings,
        store: ConsentStore,
        cache: SharedCache,
        cipher: TokenCipher,
    ) -> None:
        self.extension = extension
        self.settings = settings
        self.store = store
        self.cache = cache
        self.binding = BrowserBinding(settings)
        self.consent_requests = ConsentRequests(cache, settings.state_max_age)
        self.jwks = JWKSClient(
            url=settings.jwks_url,
            cache=cache,
            cache_timeout=settings.jwks_cache_timeout,
            refetch_cooldown=settings.jwks_refetch_cooldown,
            http_timeout=settings.http_timeout,
        )
        self.verifier = IdTokenVerifier(
            jwks=self.jwks,
            cache=cache,
            client_id=settings.client_id,
            issuers=settings.issuers,
            leeway=settings.clock_leeway,
            org_id_claim=settings.org_id_claim,
            max_length=settings.max_id_token_length,
        )
        self.tokens = TokenService(
            settings,
            cache=cache,
            cipher=cipher,
            on_org_rejected=self._revoke_rejected_org,
            on_minted=self._send_token_minted,
            check_org=self.require_active_org,
        )
        self._app = app
        # account id -> (monotonic expiry, active consents)
        self._consent_snapshots: dict[str, tuple[float, Sequence[Consent]]] = {}

    # Consents, cached for the request hot path

    def active_consents(self, account_id: str) -> Sequence[Consent]:
        """Return the account's active consents, from a cache when possible.

        The lookup tries three layers in turn: a snapshot in this process that lives
        ``CONSENT_LOCAL_TIMEOUT`` seconds, the shared cache
        (``CONSENT_CACHE_TIMEOUT``), then the database. A grant, revocation or
        disconnect clears the first two layers at once in the process that
        made it, and other processes see it within ``CONSENT_LOCAL_TIMEOUT``.
        """
        now = time.monotonic()
        snapshot = self._consent_snapshots.get(account_id)
        if snapshot is not None and snapshot[0] > now:
            return snapshot[1]

        key = "consents:" + digest(account_id)
        consents: Sequence[Consent] | None = self._read_cached_consents(key)
        if consents is None:
            consents = self.store.active_consents(account_id)
            if self.settings.consent_cache_timeout > 0:
                self.cache.try_set(
                    key,
                    [consent.to_cache() for consent in consents],
                    timeout=self.settings.consent_cache_timeout,
                )

        # An empty list is not kept here: right after a grant in another
        # worker, this process must not send the account back to connect.
        ttl = min(self.settings.consent_local_timeout, self.settings.consent_cache_timeout)
        if consents and ttl > 0:
            if len(self._consent_snapshots) >= LOCAL_CONSENT_MAX_ACCOUNTS:
                self._consent_snapshots.clear()
            self._consent_snapshots[account_id] = (now + ttl, consents)
        return consents

    def _read_cached_consents(self, key: str) -> list[Consent] | None:
        cached = self.cache.try_get(key)
        if not isinstance(cached, list):
            return None
        consents = [Consent.from_cache(item) for item in cached]
        if not all(consent is not None for consent in consents):
            return None
        return [consent for consent in consents if consent is not None]

    def forget_consents(self, account_id: str) -> None:
        """Drop the cached consents of ``account_id`` here and in the shared cache."""
        self._consent_snapshots.pop(account_id, None)
        self.cache.try_delete("consents:" + digest(account_id))

    def forget_org_locally(self, org_id: str) -> None:
        """Drop this process's consent snapshots that name ``org_id``."""
        for account_id, (_, consents) in list(self._consent_snapshots.items()):
            if any(consent.org_id == org_id for consent in consents):
                self._consent_snapshots.pop(account_id, None)

    def revoke(self, consent: Consent, *, reason: str, event_kind: str) -> bool:
        """Revoke ``consent``, drop its cached state, and send ``consent_revoked`` once.

        :returns: whether this call revoked it; ``False`` when it was revoked already.
        :raises ValueError: when ``reason`` is empty or longer than
            ``REASON_MAX_LENGTH`` (64) characters, the size of the column that stores it.
        """
        if not 0 < len(reason) <= REASON_MAX_LENGTH:
            raise ValueError(
                f"The revocation reason must be 1 to {REASON_MAX_LENGTH} characters, "
                f"got {len(reason)}."
            )

        changed = self.store.revoke(consent.id, reason=reason, event_kind=event_kind)
        self.forget_consents(consent.account_id)
        if not self.store.active_consents_for_org(consent.org_id):
            self.tokens.invalidate(consent.org_id)
        if changed:
            logger.info(
                "Consent %s of account %s for org %s revoked: %s",
                consent.id,
                consent.account_id,
                consent.org_id,
                reason,
            )
            consent_revoked.send(
                self._app,
                consent=consent,
                account_id=consent.account_id,
                org_id=consent.org_id,
                reason=reason,
            )
        return changed

    def get_token(self, org_id: str) -> AccessToken:
        """Return a token for ``org_id``; on a revoked org also drop the local consent snapshots.

        The worker that saw IMS reject the org revoked the consent; a worker
        that only read that outcome must stop using its snapshot as well.
        """
        try:
            return self.tokens.get_token(org_id)
        except ConsentRevokedError:
            self.forget_org_locally(org_id)
            raise

    def require_active_org(self, org_id: str) -> None:
        """Check that some account has an active consent for ``org_id``, in the database.

        :raises NoActiveConsent: when no account has one.
        """
        if not self.store.active_consents_for_org(org_id):
            raise NoActiveConsent(f"No active consent for org {org_id}.", org_id=org_id)

    # Hooks of the token service

    def _revoke_rejected_org(self, org_id: str, failure: TokenFailure) -> None:
        logger.warning(
            "IMS rejected tokens for org %s (HTTP %s, error %s, x-debug-id %s); revoking its "
            "consents",
            org_id,
            failure.status,
            failure.error,
            failure.debug_id,
        )
        for consent in self.store.active_consents_for_org(org_id):
            self.revoke(consent, reason="token_rejected", event_kind=EVENT_TOKEN_REJECTED)
        self.tokens.invalidate(org_id)

    def _send_token_minted(self, token: AccessToken) -> None:
        token_minted.send(self._app, org_id=token.org_id, token=token)


def get_runtime(app: Flask | None = None) -> Runtime:
    """Return the runtime of ``app`` (default: the current app).

    :raises RuntimeError: when the extension was not initialised on that app.
    """
    target = app if app is not None else current_app
    runtime = target.extensions.get(EXTENSION_KEY)
    if not isinstance(runtime, Runtime):
        raise RuntimeError(
            "AdobeAdminAuth is not initialised on this app: call adobe.init_app(app) first."
        )
    return runtime
