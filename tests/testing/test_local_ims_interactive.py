"""The LocalIMS consent page that people click through, and its form decisions."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from flask_adobe_admin_auth.testing import CONSENT_ERROR_CODES, DEFAULT_ORGS, LocalIMS

ORG_ID = "0123456789ABCDEF01234567@AdobeOrg"
CALLBACK = "http://127.0.0.1:5000/adobe/callback"


class FormParser(HTMLParser):
    """Collect the forms of a page with their action and input fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []
        self.radio_values: list[str] = []
        self.option_values: list[str] = []
        self.button_values: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append(tag)
        if tag == "form":
            self.forms.append(
                {"action": attributes["action"], "method": attributes["method"], "hidden": {}}
            )
        elif tag == "input" and attributes.get("type") == "hidden":
            hidden = self.forms[-1]["hidden"]
            assert isinstance(hidden, dict)
            hidden[attributes["name"]] = attributes["value"]
        elif tag == "input" and attributes.get("type") == "radio":
            self.radio_values.append(attributes["value"])
        elif tag == "option":
            self.option_values.append(attributes["value"])
        elif tag == "button":
            self.button_values.append(attributes["value"])


def consent_page(ims: LocalIMS, **overrides: str) -> requests.Response:
    params = {
        "client_id": ims.client_id,
        "scope": "openid,AdobeID",
        "state": "state-1",
        "nonce": "nonce-1",
        "redirect_uri": CALLBACK,
        **overrides,
    }
    return requests.get(f"{ims.base_url}/consent", params=params, allow_redirects=False, timeout=5)


def parse(page: requests.Response) -> FormParser:
    parser = FormParser()
    parser.feed(page.text)
    return parser


def submit(ims: LocalIMS, fields: dict[str, str]) -> requests.Response:
    return requests.post(f"{ims.base_url}/consent", data=fields, allow_redirects=False, timeout=5)


def hidden_fields(ims: LocalIMS) -> dict[str, str]:
    forms = parse(consent_page(ims)).forms
    hidden = forms[0]["hidden"]
    assert isinstance(hidden, dict)
    return dict(hidden)


def test_page_renders_request(local_ims: LocalIMS) -> None:
    response = consent_page(local_ims)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert '<html lang="en">' in response.text
    assert local_ims.client_id in response.text
    assert "<code>openid</code>" in response.text
    assert "<code>AdobeID</code>" in response.text
    assert "read_organizations" not in response.text


def test_page_has_no_external_assets(local_ims: LocalIMS) -> None:
    response = consent_page(local_ims)

    assert not re.search(r"""(src|href)\s*=""", response.text)
    assert "<script" not in response.text


def test_page_lists_orgs_and_decisions(local_ims: LocalIMS) -> None:
    parser = parse(consent_page(local_ims))

    assert parser.radio_values == list(DEFAULT_ORGS)
    assert parser.option_values == list(CONSENT_ERROR_CODES)
    assert parser.button_values == ["approve", "cancel", "error"]
    assert parser.tags.count("label") >= len(DEFAULT_ORGS) + 1
    assert parser.tags.count("fieldset") == 2


def test_page_carries_request_in_hidden_fields(local_ims: LocalIMS) -> None:
    parser = parse(consent_page(local_ims))

    assert len(parser.forms) == 2
    for form in parser.forms:
        assert form["method"] == "post"
        assert form["action"] == "/consent"
        assert form["hidden"] == {
            "client_id": local_ims.client_id,
            "redirect_uri": CALLBACK,
            "state": "state-1",
            "nonce": "nonce-1",
            "scope": "openid,AdobeID",
        }


def test_page_escapes_request_values(local_ims: LocalIMS) -> None:
    response = consent_page(local_ims, state='"><script>alert(1)</script>')

    assert "<script>" not in response.text
    assert "&quot;&gt;&lt;script&gt;" in response.text
    hidden = parse(response).forms[0]["hidden"]
    assert isinstance(hidden, dict)
    assert hidden["state"] == '"><script>alert(1)</script>'


def test_page_escapes_org_names() -> None:
    with LocalIMS(orgs={"A@AdobeOrg": "<i>Acme</i> & Co"}) as ims:
        response = consent_page(ims)

        assert "&lt;i&gt;Acme&lt;/i&gt; &amp; Co" in response.text
        assert "<i>" not in response.text


def test_approve_redirects_with_id_token(local_ims: LocalIMS) -> None:
    fields = {**hidden_fields(local_ims), "org_id": ORG_ID, "decision": "approve"}

    response = submit(local_ims, fields)

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert location._replace(query="").geturl() == CALLBACK
    assert query["state"] == ["state-1"]
    assert query["admin_consent"] == ["true"]
    assert "id_token" in query
    assert ORG_ID in local_ims.consented_orgs()


def test_cancel_redirects_back(local_ims: LocalIMS) -> None:
    fields = {**hidden_fields(local_ims), "org_id": ORG_ID, "decision": "cancel"}

    response = submit(local_ims, fields)

    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query == {"state": ["state-1"], "admin_consent": ["false"]}
    assert local_ims.consented_orgs() == {}


@pytest.mark.parametrize("code", CONSENT_ERROR_CODES)
def test_error_choice_redirects_with_code(local_ims: LocalIMS, code: str) -> None:
    fields = {**hidden_fields(local_ims), "error_code": code, "decision": "error"}

    response = submit(local_ims, fields)

    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query == {"state": ["state-1"], "error": [code]}


def test_approve_rejects_unknown_org(local_ims: LocalIMS) -> None:
    fields = {**hidden_fields(local_ims), "org_id": "OTHER@AdobeOrg", "decision": "approve"}

    response = submit(local_ims, fields)

    assert response.status_code == 400
    assert "Unknown organization" in response.text
    assert local_ims.consented_orgs() == {}


def test_post_revalidates_redirect_uri(local_ims: LocalIMS) -> None:
    fields = {
        **hidden_fields(local_ims),
        "redirect_uri": "https://evil.example/cb",
        "org_id": ORG_ID,
        "decision": "approve",
    }

    response = submit(local_ims, fields)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert local_ims.consented_orgs() == {}


def test_post_rejects_unknown_decision(local_ims: LocalIMS) -> None:
    fields = {**hidden_fields(local_ims), "decision": "maybe"}

    response = submit(local_ims, fields)

    assert response.status_code == 400
    assert "Invalid decision" in response.text


def test_post_is_not_counted(local_ims: LocalIMS) -> None:
    fields = {**hidden_fields(local_ims), "decision": "cancel"}

    submit(local_ims, fields)

    assert local_ims.consent_requests() == 1


def test_interactive_restores_page(local_ims: LocalIMS) -> None:
    local_ims.auto_cancel()
    local_ims.interactive()

    assert consent_page(local_ims).status_code == 200
