"""A real HTTP receiver process on loopback that checks each webhook's HMAC-SHA256 signature.

Run as `python -m tests.support.webhook_receiver PORT SECRET_FILE OUT_FILE`: a delivery whose
signature is right is appended to OUT_FILE as one JSON line and answered 204; a wrong or
missing signature is answered 401 and recorded with "valid": false.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.filterd_process import stop_process
from tests.support.upstream_process import PROJECT_ROOT


def main() -> None:
    port, secret_file, out = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    secret = secret_file.read_text().strip().encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            timestamp = self.headers.get("X-Filterd-Timestamp", "")
            expected = (
                "sha256="
                + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            )
            valid = hmac.compare_digest(expected, self.headers.get("X-Filterd-Signature", ""))
            record = {
                "valid": valid,
                "delivery": self.headers.get("X-Filterd-Delivery"),
                "content_type": self.headers.get("Content-Type"),
                "title": self.headers.get("Title"),
                "body": body.decode(errors="replace"),
            }
            with out.open("a") as stream:
                stream.write(json.dumps(record) + "\n")
            self.send_response(204 if valid else 401)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


class WebhookReceiver:
    def __init__(self, port: int, secret_file: Path, out: Path) -> None:
        self.port, self.secret_file, self.out = port, secret_file, out
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> WebhookReceiver:
        env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.webhook_receiver",
                str(self.port),
                str(self.secret_file),
                str(self.out),
            ],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"
        return self

    def stop(self) -> None:
        stop_process(self.proc)

    def deliveries(self) -> list[dict]:
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text().splitlines()]


if __name__ == "__main__":
    main()
