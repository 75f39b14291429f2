"""The ``token`` and ``verify`` commands, which get tokens for orgs and detect revoked consents."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask, current_app

from ..errors import ConfigurationError, ConsentRevokedError, NoActiveConsent, TokenMintFailed
from ..mint_policy import Verdict, classify, org_rejections_to_revoke
from ..models import STATUS_ACTIVE
from ..runtime import Runtime, get_runtime
from ..settings import Settings
from ..signals import token_minted
from ..token_endpoint import TokenEndpoint, TokenFailure, TokenGrant
from ..tokens import AccessToken
from . import cli_group
from .output import check_id, format_time

logger = logging.getLogger(__name__)


class _ConfigurationRejected(Exception):
    """IMS rejected the app's configuration, so every remaining org would fail alike.

    :param code: the OAuth error code, such as ``invalid_client`` or ``invalid_scope``.
    """

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# token


@cli_group.command("token")
@click.argument("org_id")
@click.option(
    "--show-token",
    is_flag=True,
    help="Also print the access token; only allowed when standard output is a terminal.",
)
def token_command(org_id: str, show_token: bool) -> None:
    """Get an access token for ORG_ID and print its expiry.

    The token comes from the cache when a fresh one is there, and is minted
    otherwise. ORG_ID must have an active consent.
    """
    check_id("'ORG_ID'", org_id)
    if show_token and not sys.stdout.isatty():
        # A pipe or a redirect would put the token into a file or a log.
        raise click.UsageError(
            "--show-token prints the access token only to a terminal, and standard output is "
            "not one. Run the command in a terminal, or call adobe.get_token() in code."
        )

    runtime = get_runtime()
    try:
        runtime.require_active_org(org_id)
    except NoActiveConsent:
        raise click.BadParameter(
            f"no active consent for org {org_id}; list them with `consents list --status active`.",
            param_hint="'ORG_ID'",
        ) from None

    with _record_mints(current_app._get_current_object()) as minted:  # type: ignore[attr-defined]
        try:
            token = runtime.extension.get_token(org_id)
        except (TokenMintFailed, ConfigurationError) as error:
            raise click.ClickException(_describe_mint_error(error)) from None

    click.echo(f"Org:        {token.org_id}")
    click.echo(f"Source:     {'minted now' if minted else 'cache'}")
    click.echo(f"Expires at: {format_time(token.expires_at)} (in {_format_duration(token)})")
    click.echo(f"Scopes:     {', '.join(token.scopes)}")
    if show_token:
        click.echo(f"Token:      {token.access_token}")


@contextmanager
def _record_mints(app: Flask) -> Iterator[list[str]]:
    minted: list[str] = []

    def remember(sender: Any, org_id: str, **extra: Any) -> None:
        minted.append(org_id)

    with token_minted.connected_to(remember, app):
        yield minted


def _describe_mint_error(error: TokenMintFailed | ConfigurationError) -> str:
    message = f"No token for org {error.org_id}: {error.message} (code {error.code}"
    debug_id = getattr(error, "debug_id", None)
    if debug_id:
        message += f", x-debug-id {debug_id}"
    return message + ")"


def _format_duration(token: AccessToken) -> str:
    seconds = max(int(token.expires_in), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min"


# verify


@cli_group.command("verify")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Ask IMS once per org and report what would be revoked, without revoking or caching.",
)
def verify_command(dry_run: bool) -> None:
    """Mint a token for every org with an active consent, to detect revocations.

    Adobe does not notify apps when an admin revokes consent, so run this
    from cron. The command drops each org's cached token and mints a new one.
    IMS rejecting an org revokes the org's consents, as a rejected mint in a
    request would. A transient failure revokes nothing.

    Exits with 0 when every org was checked (revocations included) and with
    1 when IMS could not be asked about some org.
    """
    runtime = get_runtime()
    active = runtime.store.find(status=STATUS_ACTIVE)
    consents_by_org: dict[str, int] = {}
    for consent in active:
        consents_by_org[consent.org_id] = consents_by_org.get(consent.org_id, 0) + 1
    orgs = sorted(consents_by_org)
    if not orgs:
        click.echo("No active consents to verify.")
        return

    results: dict[str, str] = {}
    rejected_code: str | None = None
    label = f"{'Asking IMS about' if dry_run else 'Verifying'} {len(orgs)} org(s)"
    with click.progressbar(orgs, label=label, file=sys.stderr) as progress:
        for org_id in progress:
            try:
                if dry_run:
                    results[org_id] = _probe_org(runtime.settings, org_id)
                else:
                    results[org_id] = _verify_org(runtime, org_id)
            except _ConfigurationRejected as error:
                results[org_id] = error.code
                rejected_code = error.code
                break

    _print_verify_results(results, consents_by_org, dry_run)

    failed = [org for org, result in results.items() if result not in ("ok", "revoked")]
    if rejected_code is not None:
        raise click.ClickException(
            "IMS rejected the app's configuration (client secret, scopes or token URL): "
            f"{rejected_code}. Stopped before checking every org; run "
            "`flask adobe-admin-auth check --reach`."
        )
    if failed:
        raise click.ClickException(f"{len(failed)} org(s) could not be checked; run again later.")


def _verify_org(runtime: Runtime, org_id: str) -> str:
    # A cached token proves nothing about the org today: mint a new one.
    runtime.tokens.invalidate(org_id)
    try:
        runtime.get_token(org_id)
    except ConsentRevokedError:
        return "revoked"
    except TokenMintFailed as error:
        logger.warning("Verify could not check org %s: %s (%s)", org_id, error.code, error)
        return error.code
    except ConfigurationError as error:
        logger.error("Verify stopped at org %s: %s", org_id, error)
        raise _ConfigurationRejected(error.code) from None
    return "ok"


def _probe_org(settings: Settings, org_id: str) -> str:
    """Request a token for ``org_id`` and classify the response, changing nothing.

    Unlike a mint, the probe does not retry transient failures. It sends a
    second request only when the mint policy requires an org rejection to be confirmed.

    :raises _ConfigurationRejected: when IMS rejects every client secret or
        the request's configuration, as a real mint would.
    """
    endpoint = TokenEndpoint.from_settings(settings)
    rejections_to_revoke = org_rejections_to_revoke(settings.org_rejection_errors)
    for secret in settings.client_secrets:
        rejections = 0
        while True:
            result: TokenGrant | TokenFailure = endpoint.request(org_id, secret)
            if isinstance(result, TokenGrant):
                return "ok"
            verdict = classify(result, settings.org_rejection_errors)
            if verdict is not Verdict.ORG_REJECTED:
                break
            rejections += 1
            if rejections >= rejections_to_revoke:
                return "revoked"

        if verdict is Verdict.CLIENT_REJECTED:
            continue
        if verdict is Verdict.CONFIGURATION:
            raise _ConfigurationRejected(result.error or f"HTTP {result.status}")
        return result.error or f"{verdict.value}, HTTP {result.status}"
    raise _ConfigurationRejected("invalid_client")


def _print_verify_results(
    results: dict[str, str], consents_by_org: dict[str, int], dry_run: bool
) -> None:
    revoked_word = "would be revoked" if dry_run else "revoked"
    for org_id, result in results.items():
        if result == "revoked":
            count = consents_by_org[org_id]
            click.echo(f"{org_id}: IMS rejected the org; {count} consent(s) {revoked_word}.")
        elif result != "ok":
            click.echo(f"{org_id}: not checked ({result}).")

    ok = sum(result == "ok" for result in results.values())
    revoked = sum(result == "revoked" for result in results.values())
    failed = len(results) - ok - revoked
    prefix = "Dry run: " if dry_run else ""
    click.echo(f"{prefix}{ok} ok, {revoked} {revoked_word}, {failed} failed.")
