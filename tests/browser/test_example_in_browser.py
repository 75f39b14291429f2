"""The example app in a real browser: Chromium driven by Playwright.

The app is opened as ``localhost`` while the IMS stand-in serves its consent
page on ``127.0.0.1``, so the redirect back to the callback is cross-site, as
it is from Adobe, and ``SameSite=Strict`` cookies are withheld on it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from example_app import STAND_IN_KEY, create_app, db
from tests.support import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "_static" / "example-dashboard.png"

# Flags that keep Chromium from reaching for any host but the servers under test.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM}: install Debian's chromium package"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def example_server(
    request: pytest.FixtureRequest, database_url: str, cache_url: str | None
) -> Iterator[LiveServer]:
    samesite = getattr(request, "param", "Lax")
    app = create_app(
        {
            "SECRET_KEY": "browser-test-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ADOBE_ADMIN_AUTH_CACHE": cache_url,
            "SESSION_COOKIE_SAMESITE": samesite,
        }
    )
    server = LiveServer(app)
    yield server

    server.stop()
    app.extensions[STAND_IN_KEY].stop()
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def app_url(server: LiveServer, path: str) -> str:
    return server.url.replace("127.0.0.1", "localhost") + path


def sign_in(page: Any, server: LiveServer) -> None:
    page.goto(app_url(server, "/"))
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_role("button", name="Sign in as acme-admin").click()
    page.wait_for_url("**/dashboard")


@pytest.mark.parametrize("example_server", ["Lax", "Strict"], indirect=True)
def test_connect_token_page_disconnect(chromium: Any, example_server: LiveServer) -> None:
    context = chromium.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in(page, example_server)

    page.get_by_role("link", name="Connect with Adobe").click()
    page.wait_for_url("http://127.0.0.1:*/consent?*")
    page.locator("#org-0").check()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url("**/dashboard")

    assert page.get_by_text("Connected.").is_visible()
    # A Strict session cookie is withheld on the cross-site redirect, so the
    # callback reloads itself once from this site; a Lax one needs no reload.
    bounced = any("adobe_admin_auth_bounce=1" in url for url in requested)
    assert bounced is (example_server.app.config["SESSION_COOKIE_SAMESITE"] == "Strict")
    org_id = page.locator("dd code").first.inner_text()
    assert org_id.endswith("@AdobeOrg")
    if example_server.app.config["SESSION_COOKIE_SAMESITE"] == "Lax":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.get_by_role("link", name="Show your organization from the Adobe API").click()
    page.wait_for_url("**/organization")
    assert org_id in page.content()

    page.goto(app_url(example_server, "/dashboard"))
    page.get_by_role("button", name="Disconnect").click()
    page.wait_for_url("**/dashboard")
    assert page.get_by_text("Not connected.").is_visible()
    context.close()


def test_cancel_shows_cancelled_page(chromium: Any, example_server: LiveServer) -> None:
    context = chromium.new_context()
    page = context.new_page()
    sign_in(page, example_server)

    page.get_by_role("link", name="Connect with Adobe").click()
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url("**/adobe/callback?*")

    assert page.get_by_role("heading", name="Connection cancelled").is_visible()
    page.goto(app_url(example_server, "/dashboard"))
    assert page.get_by_text("Not connected.").is_visible()
    context.close()


def test_error_code_shows_admin_message(chromium: Any, example_server: LiveServer) -> None:
    context = chromium.new_context()
    page = context.new_page()
    sign_in(page, example_server)

    page.get_by_role("link", name="Connect with Adobe").click()
    page.locator("#error-code").select_option("insufficient_privilege")
    page.get_by_role("button", name="Return error").click()
    page.wait_for_url("**/adobe/callback?*")

    heading = page.get_by_role("heading", name="An Adobe administrator must connect")
    assert heading.is_visible()
    context.close()
