"""Fixtures for the security tests: a live app with a flow driven one step at a time.

The tests start a flow for real (``GET /adobe/connect`` without following the
redirect to the consent page), read ``state`` and ``nonce`` from the consent
URL, and then call ``/adobe/callback`` themselves, with id_tokens forged by
:meth:`LocalIMS.make_id_token` where a test needs one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from flask import Flask

from flask_adobe_admin_auth.testing import LocalIMS

from ..flow import FastLiveServer, Flow, add_csrf_page


@pytest.fixture
def flow(app: Flask, local_ims: LocalIMS) -> Iterator[Flow]:
    add_csrf_page(app)
    server = FastLiveServer(app)
    yield Flow(app, server, local_ims)
    server.stop()


@pytest.fixture
def other_browser() -> Iterator[requests.Session]:
    """A second browser, such as an attacker's."""
    with requests.Session() as client:
        yield client
