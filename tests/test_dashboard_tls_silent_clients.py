"""Clients that open a connection to the dashboard and say nothing do not keep carers out.

cheroot did the TLS handshake in the one thread that accepts connections, so each silent
connection (one line of script on the home Wi-Fi) held every other visitor for the socket
timeout, ten seconds: three of them kept a carer's phone waiting half a minute, and a loop of
them kept the dashboard away for good (a child could stop a carer pausing them). A real
dashboard process over HTTPS on loopback.
"""

from __future__ import annotations

import socket
import ssl
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.dashboard_process import DashboardProcess
from tests.support.filterd_process import free_port

SILENT = 3
PATIENCE = 8  # seconds a carer's phone waits; each silent client used to cost 10


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[DashboardProcess]:
    listen = f"127.0.0.1:{free_port()}"
    config = {
        "listen": [f"127.0.0.1:{free_port()}"],
        "upstreams": ["127.0.0.1:9"],
        "database": str(tmp_path / "filterd.db"),
        "dashboard": {
            "listen": listen,
            "database": str(tmp_path / "dashboard.db"),
            "allowed_hosts": ["127.0.0.1"],
            "http_listen": f"127.0.0.1:{free_port()}",
        },
    }
    config_path = tmp_path / "filterd.yaml"
    config_path.write_text(yaml.safe_dump(config))
    process = DashboardProcess(config_path, listen, tmp_path).start()
    try:
        yield process
    finally:
        process.stop()


def test_silent_connections_do_not_hold_up_a_carer(dashboard: DashboardProcess) -> None:
    host, _, port = dashboard.url.removeprefix("https://").rpartition(":")
    silent = [socket.create_connection((host, int(port))) for _ in range(SILENT)]
    try:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(
            f"{dashboard.url}/setup", context=context, timeout=PATIENCE
        ) as answer:
            assert answer.status == 200
            assert "set-up code" in answer.read().decode().lower()  # no account yet: first run
    finally:
        for connection in silent:
            connection.close()
    assert "Traceback" not in dashboard.log()  # a dropped handshake is one line, not a trace


def test_silent_connections_do_not_hold_up_the_plain_http_side(
    dashboard: DashboardProcess, tmp_path: Path
) -> None:
    """The plain-HTTP listener (block page, child's page, the certificate) had two workers."""
    config = yaml.safe_load((tmp_path / "filterd.yaml").read_text())
    host, _, port = config["dashboard"]["http_listen"].rpartition(":")
    silent = [socket.create_connection((host, int(port))) for _ in range(SILENT)]
    try:
        url = f"http://{host}:{port}/filterd-ca.crt"
        with urllib.request.urlopen(url, timeout=PATIENCE) as answer:
            assert answer.status == 200
            assert b"BEGIN CERTIFICATE" in answer.read()
    finally:
        for connection in silent:
            connection.close()
