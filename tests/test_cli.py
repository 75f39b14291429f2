"""The ``flask adobe-admin-auth`` commands, run against LocalIMS and the configured storage."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from flask_adobe_admin_auth import Consent, consent_revoked
from flask_adobe_admin_auth.runtime import get_runtime
from flask_adobe_admin_auth.testing import LocalIMS

from .support import ORG_A, ORG_B

AppFactory = Callable[..., Flask]


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["adobe-admin-auth", *args])


def seed(app: Flask, account_id: str, org_id: str) -> Consent:
    with app.app_context():
        consent, _ = get_runtime().store.grant(
            account_id=account_id,
            org_id=org_id,
            technical_account_id=f"tech-{account_id}@techacct.adobe.com",
            scopes="openid,AdobeID",
        )
    return consent


def stored(app: Flask, consent_id: int) -> Consent:
    with app.app_context():
        consent = get_runtime().store.get(consent_id)
    assert consent is not None
    return consent


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# check


def test_check_prints_settings_without_secrets(make_app: AppFactory, local_ims: LocalIMS) -> None:
    app = make_app(ADOBE_ADMIN_AUTH_TOKEN_ENCRYPTION_KEYS=["encryption-key-that-stays-secret"])

    result = run(app, "check")

    assert result.exit_code == 0, result.output
    assert local_ims.client_id in result.output
    assert "client_secrets" in result.output
    assert "1 (fingerprints: sha256:" in result.output
    assert local_ims.client_secrets[0] not in result.output
    assert "encryption-key-that-stays-secret" not in result.output
    assert "test-secret-key-that-is-long-enough" not in result.output
    assert "Tables adobe_consents and adobe_consent_events exist." in result.output
    assert local_ims.jwks_requests() == 0
    assert local_ims.token_requests() == 0


def test_check_hides_database_password(make_app: AppFactory) -> None:
    app = make_app()
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])

    result = run(app, "check")

    assert result.exit_code == 0, result.output
    if url.password:
        assert url.password not in result.output
    assert url.drivername in result.output


def test_check_fails_without_tables(make_app: AppFactory) -> None:
    app = make_app()
    with app.app_context():
        get_runtime().store.db.drop_all()

    result = run(app, "check")

    assert result.exit_code == 1
    assert "Tables missing: adobe_consents, adobe_consent_events" in result.output
    assert "flask db upgrade" in result.output


def test_check_reach_reports_jwks_and_secret(make_app: AppFactory, local_ims: LocalIMS) -> None:
    app = make_app()

    result = run(app, "check", "--reach")

    assert result.exit_code == 0, result.output
    assert f"kids {local_ims.current_kid}" in result.output
    assert "Client secret 1 of 1" in result.output
    assert "not rejected (HTTP 400 invalid_org)" in result.output
    assert local_ims.jwks_requests() == 1
    assert local_ims.token_requests("") == 1


def test_check_reach_fails_for_wrong_secret(make_app: AppFactory) -> None:
    app = make_app(ADOBE_ADMIN_AUTH_CLIENT_SECRET="wrong-secret")

    result = run(app, "check", "--reach")

    assert result.exit_code == 1
    assert "rejected by IMS (invalid_client" in result.output
    assert "IMS rejected every client secret" in result.output
    assert "wrong-secret" not in result.output


def test_check_reach_warns_for_old_secret(make_app: AppFactory, local_ims: LocalIMS) -> None:
    app = make_app(
        ADOBE_ADMIN_AUTH_CLIENT_SECRET=None,
        ADOBE_ADMIN_AUTH_CLIENT_SECRETS=[local_ims.client_secrets[0], "retired-secret"],
    )

    result = run(app, "check", "--reach")

    assert result.exit_code == 0, result.output
    assert "Client secret 1 of 2" in result.output
    assert "Client secret 2 of 2" in result.output
    assert "Warning: IMS rejected 1 client secret(s)" in result.stderr
    assert "retired-secret" not in result.output


def test_check_reach_fails_when_jwks_unavailable(make_app: AppFactory, local_ims: LocalIMS) -> None:
    app = make_app()
    local_ims.fail_next(endpoint="jwks", status=503)

    result = run(app, "check", "--reach")

    assert result.exit_code == 1
    assert "answered HTTP 503" in result.output


def test_check_reach_fails_when_token_endpoint_errors(
    make_app: AppFactory, local_ims: LocalIMS
) -> None:
    app = make_app()
    local_ims.fail_next(endpoint="token", status=500)

    result = run(app, "check", "--reach")

    assert result.exit_code == 1
    assert "answered HTTP 500" in result.output


def test_check_reach_fails_when_unreachable(make_app: AppFactory) -> None:
    port = closed_port()
    app = make_app(
        ADOBE_ADMIN_AUTH_JWKS_URL=f"http://127.0.0.1:{port}/ims/keys",
        ADOBE_ADMIN_AUTH_TOKEN_URL=f"http://127.0.0.1:{port}/ims/token/v3",
        ADOBE_ADMIN_AUTH_HTTP_TIMEOUT=2,
    )

    result = run(app, "check", "--reach")

    assert result.exit_code == 1
    assert "JWKS at" in result.output
    assert "unreachable: ConnectionError" in result.output


# consents list and show


def test_consents_list_prints_table(make_app: AppFactory) -> None:
    app = make_app()
    first = seed(app, "alice", ORG_A)
    seed(app, "bob", ORG_B)

    result = run(app, "consents", "list")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "ACCOUNT", "ORG", "STATUS", "GRANTED", "REVOKED"]
    assert len(lines) == 3
    assert any(line.split()[:4] == [str(first.id), "alice", ORG_A, "active"] for line in lines)


def test_consents_list_filters(make_app: AppFactory) -> None:
    app = make_app()
    alice_a = seed(app, "alice", ORG_A)
    alice_b = seed(app, "alice", ORG_B)
    bob_a = seed(app, "bob", ORG_A)
    with app.app_context():
        get_runtime().extension.revoke_consent(alice_b)

    def ids(*args: str) -> set[int]:
        result = run(app, "consents", "list", "--json", *args)
        assert result.exit_code == 0, result.output
        return {item["id"] for item in json.loads(result.output)}

    assert ids() == {alice_a.id, alice_b.id, bob_a.id}
    assert ids("--account", "alice") == {alice_a.id, alice_b.id}
    assert ids("--org", ORG_A) == {alice_a.id, bob_a.id}
    assert ids("--status", "revoked") == {alice_b.id}
    assert ids("--account", "alice", "--status", "active") == {alice_a.id}
    assert len(ids("--limit", "1")) == 1


def test_consents_list_json_fields(make_app: AppFactory) -> None:
    app = make_app()
    consent = seed(app, "alice", ORG_A)

    result = run(app, "consents", "list", "--json")

    assert result.exit_code == 0, result.output
    [item] = json.loads(result.output)
    assert item["id"] == consent.id
    assert item["org_id"] == ORG_A
    assert item["scopes"] == ["openid", "AdobeID"]
    assert item["status"] == "active"
    assert item["revoked_at"] is None
    assert item["granted_at"].endswith("+00:00")


def test_consents_list_empty(make_app: AppFactory) -> None:
    app = make_app()

    result = run(app, "consents", "list")

    assert result.exit_code == 0
    assert result.output.strip() == "No consents match."


def test_consents_list_notes_limit(make_app: AppFactory) -> None:
    app = make_app()
    seed(app, "alice", ORG_A)
    seed(app, "bob", ORG_A)

    result = run(app, "consents", "list", "--limit", "2")

    assert result.exit_code == 0
    assert "first 2 shown" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "paused"], "'paused' is not one of 'active', 'revoked'"),
        (["--limit", "0"], "0 is not in the range x>=1"),
        (["--limit", "many"], "'many' is not a valid integer"),
        (["--account", ""], "must be 1 to 255 characters"),
        (["--org", "x" * 256], "must be 1 to 255 characters"),
    ],
)
def test_consents_list_rejects_bad_options(
    make_app: AppFactory, args: list[str], message: str
) -> None:
    app = make_app()

    result = run(app, "consents", "list", *args)

    assert result.exit_code == 2
    assert message in result.output


def test_consents_show_prints_audit_trail(make_app: AppFactory) -> None:
    app = make_app()
    consent = seed(app, "alice", ORG_A)
    with app.app_context():
        get_runtime().extension.revoke_consent(consent, reason="customer_left")

    result = run(app, "consents", "show", str(consent.id))

    assert result.exit_code == 0, result.output
    assert "account_id:            alice" in result.output
    assert f"org_id:                {ORG_A}" in result.output
    assert "status:                revoked" in result.output
    assert "revoked_reason:        customer_left" in result.output
    trail = result.output.split("Audit trail:")[1].splitlines()
    assert trail[1].split()[-1] == "granted"
    assert trail[2].split()[-2:] == ["revoked", "(customer_left)"]


def test_consents_show_json(make_app: AppFactory) -> None:
    app = make_app()
    consent = seed(app, "alice", ORG_A)

    result = run(app, "consents", "show", str(consent.id), "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["id"] == consent.id
    assert [event["kind"] for event in data["events"]] == ["granted"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("999999", "no consent with id 999999"),
        ("0", "0 is not in the range x>=1"),
        ("abc", "'abc' is not a valid integer"),
    ],
)
def test_consents_show_rejects_bad_id(make_app: AppFactory, value: str, message: str) -> None:
    app = make_app()

    result = run(app, "consents", "show", value)

    assert result.exit_code == 2
    assert message in result.output


# token


def test_token_mints_then_reads_cache(make_app: AppFactory, local_ims: LocalIMS) -> None:
    app = make_app()
    seed(app, "alice", ORG_A)
    local_ims.grant_consent(ORG_A)

    first = run(app, "token", ORG_A)
    second = run(app, "token", ORG_A)

    assert first.exit_code == 0, first.output
    assert "Source:     minted now" in first.output
    assert "Expires at:" in first.output
    assert "(in 23 h" in first.output
    assert second.exit_code == 0, second.output
    assert "Source:     cache" in second.output
    assert local_ims.token_requests(ORG_A) == 1
    with app.app_context():
        token = get_runtime().get_token(ORG_A)
    assert token.access_token not in first.output
    assert "Token:" not in first.output


def test_token_refuses_show_token_without_terminal(
    make_app: AppFactory, local_ims: LocalIMS
) -> None:
    app = make_app()
    seed(app, "alice", ORG_A)
    local_ims.grant_consent(ORG_A)

    result = run(app, "token", ORG_A, "--show-token")

    assert result.exit_code == 2
    assert "only to a terminal" in result.output
    assert local_ims.token_requests() == 0


def test_token_rejects_org_without_consent(make_app: AppFactory, local_ims: LocalIMS) -> None:
    app = make_app()
    local_ims.grant_consent(ORG_A)

    result = run(app, "token", ORG_A)

    assert result.exit_code == 2
    assert f"no active consent for org {ORG_A}" in result.output
    assert local_ims.token_requests() == 0


def test_token_revokes_org_rejected_by_ims(make_app: AppFactory, local_ims: LocalIMS) -> None:
    app = make_app()
    consent = seed(app, "alice", ORG_A)

    result = run(app, "token", ORG_A)

    assert result.exit_code == 1
    assert f"No token for org {ORG_A}" in result.output
    assert "code consent_revoked" in result.output
    assert stored(app, consent.id).status == "revoked"


def test_token_reports_ims_unavailable(make_app: AppFactory, local_ims: LocalIMS) -> None:
    app = make_app()
    consent = seed(app, "alice", ORG_A)
    local_ims.grant_consent(ORG_A)
    local_ims.fail_next(3, status=503)

    result = run(app, "token", ORG_A)

    assert result.exit_code == 1
    assert "code ims_unavailable" in result.output
    assert "x-debug-id" in result.output
    assert stored(app, consent.id).status == "active"


# verify


def test_verify_revokes_rejected_orgs(make_app: AppFactory, local_ims: LocalIMS) -> None:
    app = make_app()
    alice = seed(app, "alice", ORG_A)
    bob = seed(app, "bob", ORG_A)
    carol = seed(app, "carol", ORG_B)
    local_ims.grant_consent(ORG_A)
    local_ims.grant_consent(ORG_B)
    local_ims.revoke(ORG_B)

    result = run(app, "verify")

    assert result.exit_code == 0, result.output
    assert f"{ORG_B}: IMS rejected the org; 1 consent(s) revoked." in result.output
    assert "1 ok, 1 revoked, 0 failed." in result.output
    assert stored(app, alice.id).status == "active"
    assert stored(app, bob.id).status == "active"
    assert stored(app, carol.id).status == "revoked"
    assert stored(app, carol.id).revoked_reason == "token_rejected"
    assert local_ims.token_requests(ORG_A) == 1


def test_verify_mints_despite_cached_token(make_app: AppFactory, local_ims: LocalIMS) -> None:
    app = make_app()
    seed(app, "alice", ORG_A)
    local_ims.grant_consent(ORG_A)
    with app.app_context():
        get_runtime().get_token(ORG_A)

    result = run(app, "verify")

    assert result.exit_code == 0, result.output
    assert local_ims.token_requests(ORG_A) == 2
    with app.app_context():
        get_runtime().get_token(ORG_A)
    assert local_ims.token_requests(ORG_A) == 2


def test_verify_keeps_consents_when_ims_unavailable(
    make_app: AppFactory, local_ims: LocalIMS
) -> None:
    app = make_app()
    consent = seed(app, "alice", ORG_A)
    local_ims.grant_consent(ORG_A)
    local_ims.fail_next(3, status=503)

    result = run(app, "verify")

    assert result.exit_code == 1
    assert f"{ORG_A}: not checked (ims_unavailable)." in result.output
    assert "0 ok, 0 revoked, 1 failed." in result.output
    assert "1 org(s) could not be checked" in result.output
    assert stored(app, consent.id).status == "active"


def test_verify_stops_when_credentials_rejected(make_app: AppFactory, local_ims: LocalIMS) -> None:
    app = make_app(ADOBE_ADMIN_AUTH_CLIENT_SECRET="wrong-secret")
    alice = seed(app, "alice", ORG_A)
    bob = seed(app, "bob", ORG_B)
    local_ims.grant_consent(ORG_A)
    local_ims.grant_consent(ORG_B)

    result = run(app, "verify")

    assert result.exit_code == 1
    assert (
        "IMS rejected the app's configuration (client secret, scopes or token URL): "
        "invalid_client" in result.output
    )
    assert local_ims.token_requests() == 1
    assert stored(app, alice.id).status == "active"
    assert stored(app, bob.id).status == "active"


@pytest.mark.parametrize("dry_run", [False, True])
def test_verify_stops_on_invalid_scope(
    make_app: AppFactory, local_ims: LocalIMS, dry_run: bool
) -> None:
    app = make_app()
    alice = seed(app, "alice", ORG_A)
    bob = seed(app, "bob", ORG_B)
    local_ims.grant_consent(ORG_A)
    local_ims.grant_consent(ORG_B)
    local_ims.fail_next(1, status=400, body={"error": "invalid_scope"})

    result = run(app, "verify", *(["--dry-run"] if dry_run else []))

    assert result.exit_code == 1
    assert (
        "IMS rejected the app's configuration (client secret, scopes or token URL): "
        "invalid_scope" in result.output
    )
    assert "client credentials" not in result.output
    assert local_ims.token_requests() == 1
    assert stored(app, alice.id).status == "active"
    assert stored(app, bob.id).status == "active"


def test_verify_dry_run_changes_nothing(make_app: AppFactory, local_ims: LocalIMS) -> None:
    app = make_app()
    alice = seed(app, "alice", ORG_A)
    carol = seed(app, "carol", ORG_B)
    local_ims.grant_consent(ORG_A)

    result = run(app, "verify", "--dry-run")

    assert result.exit_code == 0, result.output
    assert f"{ORG_B}: IMS rejected the org; 1 consent(s) would be revoked." in result.output
    assert "Dry run: 1 ok, 1 would be revoked, 0 failed." in result.output
    assert stored(app, alice.id).status == "active"
    assert stored(app, carol.id).status == "active"
    assert local_ims.token_requests(ORG_A) == 1
    assert local_ims.token_requests(ORG_B) == 2
    with app.app_context():
        get_runtime().get_token(ORG_A)
    assert local_ims.token_requests(ORG_A) == 2


def test_verify_dry_run_reports_transient_failure(
    make_app: AppFactory, local_ims: LocalIMS
) -> None:
    app = make_app()
    seed(app, "alice", ORG_A)
    local_ims.grant_consent(ORG_A)
    local_ims.fail_next(status=503)

    result = run(app, "verify", "--dry-run")

    assert result.exit_code == 1
    assert f"{ORG_A}: not checked (temporarily_unavailable)." in result.output


def test_verify_without_consents(make_app: AppFactory, local_ims: LocalIMS) -> None:
    app = make_app()

    result = run(app, "verify")

    assert result.exit_code == 0
    assert "No active consents to verify." in result.output
    assert local_ims.token_requests() == 0


# revoke


def test_revoke_marks_consent_and_signals(make_app: AppFactory) -> None:
    app = make_app()
    consent = seed(app, "alice", ORG_A)
    received: list[dict[str, Any]] = []

    def record(sender: Flask, **kwargs: Any) -> None:
        received.append(kwargs)

    with consent_revoked.connected_to(record, app):
        result = run(app, "revoke", str(consent.id), "--reason", "contract_ended")

    assert result.exit_code == 0, result.output
    assert f"Revoked consent {consent.id} of account alice for org {ORG_A}." in result.output
    after = stored(app, consent.id)
    assert after.status == "revoked"
    assert after.revoked_reason == "contract_ended"
    assert len(received) == 1
    assert received[0]["reason"] == "contract_ended"
    assert received[0]["org_id"] == ORG_A
    with app.app_context():
        kinds = [event.kind for event in get_runtime().store.events(consent_id=consent.id)]
    assert kinds == ["granted", "revoked"]


def test_revoke_twice_is_harmless(make_app: AppFactory) -> None:
    app = make_app()
    consent = seed(app, "alice", ORG_A)
    run(app, "revoke", str(consent.id))

    result = run(app, "revoke", str(consent.id), "--reason", "second_try")

    assert result.exit_code == 0
    assert "already revoked (revoked_locally)" in result.output
    assert stored(app, consent.id).revoked_reason == "revoked_locally"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999999"], "no consent with id 999999"),
        (["--reason", "x" * 65], "must be 1 to 64 printable characters"),
        (["--reason", "  "], "must be 1 to 64 printable characters"),
        (["--reason", "bad\nreason"], "must be 1 to 64 printable characters"),
    ],
)
def test_revoke_rejects_bad_arguments(make_app: AppFactory, args: list[str], message: str) -> None:
    app = make_app()
    consent = seed(app, "alice", ORG_A)
    if args[0] == "--reason":
        args = [str(consent.id), *args]

    result = run(app, "revoke", *args)

    assert result.exit_code == 2
    assert message in result.output
    assert stored(app, consent.id).status == "active"


def test_group_help_lists_commands(make_app: AppFactory) -> None:
    app = make_app()

    result = run(app, "--help")

    assert result.exit_code == 0
    for command in ("check", "consents", "token", "verify", "revoke"):
        assert command in result.output


TERMINAL_APP = """
import json
import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_adobe_admin_auth import AdobeAdminAuth


