"""What the result pages tell a customer admin, for each way a consent flow can end.

Adobe's error codes come first, then the app's own rejections. Each entry
states what happened and what to do, in words an admin understands, and the
HTTP status of the page.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """A result page: its status, title, explanation and next step.

    ``offer_connect`` shows a "Connect with Adobe again" button, only on pages
    where a new consent flow can succeed: a cancel, an Adobe error the admin
    can fix on Adobe's side, and a rejected callback.
    """

    status: int
    title: str
    message: str
    action: str
    offer_connect: bool = False


#: Adobe's documented error codes, and ``cancelled`` for ``admin_consent=false``.
#: The two setup errors on the app's side offer no new connection, because
#: a new consent flow fails the same way until the app's setup is fixed.
ADOBE_OUTCOMES: dict[str, Outcome] = {
    "cancelled": Outcome(
        403,
        "Connection cancelled",
        "You cancelled on Adobe's consent screen, so nothing was shared with this app.",
        "You can connect your Adobe organization again at any time.",
        offer_connect=True,
    ),
    "insufficient_privilege": Outcome(
        403,
        "An Adobe administrator must connect",
        "The Adobe account you signed in with is not an administrator of its organization.",
        "Ask a system administrator of your Adobe organization to sign in to this app and "
        "connect it, or sign in to Adobe with an administrator account.",
        offer_connect=True,
    ),
    "incompatible_account_type": Outcome(
        403,
        "A company or school account is required",
        "Only a company or school Adobe account can connect an organization; the account you "
        "used is a personal one.",
        "Sign in to Adobe with your company or school account, then connect again.",
        offer_connect=True,
    ),
    "invalid_scopes": Outcome(
        400,
        "This app asked Adobe for permissions it is not set up for",
        "Adobe rejected the permissions this app requested. This is a setup problem on the "
        "app's side, not in your Adobe organization.",
        "Contact this app's support; nothing was shared with the app.",
    ),
    "invalid_redirect_uri": Outcome(
        400,
        "This app's Adobe setup is incomplete",
        "Adobe did not accept the address this app asked it to return to. This is a setup "
        "problem on the app's side.",
        "Contact this app's support; nothing was shared with the app.",
    ),
    "missing_state_param": Outcome(
        400,
        "The connection request was incomplete",
        "Adobe received a connection request without the value that protects it.",
        "Start again from this app; if it keeps happening, contact this app's support.",
        offer_connect=True,
    ),
    "error": Outcome(
        400,
        "Adobe could not complete the connection",
        "Adobe reported an unexpected error while connecting your organization.",
        "Try again in a few minutes; if it keeps failing, contact this app's support.",
        offer_connect=True,
    ),
}

#: Any error code Adobe may add later.
UNKNOWN_ADOBE_ERROR = Outcome(
    400,
    "Adobe could not complete the connection",
    "Adobe returned an error this app does not recognise.",
    "Try again; if it keeps failing, contact this app's support.",
    offer_connect=True,
)

#: A callback that failed one of the app's own checks.
REJECTED = Outcome(
    400,
    "This connection link cannot be used",
    "The link that brought you back from Adobe is invalid, expired, already used, or was "
    "started in another browser or by another account. Nothing was connected.",
    "Start again from this app, in the same browser and while signed in as the same user.",
    offer_connect=True,
)

#: Adobe's signing keys could not be fetched to check a callback. The
#: callback's state was consumed before the check, so its link cannot be
#: reloaded: only a new consent flow, started once Adobe is back, can succeed.
JWKS_UNAVAILABLE = Outcome(
    503,
    "Adobe is not reachable right now",
    "This app could not reach Adobe to check the connection. Nothing was changed.",
    "Wait a few minutes, then start again from this app. Reloading this page will not help, "
    "because the link from Adobe can be used only once.",
)

#: IMS could not be reached, or failed, while the app requested an access token.
IMS_UNAVAILABLE = Outcome(
    503,
    "Adobe is not reachable right now",
    "This app could not reach Adobe to complete the request. Nothing was changed.",
    "Try again in a few minutes.",
)

#: The shared cache that contains pending consent requests cannot be reached.
CACHE_UNAVAILABLE = Outcome(
    503,
    "This app is temporarily unavailable",
    "This app could not complete the request because one of its services is down. Nothing "
    "was changed.",
    "Try again in a few minutes; if it keeps failing, contact this app's support.",
)

#: Seconds a 503 page tells the client to wait, in its ``Retry-After`` header.
RETRY_AFTER_SECONDS = 30

#: No account is signed in and the app has no usable login endpoint. The same
#: page and JSON body serve the consent views and any view behind the decorators.
UNAUTHORIZED = Outcome(
    401,
    "Please sign in",
    "Sign in to this app first.",
    "Sign in, then try again.",
)

#: A signed-in account without an active consent, in the JSON body sent to an API client.
CONSENT_REQUIRED = Outcome(
    403,
    "No Adobe organization is connected",
    "Connect an Adobe organization first.",
    "Connect your Adobe organization from this app, then try again.",
)

#: A disconnect without a valid CSRF token.
CSRF_FAILED = Outcome(
    400,
    "This form has expired",
    "The request did not carry a valid form token, so nothing was changed.",
    "Reload the page and try again.",
)

#: A disconnect form that repeats a field, which no form of this app sends.
FORM_INVALID = Outcome(
    400,
    "This form is invalid",
    "The request repeated a form field, so nothing was changed.",
    "Reload the page and try again.",
)

#: A disconnect for an account with no active connection.
NOT_CONNECTED = Outcome(
    404,
    "No Adobe organization is connected",
    "There is no active connection to disconnect.",
    "You can connect an Adobe organization from this app.",
)


def adobe_outcome(code: str) -> Outcome:
    """Return the page for an Adobe error code, or the generic one for unknown codes."""
    return ADOBE_OUTCOMES.get(code, UNKNOWN_ADOBE_ERROR)
