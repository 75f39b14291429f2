"""The access token value object and its cache encoding."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, repr=False)
class AccessToken:
    """An access token for one customer org.

    ``repr`` and ``str`` hide the token value so that logging the object or
    sending it in a signal never leaks it.
    """

    access_token: str
    org_id: str
    expires_at: dt.datetime
    scopes: tuple[str, ...]

    @property
    def expires_in(self) -> float:
        """Seconds until the token expires; negative once it has."""
        return (self.expires_at - dt.datetime.now(dt.timezone.utc)).total_seconds()

    def is_expired(self, margin: float = 0) -> bool:
        """Return whether the token expires within ``margin`` seconds from now."""
        return self.expires_in <= margin

    @property
    def authorization_header(self) -> str:
        return f"Bearer {self.access_token}"

    def __repr__(self) -> str:
        return (
            f"AccessToken(org_id={self.org_id!r}, expires_at={self.expires_at.isoformat()!r}, "
            f"scopes={self.scopes!r}, access_token='***')"
        )

    __str__ = __repr__

    def to_json(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "org_id": self.org_id,
                "expires_at": self.expires_at.timestamp(),
                "scopes": list(self.scopes),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> AccessToken | None:
        """Rebuild a token from :meth:`to_json`; ``None`` for anything malformed."""
        try:
            data: Any = json.loads(text)
            return cls(
                access_token=str(data["access_token"]),
                org_id=str(data["org_id"]),
                expires_at=dt.datetime.fromtimestamp(float(data["expires_at"]), dt.timezone.utc),
                scopes=tuple(str(scope) for scope in data["scopes"]),
            )
        except (ValueError, KeyError, TypeError, OverflowError):
            return None