def create_app():
    app = Flask(__name__)
    app.config.update(json.loads(os.environ["CLI_TEST_CONFIG"]))
    AdobeAdminAuth(app, db=SQLAlchemy(app))
    return app
"""


def test_token_shows_token_on_terminal(
    make_app: AppFactory, local_ims: LocalIMS, tmp_path: Path
) -> None:
    app = make_app()
    seed(app, "alice", ORG_A)
    local_ims.grant_consent(ORG_A)
    config = {
        key: value
        for key, value in app.config.items()
        if key.startswith("ADOBE_ADMIN_AUTH_") or key in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI")
    }
    (tmp_path / "terminal_app.py").write_text(TERMINAL_APP)
    command = [sys.executable, "-m", "flask", "--app", "terminal_app:create_app"]
    command += ["adobe-admin-auth", "token", ORG_A, "--show-token"]

    output = run_in_terminal(command, tmp_path, {"CLI_TEST_CONFIG": json.dumps(config)})

    assert "Source:     minted now" in output
    token_lines = [line for line in output.splitlines() if line.startswith("Token:")]
    assert len(token_lines) == 1
    assert len(token_lines[0].split()[1]) > 20
    assert local_ims.token_requests(ORG_A) == 1


def run_in_terminal(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run ``command`` with a pseudo-terminal as stdout and return what it printed."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(  # noqa: S603 - a fixed command line built by the test
        command,
        cwd=cwd,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            # Linux raises EIO once the child closed its side of the terminal.
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert process.wait(timeout=30) == 0, b"".join(chunks).decode()
    return b"".join(chunks).decode().replace("\r\n", "\n")
