"""The ``check`` command: print the validated configuration, check the tables and reach IMS."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Sequence

import click
import requests
import sqlalchemy as sa

from ..config_reader import PREFIX
from ..jwks import parse_key_set
from ..mint_policy import CLIENT_ERRORS
from ..models import CONSENTS_TABLE, EVENTS_TABLE
from ..runtime import Runtime, get_runtime
from ..settings import Settings
from . import cli_group
from .output import fail

# Settings fields printed as a count and fingerprints only, never as values.
_SECRET_FIELDS = frozenset({"client_secrets", "token_encryption_keys"})


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
        fail(
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
        fail(f"JWKS at {settings.jwks_url} is unreachable: {type(error).__name__}.")
        return 1
    if response.status_code != 200:
        fail(f"JWKS at {settings.jwks_url} answered HTTP {response.status_code}.")
        return 1

    try:
        raw = response.json()
    except ValueError:
        raw = None
    keys = parse_key_set(raw)
    if keys is None:
        fail(f"JWKS at {settings.jwks_url} holds no usable RS256 signing key.")
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
            fail(f"Token endpoint {settings.token_url} is unreachable: {type(error).__name__}.")
            return 1

        error_code = _oauth_error_code(response)
        debug_id = response.headers.get("x-debug-id")
        if response.status_code >= 500 or response.status_code == 429:
            fail(
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
        fail(
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
