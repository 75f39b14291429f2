"""HTML pages of the IMS stand-in: the consent page and the error page.

The pages are plain HTML with inline CSS and no scripts or external assets, so
they work offline. Every value taken from a request is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape

#: Error codes that Adobe documents for the redirect back from the consent page.
CONSENT_ERROR_CODES = (
    "invalid_scopes",
    "invalid_redirect_uri",
    "insufficient_privilege",
    "incompatible_account_type",
    "missing_state_param",
    "error",
)

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 40rem;
       padding: 0 1rem; line-height: 1.5; color: #1a1a1a; background: #fff; }
fieldset { margin: 1rem 0; }
button { font-size: 1rem; padding: 0.4rem 1rem; margin-right: 0.5rem; }
.notice { border-left: 4px solid #b36200; padding-left: 0.75rem; }
code { word-break: break-all; }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _hidden_fields(fields: Mapping[str, str]) -> str:
    return "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )


def _org_choices(orgs: Mapping[str, str]) -> str:
    choices = []
    for index, (org_id, name) in enumerate(orgs.items()):
        checked = " checked" if index == 0 else ""
        choices.append(
            f'<div><input type="radio" id="org-{index}" name="org_id" '
            f'value="{escape(org_id)}"{checked}> '
            f'<label for="org-{index}">{escape(name)} <code>{escape(org_id)}</code></label></div>'
        )
    return "\n".join(choices)


def _error_options(codes: Iterable[str]) -> str:
    return "\n".join(f'<option value="{escape(code)}">{escape(code)}</option>' for code in codes)


def render_consent_page(
    *,
    action: str,
    client_id: str,
    scopes: Sequence[str],
    orgs: Mapping[str, str],
    hidden: Mapping[str, str],
) -> str:
    """Render the consent page, where a person approves, cancels or simulates an error.

    :param action: URL that the forms post to.
    :param client_id: the partner app's client id, shown to the person.
    :param scopes: the requested scopes, shown to the person.
    :param orgs: org id to display name, offered as the org that consents.
    :param hidden: request values (state, nonce, redirect URI, ...) carried as hidden fields.
    """
    scope_items = "\n".join(f"<li><code>{escape(scope)}</code></li>" for scope in scopes)
    hidden_fields = _hidden_fields(hidden)
    body = f"""
<h1>Local Adobe IMS: admin consent</h1>
<p class="notice">This page is a local stand-in for Adobe's consent page. No Adobe
server is contacted.</p>
<p>The application <code>{escape(client_id)}</code> requests access with these scopes:</p>
<ul>
{scope_items}
</ul>
<form method="post" action="{escape(action)}">
{hidden_fields}
<fieldset>
<legend>Organization that gives consent</legend>
{_org_choices(orgs)}
</fieldset>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</form>
<form method="post" action="{escape(action)}">
{hidden_fields}
<fieldset>
<legend>Simulate an error</legend>
<label for="error-code">Error code returned to the application</label>
<select id="error-code" name="error_code">
{_error_options(CONSENT_ERROR_CODES)}
</select>
<button type="submit" name="decision" value="error">Return error</button>
</fieldset>
</form>
"""
    return _page("Admin consent (local Adobe IMS)", body)


def render_error_page(title: str, message: str) -> str:
    """Render an error page that the stand-in shows instead of redirecting back."""
    body = f"<h1>{escape(title)}</h1>\n<p>{escape(message)}</p>"
    return _page(title, body)
