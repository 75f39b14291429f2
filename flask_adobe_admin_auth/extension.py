"""The ``AdobeAdminAuth`` extension object."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import requests
from cachelib import BaseCache
from flask import Flask, current_app
from flask.typing import ResponseReturnValue
from flask_sqlalchemy import SQLAlchemy

from .api_session import AdobeAPISession
from .blueprint import blueprint
from .cache import SharedCache, cache_from_config
from .config_reader import PREFIX
from .crypto import TokenCipher
from .errors import ConfigurationError
from .models import ID_MAX_LENGTH, Consent
from .runtime import EXTENSION_KEY, Runtime, get_runtime
from .settings import Settings, load_settings
from .store import EVENT_REVOKED, ConsentStore
from .tokens import AccessToken

logger = logging.getLogger(__name__)

AccountLoader = Callable[[], "str | None"]
UnauthorizedHandler = Callable[[], ResponseReturnValue]
OrgSelector = Callable[[Sequence[Consent]], "str | None"]


class AdobeAdminAuth:
    """Adobe admin authentication for a Flask app.

    :param app: the app to initialise now; leave ``None`` with an app factory
        and call :meth:`init_app` later.
    :param db: the app's ``flask_sqlalchemy.SQLAlchemy`` instance; the
        extension's tables join its metadata. Defaults to the instance
        registered on the app.
    :param cache: a cachelib cache shared by every worker, or a cache URL
        such as ``redis://...``; overrides ``ADOBE_ADMIN_AUTH_CACHE``.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        db: SQLAlchemy | None = None,
        cache: BaseCache | str | None = None,
    ) -> None:
        self.db = db
        self.cache = cache
        self._account_loader: AccountLoader | None = None
        self._unauthorized_handler: UnauthorizedHandler | None = None
        self._org_selector: OrgSelector | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Validate the configuration and register the blueprint, cache and tables on ``app``.

        :raises ConfigurationError: for a missing or invalid setting.
        :raises RuntimeError: when called twice for the same app.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(
                "AdobeAdminAuth is already initialised on this app; call init_app once per app."
            )

        settings = load_settings(app.config)
        secret_key = app.config.get("SECRET_KEY")
        if not secret_key:
            raise ConfigurationError(
                "SECRET_KEY is missing: the extension signs the browser binding cookie and "
                "encrypts cached tokens with it. Set app.config['SECRET_KEY'] to a long random "
                "value.",
                code="invalid_setting",
            )
        _warn_about_session_cookie(app)

        db = self.db if self.db is not None else app.extensions.get("sqlalchemy")
        if not isinstance(db, SQLAlchemy):
            raise ConfigurationError(
                "AdobeAdminAuth needs Flask-SQLAlchemy: pass db=SQLAlchemy(app) or initialise "
                "Flask-SQLAlchemy on the app before AdobeAdminAuth.",
                code="invalid_setting",
            )

        backend = self.cache if self.cache is not None else app.config.get(PREFIX + "CACHE")
        cache = SharedCache(cache_from_config(backend), settings.cache_key_prefix)
        if not cache.is_shared:
            logger.info(
                "Using an in-process cache: correct for one process only; set %sCACHE to a "
                "Redis URL when the app runs several workers",
                PREFIX,
            )

        fallbacks = list(app.config.get("SECRET_KEY_FALLBACKS") or [])
        cipher = TokenCipher(settings.token_encryption_keys or [secret_key, *reversed(fallbacks)])

        app.extensions[EXTENSION_KEY] = Runtime(
            app=app,
            extension=self,
            settings=settings,
            store=ConsentStore(db),
            cache=cache,
            cipher=cipher,
        )
        app.register_blueprint(blueprint, url_prefix=settings.url_prefix)
        app.jinja_env.globals["adobe_admin_auth_csrf_token"] = _csrf_token

        from .cli import cli_group

        app.cli.add_command(cli_group)
        logger.debug("AdobeAdminAuth initialised for client %s", settings.client_id)

    # Hooks the app registers

    def account_loader(self, loader: AccountLoader) -> AccountLoader:
        """Register the callable that returns the signed-in account id, or ``None``.

        The id is stored with each consent, so it may be at most
        255 characters (``models.ID_MAX_LENGTH``);
        :meth:`load_account` raises ``ValueError`` for a longer one.
        """
        self._account_loader = loader
        return loader

    def unauthorized_handler(self, handler: UnauthorizedHandler) -> UnauthorizedHandler:
        """Register the response for requests that need a signed-in account but have none.

        Without one, the extension redirects to ``ADOBE_ADMIN_AUTH_LOGIN_ENDPOINT``
        when it is set, and responds with 401 otherwise.
        """
        self._unauthorized_handler = handler
        return handler

    def org_selector(self, selector: OrgSelector) -> OrgSelector:
        """Register the callable that picks an org id when an account has several consents.

        It receives the active consents, most recent first, and returns an org
        id or ``None`` for the most recent one.
        """
        self._org_selector = selector
        return selector

    def load_account(self) -> str | None:
        """Call the account loader; an empty value means no account is signed in.

        :raises RuntimeError: when no account loader is registered.
        :raises TypeError: when the loader returns something other than a string or ``None``.
        :raises ValueError: when the loader returns an id longer than
            255 characters (``models.ID_MAX_LENGTH``), which the consent
            tables cannot store.
        """
        if self._account_loader is None:
            raise RuntimeError(
                "No account loader registered: decorate a function with @adobe.account_loader "
                "that returns the signed-in account id or None."
            )
        account = self._account_loader()
        if account is None or account == "":
            return None
        if not isinstance(account, str):
            raise TypeError(
                f"The account loader must return a str or None, got {type(account).__name__}."
            )
        if len(account) > ID_MAX_LENGTH:
            raise ValueError(
                f"The account loader returned an id of {len(account)} characters; the consent "
                f"tables store at most {ID_MAX_LENGTH}. Return a shorter key for the account."
            )
        return account

    def select_consent(self, consents: Sequence[Consent]) -> Consent | None:
        """Pick the consent to act on from an account's active consents, most recent first.

        The registered :meth:`org_selector` picks when there is one. Without
        one, or when it returns ``None``, the most recent consent is used. An
        org id that names none of ``consents`` gives ``None``.
        """
        if not consents:
            return None
        if self._org_selector is not None:
            org_id = self._org_selector(consents)
            if org_id is not None:
                return next((c for c in consents if c.org_id == org_id), None)
        return consents[0]

    # Operations usable in any app context: views, jobs, CLI

    def get_token(self, org_id: str) -> AccessToken:
        """Return an access token for ``org_id``, from the cache or freshly minted.

        Works in any app context (views, background jobs, CLI commands).

        :raises ConsentRevokedError: IMS rejected the org; its consent was revoked.
        :raises IMSUnavailable: IMS could not be reached after retries.
        :raises TokenMintFailed: any other failure of the token endpoint.
        """
        return get_runtime().get_token(org_id)

    def invalidate_token(self, org_id: str) -> None:
        """Drop the cached token of ``org_id`` in the shared cache and in this process.

        The next :meth:`get_token` in this process mints a new token. Other
        processes keep their own copy for at most ``CONSENT_LOCAL_TIMEOUT``
        seconds before they read the shared cache again.
        """
        get_runtime().tokens.invalidate(org_id)

    def active_consent(self, account_id: str, org_id: str | None = None) -> Consent | None:
        """Return the account's active consent for ``org_id``, or the one the selector picks."""
        consents = get_runtime().active_consents(account_id)
        if org_id is not None:
            return next((c for c in consents if c.org_id == org_id), None)
        return self.select_consent(consents)

    def consents(self, account_id: str) -> Sequence[Consent]:
        """Return the account's active consents, most recent first."""
        return get_runtime().active_consents(account_id)

    def revoke_consent(self, consent: Consent, *, reason: str = "revoked_locally") -> bool:
        """Mark ``consent`` revoked here (Adobe is not notified) and send ``consent_revoked``.

        :returns: whether this call revoked it; ``False`` when it was revoked already.
        :raises ValueError: when ``reason`` is empty or longer than
            64 characters (``models.REASON_MAX_LENGTH``).
        """
        return get_runtime().revoke(consent, reason=reason, event_kind=EVENT_REVOKED)

    def api_session(self, org_id: str) -> requests.Session:
        """Return a ``requests`` session that calls Adobe APIs as ``org_id``'s technical account.

        It sends the bearer token, ``x-api-key`` and ``x-gw-ims-org-id``, and on
        a 401 drops the token, mints a new one and retries once.
        """
        return AdobeAPISession(current_app._get_current_object(), org_id)  # type: ignore[attr-defined]

    @property
    def settings(self) -> Settings:
        """The validated settings of the current app."""
        return get_runtime().settings

    @property
    def unauthorized_callback(self) -> UnauthorizedHandler | None:
        """The handler registered with :meth:`unauthorized_handler`, or ``None``."""
        return self._unauthorized_handler


def _csrf_token() -> str:
    return get_runtime().binding.csrf_token()


def _warn_about_session_cookie(app: Flask) -> None:
    samesite = app.config.get("SESSION_COOKIE_SAMESITE")
    if isinstance(samesite, str) and samesite.lower() == "strict":
        logger.warning(
            "SESSION_COOKIE_SAMESITE is 'Strict': browsers do not send the session cookie on "
            "Adobe's redirect back, so the callback answers with a page that reloads it from "
            "this site once. Use 'Lax' to avoid that extra step."
        )
