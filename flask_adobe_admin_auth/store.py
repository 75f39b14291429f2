"""Every query on the consent tables.

The store works in sessions of its own on the app's engine, so it commits
only what it wrote and never the app's pending work in ``db.session``. It
returns frozen :class:`Consent` and :class:`ConsentEvent` records, not ORM
rows, so callers can keep them after the session closes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import (
    STATUS_ACTIVE,
    STATUS_REVOKED,
    Consent,
    ConsentEvent,
    ModelClasses,
    models_for,
    utc_now,
)

logger = logging.getLogger(__name__)

# Kinds of audit events.
EVENT_GRANTED = "granted"
EVENT_RECONNECTED = "reconnected"
EVENT_DENIED = "denied"
EVENT_REJECTED = "rejected"
EVENT_REVOKED = "revoked"
EVENT_DISCONNECTED = "disconnected"
EVENT_TOKEN_REJECTED = "token_rejected"


class ConsentStore:
    """Reads and writes consents and their audit trail."""

    def __init__(self, db: SQLAlchemy) -> None:
        self.db = db
        self.models: ModelClasses = models_for(db)

    def _session(self) -> Session:
        return Session(self.db.engine, expire_on_commit=False)

    def grant(
        self, *, account_id: str, org_id: str, technical_account_id: str, scopes: str
    ) -> tuple[Consent, bool]:
        """Store an active consent for the pair and append an audit event.

        Two callbacks racing for the same pair leave one row: the loser of the
        insert updates the winner's row.

        :returns: the consent and whether the pair had a row before.
        """
        consent_model = self.models.consent
        now = utc_now()

        with self._session() as session:
            try:
                with session.begin():
                    consent = consent_model(
                        account_id=account_id,
                        org_id=org_id,
                        technical_account_id=technical_account_id,
                        scopes=scopes,
                        status=STATUS_ACTIVE,
                        granted_at=now,
                        updated_at=now,
                    )
                    session.add(consent)
                    session.flush()
                    self._add_event(session, consent, EVENT_GRANTED, None)
                return Consent.from_row(consent), False
            except IntegrityError:
                logger.debug(
                    "Consent for account %s and org %s exists; updating", account_id, org_id
                )

            with session.begin():
                consent = session.scalars(
                    sa.select(consent_model)
                    .where(consent_model.account_id == account_id, consent_model.org_id == org_id)
                    .with_for_update()
                ).one()
                consent.technical_account_id = technical_account_id
                consent.scopes = scopes
                consent.status = STATUS_ACTIVE
                consent.granted_at = now
                consent.revoked_at = None
                consent.revoked_reason = None
                consent.updated_at = now
                self._add_event(session, consent, EVENT_RECONNECTED, None)
            return Consent.from_row(consent), True

    def revoke(self, consent_id: int, *, reason: str, event_kind: str = EVENT_REVOKED) -> bool:
        """Mark an active consent revoked and append an audit event.

        The update is conditional on the row still being active, so that of
        several workers revoking at once exactly one gets ``True``.
        """
        consent_model = self.models.consent
        now = utc_now()

        with self._session() as session, session.begin():
            result = session.execute(
                sa.update(consent_model)
                .where(consent_model.id == consent_id, consent_model.status == STATUS_ACTIVE)
                .values(
                    status=STATUS_REVOKED, revoked_at=now, revoked_reason=reason, updated_at=now
                )
                .execution_options(synchronize_session=False)
            )
            changed = _rowcount(result) == 1
            if changed:
                consent = session.get(consent_model, consent_id)
                self._add_event(session, consent, event_kind, reason)
        return changed

    def record_event(
        self,
        kind: str,
        *,
        reason: str | None,
        account_id: str | None = None,
        org_id: str | None = None,
        consent_id: int | None = None,
    ) -> None:
        """Append an audit event that is not tied to a change of a consent row."""
        with self._session() as session, session.begin():
            session.add(
                self.models.event(
                    consent_id=consent_id,
                    account_id=account_id,
                    org_id=org_id,
                    kind=kind,
                    reason=reason,
                    created_at=utc_now(),
                )
            )

    def get(self, consent_id: int) -> Consent | None:
        with self._session() as session:
            row = session.get(self.models.consent, consent_id)
            return None if row is None else Consent.from_row(row)

    def active_consents(self, account_id: str) -> Sequence[Consent]:
        """Return the account's active consents, the most recently granted first."""
        consent_model = self.models.consent
        with self._session() as session:
            rows = session.scalars(
                sa.select(consent_model)
                .where(
                    consent_model.account_id == account_id, consent_model.status == STATUS_ACTIVE
                )
                .order_by(consent_model.granted_at.desc(), consent_model.id.desc())
            ).all()
            return [Consent.from_row(row) for row in rows]

    def active_consents_for_org(self, org_id: str) -> Sequence[Consent]:
        """Return the active consents of every account for ``org_id``."""
        consent_model = self.models.consent
        with self._session() as session:
            rows = session.scalars(
                sa.select(consent_model).where(
                    consent_model.org_id == org_id, consent_model.status == STATUS_ACTIVE
                )
            ).all()
            return [Consent.from_row(row) for row in rows]

    def find(
        self,
        *,
        account_id: str | None = None,
        org_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> Sequence[Consent]:
        """Return consents matching every given filter, newest first."""
        consent_model = self.models.consent
        query = sa.select(consent_model).order_by(consent_model.updated_at.desc())
        if account_id is not None:
            query = query.where(consent_model.account_id == account_id)
        if org_id is not None:
            query = query.where(consent_model.org_id == org_id)
        if status is not None:
            query = query.where(consent_model.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self._session() as session:
            return [Consent.from_row(row) for row in session.scalars(query).all()]

    def events(
        self,
        *,
        consent_id: int | None = None,
        account_id: str | None = None,
        org_id: str | None = None,
    ) -> Sequence[ConsentEvent]:
        """Return audit events matching every given filter, oldest first."""
        event_model = self.models.event
        query = sa.select(event_model).order_by(event_model.created_at, event_model.id)
        if consent_id is not None:
            query = query.where(event_model.consent_id == consent_id)
        if account_id is not None:
            query = query.where(event_model.account_id == account_id)
        if org_id is not None:
            query = query.where(event_model.org_id == org_id)
        with self._session() as session:
            return [ConsentEvent.from_row(row) for row in session.scalars(query).all()]

    def _add_event(self, session: Session, consent: Any, kind: str, reason: str | None) -> None:
        session.add(
            self.models.event(
                consent_id=consent.id,
                account_id=consent.account_id,
                org_id=consent.org_id,
                kind=kind,
                reason=reason,
                created_at=utc_now(),
            )
        )


def _rowcount(result: Any) -> int:
    return int(result.rowcount)
