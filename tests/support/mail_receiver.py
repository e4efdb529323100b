"""A real SMTP server process on loopback (aiosmtpd) that keeps each message as a .eml file,
and the plain text of a message it received.

Run as `python -m tests.support.mail_receiver PORT DIRECTORY`; tests use MailReceiver.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

from tests.support.filterd_process import stop_process
from tests.support.upstream_process import PROJECT_ROOT


class KeepMessages:
    """aiosmtpd handler: each accepted message becomes DIRECTORY/<uuid>.eml."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server, session, envelope) -> str:
        target = self.directory / f"{time.time():.6f}-{uuid.uuid4()}.eml"
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(envelope.original_content or envelope.content)
        temporary.replace(target)
        return "250 Message accepted for delivery"


def main() -> None:
    from aiosmtpd.controller import Controller

    port, directory = int(sys.argv[1]), Path(sys.argv[2])
    controller = Controller(KeepMessages(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()


class MailReceiver:
    """The SMTP server process; `messages()` parses what it has received so far."""

    def __init__(self, port: int, directory: Path) -> None:
        self.port = port
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> MailReceiver:
        env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.mail_receiver",
                str(self.port),
                str(self.directory),
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

    def messages(self) -> list[EmailMessage]:
        found = []
        for path in sorted(self.directory.glob("*.eml")):
            found.append(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
        return found


def plain_text_of(message: EmailMessage) -> str:
    """The plain-text part of a received message, as a mail client shows it."""
    return message.get_body(("plain",)).get_content()


if __name__ == "__main__":
    main()
