"""The example app's page titles name the page once, then the app."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from example_app import create_app, db
from flask_adobe_admin_auth.testing import LocalIMS

TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)


@pytest.mark.parametrize(
    ("path", "title"),
    [("/", "Example partner app"), ("/sign-in", "Sign in · Example partner app")],
)
def test_page_title_names_app_once(
    local_ims: LocalIMS,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    title: str,
) -> None:
    for name in list(os.environ):
        if name.startswith("ADOBE_ADMIN_AUTH_") and not name.startswith("ADOBE_ADMIN_AUTH_TEST_"):
            monkeypatch.delenv(name)
    app = create_app(
        {
            **local_ims.config(),
            "SECRET_KEY": "test-secret-key-that-is-long-enough",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'example.db'}",
            "ADOBE_ADMIN_AUTH_CACHE": None,
        }
    )

    page = app.test_client().get(path).get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()

    found = TITLE.search(page)
    assert found is not None
    assert found.group(1).strip() == title
