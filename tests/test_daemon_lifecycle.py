"""Running filterd as a service: readiness, reload on SIGHUP, clean stop on SIGTERM."""

from __future__ import annotations

import signal
import socket

import yaml

from tests.support.dns_client import addresses, ask, assert_still_serving, rcode
from tests.support.filterd_process import run_cli, wait_for
from tests.support.query_log import logged
from tests.support.scripted_upstream import default_a
from tests.support.upstream_process import ScriptedUpstream


def test_sigterm_stops_cleanly_with_every_query_logged(filterd):
    names = [f"www.lifecycle{i}.example" for i in range(50)]
    for name in names:
        assert rcode(ask(filterd.port, name)) == "NOERROR"
    assert filterd.stop() == 0
    assert set(names) <= {row[0] for row in logged(filterd.db_path, None, "name", count=0)}
    assert "Traceback" not in filterd.log()


def test_ready_notification_reaches_systemd_socket(start_filterd, tmp_path):
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(10)
        start_filterd(env={"NOTIFY_SOCKET": str(path)})
        assert sock.recv(100) == b"READY=1"


def test_sighup_applies_a_new_upstream_list(start_filterd, tmp_path):
    with ScriptedUpstream() as first, ScriptedUpstream() as second:
        filterd = start_filterd(upstreams=[first.addr])
        assert rcode(ask(filterd.port, "before-reload.example")) == "NOERROR"
        config = dict(filterd.config, upstreams=[second.addr])
        filterd.write_config(config)
        filterd.signal(signal.SIGHUP)
        assert wait_for(lambda: "config reloaded" in filterd.log())
        reply = ask(filterd.port, "after-reload.example")
        assert addresses(reply) == [default_a("after-reload.example")]
        assert [q["name"] for q in second.queries()] == ["after-reload.example"]
        assert "after-reload.example" not in [q["name"] for q in first.queries()]


def test_sighup_with_a_bad_config_keeps_the_running_one(filterd):
    filterd.write_config(text=yaml.safe_dump(dict(filterd.config, upstreams=["nowhere"])))
    filterd.signal(signal.SIGHUP)
    assert wait_for(lambda: "config reload refused" in filterd.log())
    assert "upstreams[0]: expected host:port" in filterd.log()
    assert filterd.metric("filterd_config_reloads_total", outcome="failed") == 1
    assert_still_serving(filterd.port)


def test_dns_keeps_answering_when_the_database_cannot_be_written(start_filterd, tmp_path):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the database directory should be")
    filterd = start_filterd(database=str(blocked / "filterd.db"))
    for i in range(5):
        assert rcode(ask(filterd.port, f"no-disk{i}.example")) == "NOERROR"
    assert_still_serving(filterd.port)


def test_a_port_in_use_is_reported_by_address(start_filterd, tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        port = squatter.getsockname()[1]
        config = tmp_path / "busy.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "listen": [f"127.0.0.1:{port}"],
                    "upstreams": ["127.0.0.1:9"],
                    "database": str(tmp_path / "busy.db"),
                }
            )
        )
        result = run_cli("run", "--config", str(config))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr


def test_stopping_the_whole_process_group_still_logs_every_query(filterd):
    names = [f"www.group-stop{i}.example" for i in range(30)]
    for name in names:
        assert rcode(ask(filterd.port, name)) == "NOERROR"
    filterd.signal_group(signal.SIGTERM)
    assert filterd.proc.wait(10) == 0
    assert set(names) <= {row[0] for row in logged(filterd.db_path, None, "name", count=0)}
    assert "restarting" not in filterd.log()
