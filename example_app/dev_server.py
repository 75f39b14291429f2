"""Keep secrets out of the development server's request log."""

from __future__ import annotations

import logging
import re

# The request line of Adobe's redirect back carries the state and the id_token
# in its query string, and Werkzeug's development server logs request lines
# whole at info level.
_QUERY = re.compile(r"\?[^\s\x1b]*")


class QueryStringRedactor(logging.Filter):
    """Replace the query string of each logged request line with ``?…``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args and isinstance(record.args[0], str):
            record.args = (_QUERY.sub("?…", record.args[0]), *record.args[1:])
        return True


def redact_request_log() -> None:
    """Install :class:`QueryStringRedactor` on Werkzeug's logger, once per process."""
    werkzeug_logger = logging.getLogger("werkzeug")
    if not any(isinstance(item, QueryStringRedactor) for item in werkzeug_logger.filters):
        werkzeug_logger.addFilter(QueryStringRedactor())
