"""View decorators: ``requires_consent`` and ``requires_customer_token``.

Both work on plain and ``async def`` views. The hot path, a signed-in
account with a cached consent and a cached token, reads only the cache.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import g
from flask.typing import ResponseReturnValue

from .errors import (
    ConfigurationError,
    ConsentRevokedError,
    IMSUnavailable,
    NoActiveConsent,
    TokenMintFailed,
)
from .models import Consent
from .responses import connect_required, ims_unavailable, unauthorized
from .runtime import Runtime, get_runtime

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

CONSENT_KEY = "_adobe_admin_auth_consent"
TOKEN_KEY = "_adobe_admin_auth_token"


def requires_consent(view: F) -> F:
    """Run ``view`` only for a signed-in account with an active consent.

    Inside the view, :data:`current_consent` is that consent. Without an
    account the unauthorized handler responds; without a consent a browser
    is sent to connect and a JSON client gets 403 with a ``connect_url``.
    """
    return _wrap(view, _check_consent)


def requires_customer_token(view: F) -> F:
    """Run ``view`` with an access token for the signed-in account's Adobe org.

    Inside the view, :data:`current_consent` and :data:`current_token` are
    set. When IMS rejects the org, its consent is revoked and the response is
    the same as without a consent. When IMS is unreachable the response is
    503 and the consent is left alone.
    """

    def load() -> ResponseReturnValue | None:
        runtime = get_runtime()
        loaded = _load_consent(runtime)
        if not isinstance(loaded, Consent):
            return loaded

        try:
            token = runtime.get_token(loaded.org_id)
        except ConsentRevokedError:
            return connect_required()
        except NoActiveConsent:
            # This process still held the consent while another revoked it:
            # the mint path checks the database and finds it gone.
            logger.info("Consent of org %s was revoked elsewhere; asking to connect", loaded.org_id)
            return connect_required()
        except IMSUnavailable:
            return ims_unavailable()
        except (TokenMintFailed, ConfigurationError) as error:
            logger.error("No token for org %s: %s (%s)", loaded.org_id, error.code, error)
            return ims_unavailable()

        setattr(g, CONSENT_KEY, loaded)
        setattr(g, TOKEN_KEY, token)
        return None

    return _wrap(view, load)


def _check_consent() -> ResponseReturnValue | None:
    loaded = _load_consent(get_runtime())
    if not isinstance(loaded, Consent):
        return loaded
    setattr(g, CONSENT_KEY, loaded)
    return None


def _load_consent(runtime: Runtime) -> Consent | ResponseReturnValue:
    # Returns the consent to act on, or the response that refuses the request.
    account_id = runtime.extension.load_account()
    if account_id is None:
        return unauthorized()
    consent = runtime.extension.select_consent(runtime.active_consents(account_id))
    if consent is None:
        logger.debug("Account %s has no active consent", account_id)
        return connect_required()
    return consent


def _wrap(view: F, before: Callable[[], ResponseReturnValue | None]) -> F:
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            refusal = before()
            if refusal is not None:
                return refusal
            return await view(*args, **kwargs)

        return cast(F, async_wrapper)

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        refusal = before()
        if refusal is not None:
            return refusal
        return view(*args, **kwargs)

    return cast(F, wrapper)
