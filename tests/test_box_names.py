"""The box's own names: filterd.home.arpa (and a configured name) are answered by filterd itself
with the box's addresses, A and AAAA, and never asked of the upstream."""

from __future__ import annotations

import signal

from tests.support.dns_client import addresses, ask, rcode
from tests.support.filterd_process import wait_for


def test_configured_addresses_answer_both_names_and_nothing_goes_upstream(
    start_filterd, upstream
) -> None:
    box = start_filterd(
        box_names={
            "names": ["filterd.home.arpa", "Carers-Box.lan"],
            "addresses": ["192.168.1.2", "fd00::2"],
        },
    )
    upstream.clear_log()
    a = ask(box.port, "filterd.home.arpa", "A")
    assert rcode(a) == "NOERROR" and addresses(a) == ["192.168.1.2"]
    aaaa = ask(box.port, "FILTERD.home.arpa", "AAAA")
    assert rcode(aaaa) == "NOERROR" and addresses(aaaa) == ["fd00::2"]
    other = ask(box.port, "carers-box.lan", "A")
    assert addresses(other) == ["192.168.1.2"]
    mx = ask(box.port, "filterd.home.arpa", "MX")
    assert rcode(mx) == "NOERROR" and not mx.rr  # no such record, still ours
    assert ask(box.port, "other.home.arpa", "A") is not None  # not ours: forwarded
    assert upstream.wait_queries(1)
    asked = [q["name"].rstrip(".").lower() for q in upstream.queries()]
    assert "other.home.arpa" in asked
    assert not any(name in ("filterd.home.arpa", "carers-box.lan") for name in asked), asked


def test_without_addresses_it_answers_with_the_address_it_listens_on_and_reloads(
    start_filterd, upstream
) -> None:
    box = start_filterd()
    upstream.clear_log()
    reply = ask(box.port, "filterd.home.arpa", "A")
    assert addresses(reply) == ["127.0.0.1"]
    no_v6 = ask(box.port, "filterd.home.arpa", "AAAA")
    assert rcode(no_v6) == "NOERROR" and not no_v6.rr
    assert upstream.queries_for("filterd.home.arpa") == []

    # A new name in the config is the box's after a reload (SIGHUP), with no restart.
    box.config["box_names"] = {"names": ["box.example.lan"], "addresses": ["10.0.0.5"]}
    box.write_config()
    box.signal(signal.SIGHUP)
    assert wait_for(lambda: "config reloaded" in box.log(), timeout=10), box.log()
    assert addresses(ask(box.port, "box.example.lan", "A")) == ["10.0.0.5"]
    assert upstream.queries_for("box.example.lan") == []


def test_a_bad_address_is_refused_with_its_key(tmp_path) -> None:
    from filterd.config import ConfigError, parse_config

    try:
        parse_config(
            "listen: ['127.0.0.1:53']\nupstreams: ['127.0.0.1:5353']\n"
            "box_names: {addresses: ['192.168.1.300']}\n"
        )
    except ConfigError as err:
        assert err.problems == ["box_names.addresses[0]: not an IP address: '192.168.1.300'"]
    else:
        raise AssertionError("a bad address was accepted")
