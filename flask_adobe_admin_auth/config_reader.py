"""Typed reading of ``ADOBE_ADMIN_AUTH_*`` keys, with errors that name the key and the fix."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ConfigurationError

PREFIX = "ADOBE_ADMIN_AUTH_"

#: Upper bound of every duration. Socket and lock timeouts raise OverflowError
#: above ``threading.TIMEOUT_MAX`` (about 292 years on 64-bit CPython 3.11 on
#: Linux), and no setting here needs more than a year.
MAX_SECONDS = 365 * 24 * 3600

# Keys whose values must never appear in a message.
_SECRET_KEYS = frozenset({"CLIENT_SECRET", "CLIENT_SECRETS", "TOKEN_ENCRYPTION_KEYS"})


def config_error(key: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"{PREFIX}{key} {problem}.", code="invalid_setting")


def shown_value(key: str, value: Any) -> str:
    """Return ``repr(value)`` for a message, or only its type for a secret key."""
    if key in _SECRET_KEYS:
        return f"a {type(value).__name__} (not shown, because it is secret)"
    return repr(value)


class ConfigReader:
    """Typed access to prefixed config keys, with errors that name the key."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = config

    def _get(self, key: str) -> Any:
        return self._config.get(PREFIX + key)

    def required_string(self, key: str) -> str:
        value = self.optional_string(key)
        if value is None:
            raise config_error(key, "is missing: set it in app.config or the environment")
        return value

    def optional_string(self, key: str) -> str | None:
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise config_error(key, f"must be a non-empty string, got {type(value).__name__}")
        return value.strip()

    def string(self, key: str, default: str) -> str:
        value = self.optional_string(key)
        return default if value is None else value

    def choice(self, key: str, default: str, choices: Sequence[str]) -> str:
        value = self.string(key, default)
        if value not in choices:
            raise config_error(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def optional_string_list(self, key: str) -> tuple[str, ...] | None:
        value = self._get(key)
        if value is None:
            return None
        if isinstance(value, str):
            items = [item.strip() for item in value.split(",")]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise config_error(
                key, f"must be a list or a comma-separated string, got {shown_value(key, value)}"
            )
        if not items or not all(isinstance(item, str) and item.strip() for item in items):
            raise config_error(
                key, f"must contain only non-empty strings, got {shown_value(key, value)}"
            )
        return tuple(item.strip() for item in items)

    def string_list(self, key: str, default: Sequence[str]) -> tuple[str, ...]:
        value = self.optional_string_list(key)
        return tuple(default) if value is None else value

    def optional_bool(self, key: str) -> bool | None:
        value = self._get(key)
        if value is None or isinstance(value, bool):
            return value
        raise config_error(key, f"must be True, False or None, got {value!r}")

    def _number(self, key: str, default: float, unit: str) -> float:
        """Read a finite number. An ``int`` stays an ``int``, anything else becomes a float.

        ``float()`` reads ``"nan"`` and ``"inf"``. NaN compares false with every
        bound and infinity passes every lower bound, so both are rejected here.
        """
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise config_error(key, f"must be a number of {unit}, got {value!r}")

        number: float
        if isinstance(value, int):
            number = value
        else:
            try:
                number = float(value)
            except ValueError:
                raise config_error(key, f"must be a number of {unit}, got {value!r}") from None
        if not math.isfinite(number):
            raise config_error(key, f"must be a finite number of {unit}, got {value!r}")

        if unit == "seconds" and number > MAX_SECONDS:
            raise config_error(
                key, f"must be at most {MAX_SECONDS} seconds (365 days), got {value!r}"
            )
        return number

    def int_at_least(
        self, key: str, default: int, minimum: int, *, unit: str = "seconds", reason: str = ""
    ) -> int:
        """Read a whole number no smaller than ``minimum``. ``600.0`` reads as ``600``."""
        number = self._number(key, default, unit)
        if isinstance(number, float):
            if not number.is_integer():
                raise config_error(key, f"must be a whole number of {unit}, got {number!r}")
            number = int(number)

        if number < minimum:
            if minimum == 0:
                problem = f"must be 0 or greater, got {number}"
            elif minimum == 1:
                problem = f"must be greater than 0, got {number}"
            else:
                problem = f"must be at least {minimum}, got {number}"
            raise config_error(key, f"{problem}: {reason}" if reason else problem)
        return int(number)

    def positive_int(self, key: str, default: int, *, unit: str = "seconds") -> int:
        return self.int_at_least(key, default, 1, unit=unit)

    def non_negative_int(self, key: str, default: int, *, unit: str = "seconds") -> int:
        return self.int_at_least(key, default, 0, unit=unit)

    def positive_float(self, key: str, default: float) -> float:
        number = float(self._number(key, default, "seconds"))
        if number <= 0:
            raise config_error(key, f"must be greater than 0, got {number}")
        return number

    def non_negative_float(self, key: str, default: float) -> float:
        number = float(self._number(key, default, "seconds"))
        if number < 0:
            raise config_error(key, f"must be 0 or greater, got {number}")
        return number
