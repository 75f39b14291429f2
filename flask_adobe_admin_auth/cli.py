"""Command-line interface: ``flask adobe-admin-auth ...``.

The group is named after the extension rather than a bare ``adobe``, so that
it cannot clash with the commands of another Adobe-related extension in the
same app. Every command runs in an app context and uses the same runtime as
the app's views, so tokens minted here land in the shared cache.

Exit status: 0 on success, 1 when the operation failed (IMS unreachable, a
token not minted, a consent not found by ``revoke``), 2 for invalid arguments.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click
import requests
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from .errors import ConfigurationError, ConsentRevokedError, TokenMintFailed
from .jwks import _parse_key_set
from .mint_policy import CLIENT_ERRORS, Verdict, classify, org_rejections_to_revoke
from .models import CONSENTS_TABLE, EVENTS_TABLE, STATUS_ACTIVE, STATUS_REVOKED, Consent
from .runtime import Runtime, get_runtime
from .settings import PREFIX, Settings
from .signals import token_minted
from .token_endpoint import TokenEndpoint, TokenFailure, TokenGrant
from .tokens import AccessToken

logger = logging.getLogger(__name__)

cli_group = AppGroup(
    "adobe-admin-auth",
    help="Inspect and manage Adobe admin consents and the tokens minted for them.",
)

# Settings fields printed as a count and fingerprints only, never as values.
_SECRET_FIELDS = frozenset({"client_secrets", "token_encryption_keys"})

# Matches the length of the columns that store ids and revocation reasons.
_MAX_ID_LENGTH = 255
_MAX_REASON_LENGTH = 64

# Result of verifying one org that stops the run, because every org would fail alike.
_CREDENTIALS_REJECTED = "client_credentials_rejected"


# check


@cli_group.command("check")
@click.option(
    "--reach",
    is_flag=True,
    help="Also fetch the JWKS and call the token endpoint to test the client credentials.",
)
def check_command(reach: bool) -> None:
    """Print the validated configuration and check the database tables.

    Secrets appear only as a count and short SHA-256 fingerprints. With
    --reach, the command also fetches the JWKS and sends each client secret to
    the token endpoint without an org id. Exits with 1 when a table is
    missing, IMS cannot be reached or IMS rejects every client secret.
    """
    runtime = get_runtime()
    settings = runtime.settings

    click.echo("Configuration (valid):")
    for name, value in _describe_settings(settings):
        click.echo(f"  {name:<26} {value}")
    click.echo(f"  {'cache':<26} {_describe_cache(runtime)}")
    click.echo(f"  {'database':<26} {_describe_database(runtime)}")

    problems = _check_tables(runtime)
    if reach:
        problems += _reach_jwks(settings)
        problems += _reach_token_endpoint(settings)

    if problems:
        raise click.ClickException(f"{problems} check(s) failed; see the lines above.")
    click.echo("All checks passed.")


def _describe_settings(settings: Settings) -> Iterator[tuple[str, str]]:
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if field.name in _SECRET_FIELDS:
            yield field.name, _describe_secrets(value)
        elif isinstance(value, tuple):
            yield field.name, ", ".join(value) if value else "(none)"
        elif value is None:
            yield field.name, "(not set)"
        else:
            yield field.name, str(value)


def _describe_secrets(values: Sequence[str]) -> str:
    if not values:
        return "(none)"
    return f"{len(values)} (fingerprints: {', '.join(_fingerprint(v) for v in values)})"


def _fingerprint(secret: str) -> str:
    # Eight hex digits of a hash tell two deployments' secrets apart without
    # revealing anything usable about a high-entropy secret.
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:8]


def _describe_cache(runtime: Runtime) -> str:
    backend = type(runtime.cache.backend).__name__
    if runtime.cache.is_shared:
        return f"{backend} (shared by every process)"
    return f"{backend} (this process only; set {PREFIX}CACHE when the app runs several workers)"


def _describe_database(runtime: Runtime) -> str:
    return runtime.store.db.engine.url.render_as_string(hide_password=True)


def _check_tables(runtime: Runtime) -> int:
    inspector = sa.inspect(runtime.store.db.engine)
    missing = [name for name in (CONSENTS_TABLE, EVENTS_TABLE) if not inspector.has_table(name)]
    if missing:
        _fail(
            f"Tables missing: {', '.join(missing)}. Create them with `flask db upgrade` "
            "(Flask-Migrate) or db.create_all()."
        )
        return 1
    click.echo(f"Tables {CONSENTS_TABLE} and {EVENTS_TABLE} exist.")
    return 0


def _reach_jwks(settings: Settings) -> int:
    try:
        response = requests.get(settings.jwks_url, timeout=settings.http_timeout)
    except requests.RequestException as error:
        _fail(f"JWKS at {settings.jwks_url} is unreachable: {type(error).__name__}.")
        return 1
    if response.status_code != 200:
        _fail(f"JWKS at {settings.jwks_url} answered HTTP {response.status_code}.")
        return 1

    try:
        raw = response.json()
    except ValueError:
        raw = None
    keys = _parse_key_set(raw)
    if keys is None:
        _fail(f"JWKS at {settings.jwks_url} holds no usable RS256 signing key.")
        return 1
    click.echo(f"JWKS at {settings.jwks_url}: {len(keys)} RS256 key(s), kids {', '.join(keys)}.")
    return 0


def _reach_token_endpoint(settings: Settings) -> int:
    """Send each client secret to the token endpoint without an org id.

    IMS cannot mint a token without an org, so this request can only prove a
    secret wrong, with an ``invalid_client`` response. The stand-in checks the
    client before the org. Whether Adobe's IMS does the same is not
    documented, so a secret that IMS does not reject is reported as "not
    rejected" and never as "valid".
    """
    rejected = 0
    for position, secret in enumerate(settings.client_secrets, start=1):
        label = (
            f"Client secret {position} of {len(settings.client_secrets)} ({_fingerprint(secret)})"
        )
        try:
            response = requests.post(
                settings.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": settings.client_id,
                    "client_secret": secret,
                    "scope": settings.scope_param,
                },
                timeout=settings.http_timeout,
            )
        except requests.RequestException as error:
            _fail(f"Token endpoint {settings.token_url} is unreachable: {type(error).__name__}.")
            return 1

        error_code = _oauth_error_code(response)
        debug_id = response.headers.get("x-debug-id")
        if response.status_code >= 500 or response.status_code == 429:
            _fail(
                f"Token endpoint {settings.token_url} answered HTTP {response.status_code} "
                f"(x-debug-id {debug_id}); try again later."
            )
            return 1
        if error_code in CLIENT_ERRORS:
            rejected += 1
            click.echo(f"{label}: rejected by IMS ({error_code}, x-debug-id {debug_id}).")
        elif response.status_code == 200:
            click.echo(f"{label}: IMS minted a token without an org id.")
        else:
            answer = f"HTTP {response.status_code}" + (f" {error_code}" if error_code else "")
            click.echo(f"{label}: not rejected ({answer}).")

    if rejected == len(settings.client_secrets):
        _fail(
            "IMS rejected every client secret: copy the current one from the Adobe Developer "
            f"Console into {PREFIX}CLIENT_SECRET."
        )
        return 1
    if rejected:
        click.echo(
            f"Warning: IMS rejected {rejected} client secret(s); remove them from "
            f"{PREFIX}CLIENT_SECRETS once the rotation is done.",
            err=True,
        )
    click.echo(
        "IMS confirms the client credentials only when it mints a token for a consented org: "
        "run `flask adobe-admin-auth token ORG_ID` for that."
    )
    return 0


def _oauth_error_code(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    # Printable and short, because the value comes from the network.
    if isinstance(error, str) and error.isprintable():
        return error[:100]
    return None


def _fail(message: str) -> None:
    click.secho("Error: " + message, err=True, fg="red")


# consents


@cli_group.group("consents")
def consents_group() -> None:
    """List and inspect stored consents."""


@consents_group.command("list")
@click.option("--account", "account_id", help="Only consents of this account id.")
@click.option("--org", "org_id", help="Only consents for this Adobe org id.")
@click.option(
    "--status",
    type=click.Choice([STATUS_ACTIVE, STATUS_REVOKED]),
    help="Only active or only revoked consents.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Maximum number of consents to print, most recently updated first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
def consents_list_command(
    account_id: str | None, org_id: str | None, status: str | None, limit: int, as_json: bool
) -> None:
    """List consents, most recently updated first."""
    _check_id("--account", account_id)
    _check_id("--org", org_id)

    consents = get_runtime().store.find(
        account_id=account_id, org_id=org_id, status=status, limit=limit
    )
    if as_json:
        click.echo(json.dumps([_consent_to_json(consent) for consent in consents], indent=2))
        return
    if not consents:
        click.echo("No consents match.")
        return

    rows = [
        (
            str(consent.id),
            consent.account_id,
            consent.org_id,
            consent.status,
            _format_time(consent.granted_at),
            _format_time(consent.revoked_at),
        )
        for consent in consents
    ]
    _print_table(("ID", "ACCOUNT", "ORG", "STATUS", "GRANTED", "REVOKED"), rows)
    if len(consents) == limit:
        click.echo(f"(first {limit} shown; raise --limit to see more)", err=True)


@consents_group.command("show")
@click.argument("consent_id", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def consents_show_command(consent_id: int, as_json: bool) -> None:
    """Show one consent and its audit trail."""
    store = get_runtime().store
    consent = _get_consent(consent_id)
    events = store.events(consent_id=consent.id)

    if as_json:
        data = _consent_to_json(consent)
        data["events"] = [
            {
                "id": event.id,
                "kind": event.kind,
                "reason": event.reason,
                "created_at": event.created_at.isoformat(),
            }
            for event in events
        ]
        click.echo(json.dumps(data, indent=2))
        return

    for name, value in _consent_to_json(consent).items():
        if isinstance(value, list):
            value = ", ".join(value)
        click.echo(f"{name + ':':<22} {'-' if value is None else value}")
    click.echo("")
    click.echo("Audit trail:")
    if not events:
        click.echo("  (no events)")
    for event in events:
        reason = f" ({event.reason})" if event.reason else ""
        click.echo(f"  {_format_time(event.created_at)}  {event.kind}{reason}")


def _get_consent(consent_id: int) -> Consent:
    consent = get_runtime().store.get(consent_id)
    if consent is None:
        raise click.BadParameter(
            f"no consent with id {consent_id}; list them with `consents list`.",
            param_hint="'CONSENT_ID'",
        )
    return consent


def _consent_to_json(consent: Consent) -> dict[str, Any]:
    return {
        "id": consent.id,
        "account_id": consent.account_id,
        "org_id": consent.org_id,
        "technical_account_id": consent.technical_account_id,
        "scopes": list(consent.scopes),
        "status": consent.status,
        "granted_at": consent.granted_at.isoformat(),
        "revoked_at": consent.revoked_at.isoformat() if consent.revoked_at else None,
        "revoked_reason": consent.revoked_reason,
        "updated_at": consent.updated_at.isoformat(),
    }


def _format_time(value: dt.datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    for row in (header, *rows):
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _check_id(option: str, value: str | None) -> None:
    if value is not None and not 0 < len(value.strip()) <= _MAX_ID_LENGTH:
        raise click.BadParameter(
            f"must be 1 to {_MAX_ID_LENGTH} characters, got {len(value)}.", param_hint=option
        )


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
    _check_id("'ORG_ID'", org_id)
    if show_token and not sys.stdout.isatty():
        # A pipe or a redirect would put the token into a file or a log.
        raise click.UsageError(
            "--show-token prints the access token only to a terminal, and standard output is "
            "not one. Run the command in a terminal, or call adobe.get_token() in code."
        )

    runtime = get_runtime()
    if not runtime.store.active_consents_for_org(org_id):
        raise click.BadParameter(
            f"no active consent for org {org_id}; list them with `consents list --status active`.",
            param_hint="'ORG_ID'",
        )

    with _record_mints(current_app._get_current_object()) as minted:  # type: ignore[attr-defined]
        try:
            token = runtime.extension.get_token(org_id)
        except (TokenMintFailed, ConfigurationError) as error:
            raise click.ClickException(_describe_mint_error(error)) from None

    click.echo(f"Org:        {token.org_id}")
    click.echo(f"Source:     {'minted now' if minted else 'cache'}")
    click.echo(f"Expires at: {_format_time(token.expires_at)} (in {_format_duration(token)})")
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
    label = f"{'Asking IMS about' if dry_run else 'Verifying'} {len(orgs)} org(s)"
    with click.progressbar(orgs, label=label, file=sys.stderr) as progress:
        for org_id in progress:
            if dry_run:
                results[org_id] = _probe_org(runtime.settings, org_id)
            else:
                results[org_id] = _verify_org(runtime, org_id)
            if results[org_id] == _CREDENTIALS_REJECTED:
                break

    _print_verify_results(results, consents_by_org, dry_run)

    failed = [org for org, result in results.items() if result not in ("ok", "revoked")]
    if len(results) < len(orgs):
        raise click.ClickException(
            "IMS rejected the app's client credentials; stopped before checking every org. "
            "Run `flask adobe-admin-auth check --reach`."
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
        return _CREDENTIALS_REJECTED
    return "ok"


def _probe_org(settings: Settings, org_id: str) -> str:
    """Request a token for ``org_id`` and classify the response, changing nothing.

    Unlike a mint, the probe does not retry transient failures. It asks a
    second time only when the mint policy wants an org rejection confirmed.
    """
    endpoint = TokenEndpoint(
        url=settings.token_url,
        client_id=settings.client_id,
        scope=settings.scope_param,
        timeout=settings.http_timeout,
    )
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
        return result.error or f"{verdict.value}, HTTP {result.status}"
    return _CREDENTIALS_REJECTED


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


# revoke


@cli_group.command("revoke")
@click.argument("consent_id", type=click.IntRange(min=1))
@click.option(
    "--reason",
    default="revoked_locally",
    show_default=True,
    help=f"Reason stored with the consent and its audit event (at most {_MAX_REASON_LENGTH} "
    "characters).",
)
def revoke_command(consent_id: int, reason: str) -> None:
    """Revoke a consent in this app without notifying Adobe.

    The account has to connect again to use the org. To remove the app's
    access on Adobe's side, a customer admin revokes it in the Adobe Admin
    Console.
    """
    reason = reason.strip()
    if not 0 < len(reason) <= _MAX_REASON_LENGTH or not reason.isprintable():
        raise click.BadParameter(
            f"must be 1 to {_MAX_REASON_LENGTH} printable characters.", param_hint="'--reason'"
        )

    consent = _get_consent(consent_id)
    if not consent.is_active:
        click.echo(f"Consent {consent.id} was already revoked ({consent.revoked_reason}).")
        return

    runtime = get_runtime()
    if runtime.extension.revoke_consent(consent, reason=reason):
        click.echo(
            f"Revoked consent {consent.id} of account {consent.account_id} for org "
            f"{consent.org_id}."
        )
    else:
        click.echo(f"Consent {consent.id} was revoked by someone else meanwhile.")
