"""A loopback HTTP server of list files by path, as public list sites serve them, which a test
can change or break (a download cut short: the whole length announced, part of it sent; an
error page under an HTTP error status). The `list_files` fixture in tests/conftest.py starts one
per test."""

from __future__ import annotations

import http.server
import threading


class ListFiles:
    """Serves `files[path]` (bytes) at http://127.0.0.1:PORT/path; `cut_short` paths send
    70 % of their body under the full Content-Length and hang up; a path in `statuses` is
    answered with that HTTP status (its body then the site's error page)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut_short: set[str] = set()
        self.statuses: dict[str, int] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(server.statuses.get(self.path, 200))
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in server.cut_short:
                    body = body[: len(body) * 7 // 10]
                    self.close_connection = True
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
