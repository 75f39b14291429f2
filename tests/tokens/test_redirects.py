"""Redirects from the token endpoint and the JWKS URL are failures, never followed.

A followed 307 or 308 would post the client secret again to whatever URL
the ``Location`` header names.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from flask_adobe_admin_auth import ConfigurationError
from flask_adobe_admin_auth.jwks import JWKSUnavailable
from flask_adobe_admin_auth.testing import LocalIMS

from .conftest import ORGS
from .helpers import runtime_of

ORG = ORGS[0]
AppBuilder = Callable[..., Flask]


class Redirector:
    """Respond to every request with a redirect to ``target`` and counts the requests."""

    def __init__(self, target: str, status: int) -> None:
        self.target = target
        self.status = status
        self.requests = 0
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/moved"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def __call__(self, environ: Any, start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        request.get_data()
        self.requests += 1
        response = Response("moved", status=self.status, headers={"Location": self.target})
        return response(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def redirectors() -> Iterator[Callable[[str, int], Redirector]]:
    started: list[Redirector] = []

    def start(target: str, status: int) -> Redirector:
        redirector = Redirector(target, status)
        started.append(redirector)
        return redirector

    yield start
    for redirector in started:
        redirector.stop()


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_token_redirect_not_followed(
    seeded_app: AppBuilder,
    local_ims: LocalIMS,
    redirectors: Callable[[str, int], Redirector],
    revocations: list[dict[str, Any]],
    status: int,
) -> None:
    redirector = redirectors(str(local_ims.config()["ADOBE_ADMIN_AUTH_TOKEN_URL"]), status)
    app = seeded_app(ADOBE_ADMIN_AUTH_TOKEN_URL=redirector.url)

    with app.app_context(), pytest.raises(ConfigurationError) as raised:
        runtime_of(app).get_token(ORG)

    assert redirector.requests == 1
    assert local_ims.token_requests() == 0
    assert "redirects are not followed" in str(raised.value)
    assert revocations == []


@pytest.mark.parametrize("status", [302, 307, 308])
def test_jwks_redirect_is_failed_fetch(
    make_app: AppBuilder,
    local_ims: LocalIMS,
    redirectors: Callable[[str, int], Redirector],
    status: int,
) -> None:
    redirector = redirectors(str(local_ims.config()["ADOBE_ADMIN_AUTH_JWKS_URL"]), status)
    app = make_app(ADOBE_ADMIN_AUTH_JWKS_URL=redirector.url)

    with pytest.raises(JWKSUnavailable):
        runtime_of(app).jwks.get_key(local_ims.current_kid)

    assert redirector.requests == 1
    assert local_ims.jwks_requests() == 0
