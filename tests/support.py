"""Helpers for tests: a live HTTP server for the app under test, and demo org ids."""

from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

ORG_A = "0123456789ABCDEF01234567@AdobeOrg"
ORG_B = "89ABCDEF0123456789ABCDEF@AdobeOrg"


class LiveServer:
    """A Flask app served over real HTTP on 127.0.0.1 in a background thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        # A short poll interval lets stop() return quickly after each test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
