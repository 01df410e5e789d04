"""A dataset mirror for the download tests: an HTTP server on 127.0.0.1 that the tests start themselves."""

from __future__ import annotations

import gzip
import http.server
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest


class Mirror:
    """An HTTP server on 127.0.0.1 (port 0): `routes` maps a path to what it answers, and `hits` counts requests.

    A route is bytes (served whole), an int (that HTTP error), ("cut", data, n): Content-Length says
    len(data) but the server sends n bytes and closes the connection, or ("chunked-cut", data, n): chunked
    encoding that stops after n bytes without the final empty chunk.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Any] = {}
        self.hits: Counter[str] = Counter()
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                mirror.hits[self.path] += 1
                route = mirror.routes.get(self.path, 404)
                if isinstance(route, int):
                    self.send_error(route)
                    return
                kind, data, n = route if isinstance(route, tuple) else ("whole", route, len(route))
                self.send_response(200)
                if kind == "chunked-cut":
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data[:n])
                else:
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[:n])
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def serve(self, files: dict[str, bytes], prefix: str) -> str:
        """Serve the files gzip-compressed under `prefix` as the real mirrors do; return that folder's URL."""
        for name, data in files.items():
            self.routes[f"{prefix}{name}.gz"] = gzip.compress(data, mtime=0)
        return self.url + prefix

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port_url(prefix: str) -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{prefix}"


def serving(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mirror]:
    """A running mirror for a test's `mirror` fixture, with proxies unset so requests reach it directly."""
    for proxy in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    server = Mirror()
    yield server
    server.close()
