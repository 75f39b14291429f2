"""The ``consents list``, ``consents show`` and ``revoke`` commands."""

from __future__ import annotations

import json
from typing import Any

import click

from ..models import REASON_MAX_LENGTH, STATUS_ACTIVE, STATUS_REVOKED, Consent
from ..runtime import get_runtime
from . import cli_group
from .output import check_id, format_time, print_table


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
    check_id("--account", account_id)
    check_id("--org", org_id)

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
            format_time(consent.granted_at),
            format_time(consent.revoked_at),
        )
        for consent in consents
    ]
    print_table(("ID", "ACCOUNT", "ORG", "STATUS", "GRANTED", "REVOKED"), rows)
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
        click.echo(f"  {format_time(event.created_at)}  {event.kind}{reason}")


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


# revoke


@cli_group.command("revoke")
@click.argument("consent_id", type=click.IntRange(min=1))
@click.option(
    "--reason",
    default="revoked_locally",
    show_default=True,
    help=f"Reason stored with the consent and its audit event (at most {REASON_MAX_LENGTH} "
    "characters).",
)
def revoke_command(consent_id: int, reason: str) -> None:
    """Revoke a consent in this app without notifying Adobe.

    The account has to connect again to use the org. To remove the app's
    access on Adobe's side, a customer admin revokes it in the Adobe Admin
    Console.
    """
    reason = reason.strip()
    if not 0 < len(reason) <= REASON_MAX_LENGTH or not reason.isprintable():
        raise click.BadParameter(
            f"must be 1 to {REASON_MAX_LENGTH} printable characters.", param_hint="'--reason'"
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
