"""The extension's tables, declared on the app's own ``db`` metadata.

The classes are built once per ``SQLAlchemy`` instance, so that Alembic
autogenerate finds them next to the app's models. Timestamps are aware UTC
datetimes on every database, SQLite included.
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy

CONSENTS_TABLE = "adobe_consents"
EVENTS_TABLE = "adobe_consent_events"

STATUS_ACTIVE = "active"
STATUS_REVOKED = "revoked"

#: Maximum length of an account, org or technical account id, as stored.
ID_MAX_LENGTH = 255

#: Maximum length of a consent's revocation reason, as stored.
REASON_MAX_LENGTH = 64

# A plain SQLAlchemy type, so that Alembic's generated scripts need no import
# from this package. Records convert the values to aware UTC on the way out.
_TIMESTAMP = sa.DateTime(timezone=True)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(value: dt.datetime) -> dt.datetime:
    """Return ``value`` as an aware UTC datetime.

    SQLite stores no offset, so its values come back naive; they were written in UTC.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class Consent:
    """A link from one of the app's accounts to one Adobe org, as stored."""

    id: int
    account_id: str
    org_id: str
    technical_account_id: str
    scopes: tuple[str, ...]
    status: str
    granted_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_reason: str | None
    updated_at: dt.datetime

    @property
    def is_active(self) -> bool:
        return self.status == STATUS_ACTIVE

    @classmethod
    def from_row(cls, row: Any) -> Consent:
        return cls(
            id=row.id,
            account_id=row.account_id,
            org_id=row.org_id,
            technical_account_id=row.technical_account_id,
            scopes=tuple(scope for scope in row.scopes.split(",") if scope),
            status=row.status,
            granted_at=as_utc(row.granted_at),
            revoked_at=None if row.revoked_at is None else as_utc(row.revoked_at),
            revoked_reason=row.revoked_reason,
            updated_at=as_utc(row.updated_at),
        )

    def to_cache(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account_id": self.account_id,
            "org_id": self.org_id,
            "technical_account_id": self.technical_account_id,
            "scopes": list(self.scopes),
            "status": self.status,
            "granted_at": self.granted_at.timestamp(),
            "revoked_at": self.revoked_at.timestamp() if self.revoked_at else None,
            "revoked_reason": self.revoked_reason,
            "updated_at": self.updated_at.timestamp(),
        }

    @classmethod
    def from_cache(cls, data: Any) -> Consent | None:
        """Rebuild a consent from :meth:`to_cache`; ``None`` for anything malformed."""
        try:
            revoked_at = data["revoked_at"]
            revoked_reason = data["revoked_reason"]
            if revoked_reason is not None and not isinstance(revoked_reason, str):
                return None
            return cls(
                id=int(data["id"]),
                account_id=str(data["account_id"]),
                org_id=str(data["org_id"]),
                technical_account_id=str(data["technical_account_id"]),
                scopes=tuple(str(scope) for scope in data["scopes"]),
                status=str(data["status"]),
                granted_at=_from_timestamp(data["granted_at"]),
                revoked_at=None if revoked_at is None else _from_timestamp(revoked_at),
                revoked_reason=revoked_reason,
                updated_at=_from_timestamp(data["updated_at"]),
            )
        except (KeyError, TypeError, ValueError, OverflowError):
            return None


@dataclass(frozen=True)
class ConsentEvent:
    """One entry of the append-only audit trail."""

    id: int
    consent_id: int | None
    account_id: str | None
    org_id: str | None
    kind: str
    reason: str | None
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: Any) -> ConsentEvent:
        return cls(
            id=row.id,
            consent_id=row.consent_id,
            account_id=row.account_id,
            org_id=row.org_id,
            kind=row.kind,
            reason=row.reason,
            created_at=as_utc(row.created_at),
        )


def _from_timestamp(value: Any) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(value), dt.timezone.utc)


@dataclass(frozen=True)
class ModelClasses:
    consent: type[Any]
    event: type[Any]


_models_by_db: weakref.WeakKeyDictionary[SQLAlchemy, ModelClasses] = weakref.WeakKeyDictionary()


def models_for(db: SQLAlchemy) -> ModelClasses:
    """Return the model classes declared on ``db``, declaring them on first use."""
    models = _models_by_db.get(db)
    if models is None:
        models = _declare_models(db)
        _models_by_db[db] = models
    return models


def _declare_models(db: SQLAlchemy) -> ModelClasses:
    base: Any = db.Model

    class AdobeConsent(base):  # type: ignore[misc]
        __tablename__ = CONSENTS_TABLE
        __table_args__ = (
            sa.UniqueConstraint("account_id", "org_id", name="uq_adobe_consents_account_org"),
            sa.Index("ix_adobe_consents_account_status", "account_id", "status"),
            sa.Index("ix_adobe_consents_org_id", "org_id"),
        )

        id = sa.Column(sa.Integer, primary_key=True)
        account_id = sa.Column(sa.String(ID_MAX_LENGTH), nullable=False)
        org_id = sa.Column(sa.String(ID_MAX_LENGTH), nullable=False)
        technical_account_id = sa.Column(sa.String(ID_MAX_LENGTH), nullable=False)
        scopes = sa.Column(sa.Text, nullable=False)
        status = sa.Column(sa.String(16), nullable=False, default=STATUS_ACTIVE)
        granted_at = sa.Column(_TIMESTAMP, nullable=False, default=utc_now)
        revoked_at = sa.Column(_TIMESTAMP, nullable=True)
        revoked_reason = sa.Column(sa.String(REASON_MAX_LENGTH), nullable=True)
        updated_at = sa.Column(_TIMESTAMP, nullable=False, default=utc_now, onupdate=utc_now)

        def __repr__(self) -> str:
            return (
                f"<AdobeConsent id={self.id} account={self.account_id!r} "
                f"org={self.org_id!r} status={self.status!r}>"
            )

    class AdobeConsentEvent(base):  # type: ignore[misc]
        __tablename__ = EVENTS_TABLE
        __table_args__ = (
            sa.Index("ix_adobe_consent_events_consent_id", "consent_id"),
            sa.Index("ix_adobe_consent_events_account_id", "account_id"),
        )

        id = sa.Column(sa.Integer, primary_key=True)
        consent_id = sa.Column(
            sa.Integer, sa.ForeignKey(f"{CONSENTS_TABLE}.id", ondelete="SET NULL"), nullable=True
        )
        account_id = sa.Column(sa.String(ID_MAX_LENGTH), nullable=True)
        org_id = sa.Column(sa.String(ID_MAX_LENGTH), nullable=True)
        kind = sa.Column(sa.String(32), nullable=False)
        reason = sa.Column(sa.String(255), nullable=True)
        created_at = sa.Column(_TIMESTAMP, nullable=False, default=utc_now)

        def __repr__(self) -> str:
            return (
                f"<AdobeConsentEvent id={self.id} kind={self.kind!r} "
                f"account={self.account_id!r} org={self.org_id!r}>"
            )

    return ModelClasses(consent=AdobeConsent, event=AdobeConsentEvent)
