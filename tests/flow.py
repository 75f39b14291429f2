"""A consent flow driven one step at a time, against a live app.

The tests start a flow for real (``GET /adobe/connect`` without following the
redirect to the consent page), read ``state`` and ``nonce`` from the consent
URL, and then call ``/adobe/callback`` themselves, with id_tokens forged by
:meth:`LocalIMS.make_id_token` where a test needs one.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from flask import Flask, render_template_string
from werkzeug.serving import make_server

from flask_adobe_admin_auth.models import Consent, ConsentEvent
from flask_adobe_admin_auth.runtime import Runtime, get_runtime
from flask_adobe_admin_auth.testing import LocalIMS

from .support import ORG_A, LiveServer


class FastLiveServer(LiveServer):
    """A :class:`LiveServer` that stops within 50 ms instead of the default 0.5 s poll."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()


class Flow:
    """Steps of the consent flow against one live app, for any number of browsers."""

    def __init__(self, app: Flask, server: LiveServer, ims: LocalIMS) -> None:
        self.app = app
        self.server = server
        self.ims = ims
        self.url = server.url

    @property
    def runtime(self) -> Runtime:
        return get_runtime(self.app)

    def sign_in(self, browser: requests.Session, account: str) -> None:
        response = browser.get(f"{self.url}/login/{account}")
        assert response.status_code == 200

    def start(self, browser: requests.Session, *, next_url: str | None = None) -> tuple[str, str]:
        """Start a flow and return the ``(state, nonce)`` sent to the consent page."""
        params = {"next": next_url} if next_url is not None else None
        response = browser.get(f"{self.url}/adobe/connect", params=params, allow_redirects=False)
        assert response.status_code == 302
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        return query["state"][0], query["nonce"][0]

    def id_token(self, nonce: str | None, *, org_id: str = ORG_A, **overrides: Any) -> str:
        return self.ims.make_id_token(org_id=org_id, nonce=nonce, **overrides)

    def callback(
        self, browser: requests.Session | None, params: Any, **kwargs: Any
    ) -> requests.Response:
        """Call the callback with ``params`` (a dict, a list of pairs or a raw query)."""
        client: Any = browser if browser is not None else requests
        if isinstance(params, str):
            return client.get(  # type: ignore[no-any-return]
                f"{self.url}/adobe/callback?{params}", allow_redirects=False, **kwargs
            )
        return client.get(  # type: ignore[no-any-return]
            f"{self.url}/adobe/callback", params=params, allow_redirects=False, **kwargs
        )

    def finish(
        self, browser: requests.Session, state: str, id_token: str, **kwargs: Any
    ) -> requests.Response:
        """Return to the callback as Adobe does after a consent."""
        params = {"state": state, "admin_consent": "true", "id_token": id_token}
        return self.callback(browser, params, **kwargs)

    def bounce_target(self, response: requests.Response) -> str:
        """Return the absolute URL that a bounce page reloads."""
        assert response.status_code == 200
        found = re.search(r'content="0;url=([^"]+)"', response.text)
        assert found is not None, "not a bounce page"
        return self.url + html.unescape(found.group(1))

    def connect(self, browser: requests.Session, org_id: str = ORG_A) -> requests.Response:
        """Run a whole successful flow for ``org_id`` in ``browser``."""
        state, nonce = self.start(browser)
        return self.finish(browser, state, self.id_token(nonce, org_id=org_id))

    def consents(self, account: str) -> Sequence[Consent]:
        with self.app.app_context():
            return self.runtime.store.find(account_id=account)

    def all_consents(self) -> Sequence[Consent]:
        with self.app.app_context():
            return self.runtime.store.find()

    def events(self, account: str | None = None) -> Sequence[ConsentEvent]:
        with self.app.app_context():
            return self.runtime.store.events(account_id=account)


def add_csrf_page(app: Flask) -> None:
    """Add ``/adobe-test/csrf``, a page that prints a disconnect form's CSRF token."""

    @app.get("/adobe-test/csrf")
    def csrf_page() -> str:
        return render_template_string("csrf={{ adobe_admin_auth_csrf_token() }}")


def csrf_token(flow: Flow, browser: requests.Session) -> str:
    """Return a disconnect form's CSRF token for ``browser``."""
    page = browser.get(f"{flow.url}/adobe-test/csrf")
    found = re.search(r"csrf=(\S+)", page.text)
    assert found is not None
    return found.group(1)


def active_orgs(flow: Flow, account: str) -> list[str]:
    """Return the org ids of ``account``'s active consents, most recently updated first."""
    return [consent.org_id for consent in flow.consents(account) if consent.status == "active"]


def disconnect(flow: Flow, browser: requests.Session, **form: str) -> requests.Response:
    """Post ``form`` to the disconnect endpoint as ``browser``, without following the redirect."""
    return browser.post(f"{flow.url}/adobe/disconnect", data=form, allow_redirects=False)
