"""A ``requests`` session that calls Adobe APIs as one org's technical account."""

from __future__ import annotations

import logging
from typing import Any

import requests
from flask import Flask

from .runtime import get_runtime
from .tokens import AccessToken

logger = logging.getLogger(__name__)


class AdobeAPISession(requests.Session):
    """Sends the org's bearer token, ``x-api-key`` and ``x-gw-ims-org-id`` with every request.

    On a 401 it drops the cached token, mints a new one and retries once. A
    mint that IMS rejects for the org revokes the org's consent and raises
    :class:`~flask_adobe_admin_auth.ConsentRevokedError`.

    The session keeps a reference to the app, so it also works outside an
    app context, for example in a Celery task that created it inside one.

    NOTE: the retry after a 401 sends ``data`` again. A body given as a
    generator or an open file cannot be sent twice, so pass bytes, a dict
    or ``json``.
    """

    def __init__(self, app: Flask, org_id: str) -> None:
        super().__init__()
        self.app = app
        self.org_id = org_id
        with app.app_context():
            self.client_id = get_runtime(app).settings.client_id

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        response, token = self._send_with_token(method, url, args, kwargs)
        if response.status_code != 401:
            return response

        logger.info(
            "Adobe API returned 401 for org %s (x-debug-id %s); minting a new token and "
            "retrying once",
            self.org_id,
            response.headers.get("x-debug-id"),
        )
        response.close()
        with self.app.app_context():
            # Only this token is dropped: a concurrent caller may have replaced it already.
            get_runtime(self.app).tokens.invalidate(self.org_id, only=token)
        response, _ = self._send_with_token(method, url, args, kwargs)
        return response

    def _send_with_token(
        self, method: str | bytes, url: str | bytes, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[requests.Response, AccessToken]:
        with self.app.app_context():
            token = get_runtime(self.app).get_token(self.org_id)
        kwargs = dict(kwargs)
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Authorization"] = token.authorization_header
        headers["x-api-key"] = self.client_id
        headers["x-gw-ims-org-id"] = self.org_id
        kwargs["headers"] = headers
        return super().request(method, url, *args, **kwargs), token
