"""A second `make run` (filterd up) while the first still runs: it says at once, before any
address or set-up code, that another filterd holds the port, and names it (issue 13's outside
check: it printed the dashboard address and code, then failed with "Address already in use")."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from filterd.up.supervise import up
from tests.support.filterd_process import free_port


def settings(tmp_path: Path, dns: int, https: int) -> Path:
    path = tmp_path / "filterd.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "listen": [f"127.0.0.1:{dns}"],
                "upstreams": ["127.0.0.1:9"],
                "database": str(tmp_path / "filterd.db"),
                "rules": str(tmp_path / "rules.yaml"),
            }
        )
    )
    return path


def never_asked() -> str | None:
    raise AssertionError("the set-up code was fetched (and would be printed) for a run that fails")


@pytest.mark.parametrize("held", ["dns-udp", "dns-tcp", "https", "http"])
def test_a_port_another_run_holds_is_named_before_anything_starts(tmp_path: Path, capsys, held):
    dns, https, http = free_port(), free_port(), free_port()
    path = settings(tmp_path, dns, https)
    kind = socket.SOCK_DGRAM if held == "dns-udp" else socket.SOCK_STREAM
    port = {"dns-udp": dns, "dns-tcp": dns, "https": https, "http": http}[held]
    with socket.socket(socket.AF_INET, kind) as other:  # the first run, still serving
        other.bind(("127.0.0.1", port))
        if kind == socket.SOCK_STREAM:
            other.listen()
        status = up(path, f"127.0.0.1:{https}", never_asked, None, f"127.0.0.1:{http}")
    said = capsys.readouterr()
    assert status == 1
    assert f"another filterd (perhaps another make run) is using 127.0.0.1:{port}" in said.err
    assert "dashboard at" not in said.out and "set-up code" not in said.out
    assert not (tmp_path / "rules.yaml").exists()  # nothing was started or written
