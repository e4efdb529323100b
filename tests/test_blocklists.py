"""Blocklists as a carer meets them: listed sites are blocked by category, helplines never are."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from dnslib import EDNS0, DNSRecord

from tests.support.dns_client import addresses, ask, assert_still_serving, rcode, udp_exchange
from tests.support.filterd_process import run_cli
from tests.support.lists import ede_codes, lists_config, update_lists, wait_blocked, write_lists
from tests.support.query_log import outcomes


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    return write_lists(
        tmp_path / "shipped",
        adult=["adult.example", "@@||ok.adult.example^"],
        social=["social.example"],
        illegal=["illegal.example"],
        gambling=["bet.example"],
        helplines=["childline.example"],
    )


def test_a_listed_domain_and_its_subdomains_are_blocked_with_a_null_address(
    start_filterd, tmp_path, shipped
):
    filterd = start_filterd(**lists_config(tmp_path, shipped))
    for name in ("adult.example", "www.adult.example", "a.b.adult.example"):
        reply = ask(filterd.port, name)
        assert rcode(reply) == "NOERROR" and addresses(reply) == ["0.0.0.0"], name
        assert reply.rr[0].ttl == 10
    assert addresses(ask(filterd.port, "www.adult.example", "AAAA")) == ["::"]
    mx = ask(filterd.port, "adult.example", "MX")
    assert rcode(mx) == "NOERROR" and not mx.rr
    rows = outcomes(filterd.db_path, "www.adult.example")
    assert rows[0][:2] == ("blocked", "adult")
    assert_still_serving(filterd.port)


def test_an_exception_unblocks_a_subdomain(start_filterd, tmp_path, shipped):
    filterd = start_filterd(**lists_config(tmp_path, shipped))
    assert addresses(ask(filterd.port, "ok.adult.example")) != ["0.0.0.0"]
    assert addresses(ask(filterd.port, "www.ok.adult.example")) != ["0.0.0.0"]


def test_only_the_households_categories_are_blocked_and_illegal_always(
    start_filterd, tmp_path, shipped
):
    filterd = start_filterd(**lists_config(tmp_path, shipped, block_categories=["gambling"]))
    assert addresses(ask(filterd.port, "social.example")) != ["0.0.0.0"]
    assert addresses(ask(filterd.port, "adult.example")) != ["0.0.0.0"]
    assert addresses(ask(filterd.port, "bet.example")) == ["0.0.0.0"]
    assert addresses(ask(filterd.port, "www.illegal.example")) == ["0.0.0.0"]


def test_blocked_answers_carry_extended_dns_error_15(start_filterd, tmp_path, shipped):
    filterd = start_filterd(**lists_config(tmp_path, shipped))
    reply = ask(filterd.port, "bet.example", edns=True)
    assert ede_codes(reply) == [15]
    plain = ask(filterd.port, "bet.example")
    assert not plain.ar, "no OPT for a client that sent no EDNS"


@pytest.mark.parametrize(
    ("style", "expected_rcode", "expected_addresses"),
    [("nxdomain", "NXDOMAIN", []), ("block_page", "NOERROR", ["192.0.2.80"])],
)
def test_blocked_answer_styles(
    start_filterd, tmp_path, shipped, style, expected_rcode, expected_addresses
):
    answer = {"style": style, "ipv4": "192.0.2.80", "ttl": 5}
    filterd = start_filterd(**lists_config(tmp_path, shipped, blocked_answer=answer))
    reply = ask(filterd.port, "www.bet.example")
    assert rcode(reply) == expected_rcode
    assert addresses(reply) == expected_addresses


def test_helplines_are_never_blocked_and_never_logged(start_filterd, tmp_path, shipped):
    lists = write_lists(
        tmp_path / "shipped2", adult=["childline.example"], helplines=["childline.example"]
    )
    filterd = start_filterd(**lists_config(tmp_path, lists))
    reply = ask(filterd.port, "www.childline.example")
    assert rcode(reply) == "NOERROR" and addresses(reply) != ["0.0.0.0"]
    ask(filterd.port, "after-helpline.example")
    assert outcomes(filterd.db_path, "after-helpline.example")
    assert outcomes(filterd.db_path, "www.childline.example", timeout=0.5) == []
    assert filterd.metric("filterd_queries_total", reason="helpline") == 1


def test_helplines_left_out_of_the_log_are_not_counted_as_lost(start_filterd, tmp_path):
    lists = write_lists(tmp_path / "shipped2", helplines=["childline.example"])
    filterd = start_filterd(**lists_config(tmp_path, lists))
    for i in range(5):
        ask(filterd.port, f"n{i}.childline.example")
    ask(filterd.port, "after-helplines.example")
    assert outcomes(filterd.db_path, "after-helplines.example")
    time.sleep(0.3)  # a few more flushes of the log queue, where losses are counted
    assert filterd.metric("filterd_queries_total", reason="helpline") == 5
    assert filterd.metric("filterd_querylog_dropped_total") == 0
    assert filterd.metric("filterd_querylog_written_total") >= 1


@pytest.mark.parametrize(
    ("name", "qtype", "expected"),
    [
        ("use-application-dns.net", "A", "NXDOMAIN"),
        ("mask.icloud.com", "A", "NXDOMAIN"),
        ("mask-h2.icloud.com", "AAAA", "NXDOMAIN"),
        ("_dns.resolver.arpa", "SVCB", "NOERROR"),
    ],
)
def test_bypass_canaries_are_answered_locally(filterd, upstream, name, qtype, expected):
    upstream.clear_log()
    reply = ask(filterd.port, name, qtype)
    assert rcode(reply) == expected
    assert not reply.rr
    assert upstream.queries_for(name) == []


def test_blocked_names_are_answered_with_every_upstream_down(start_filterd, tmp_path, shipped):
    filterd = start_filterd(upstreams=["127.0.0.1:9"], **lists_config(tmp_path, shipped))
    started = time.monotonic()
    reply = ask(filterd.port, "adult.example")
    assert addresses(reply) == ["0.0.0.0"]
    assert time.monotonic() - started < 0.5
    assert rcode(ask(filterd.port, "use-application-dns.net")) == "NXDOMAIN"


def test_a_new_index_is_swapped_in_without_a_restart_or_a_lost_query(
    start_filterd, tmp_path, shipped
):
    filterd = start_filterd(**lists_config(tmp_path, shipped))
    assert addresses(ask(filterd.port, "new-site.example")) != ["0.0.0.0"]
    write_lists(shipped, adult=["adult.example", "new-site.example"])
    unanswered: list[int] = []
    stop = threading.Event()

    def keep_asking() -> None:
        probe = DNSRecord.question("steady.example", "A").pack()
        while not stop.is_set():
            if udp_exchange(filterd.port, probe, timeout=1) is None:
                unanswered.append(1)

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        result = update_lists(filterd.config_path, "--offline")
        assert result.returncode == 0, result.stderr
        deadline = time.monotonic() + 5
        while addresses(ask(filterd.port, "www.new-site.example")) != ["0.0.0.0"]:
            assert time.monotonic() < deadline, "the new index was not swapped in"
            time.sleep(0.2)
    finally:
        stop.set()
        asker.join()
    assert unanswered == []
    assert filterd.metric("filterd_blocklist_swaps_total") >= 1


def test_a_corrupt_index_file_keeps_the_previous_one(start_filterd, tmp_path, shipped):
    filterd = start_filterd(**lists_config(tmp_path, shipped))
    # Replaced the way every writer must (a new file renamed over the old one); the running
    # daemon keeps serving from its mapping of the previous file.
    broken = tmp_path / "lists" / "index.bin.new"
    broken.write_bytes(b"not an index at all")
    broken.replace(tmp_path / "lists" / "index.bin")
    deadline = time.monotonic() + 5
    while filterd.metric("filterd_blocklist_swap_failures_total") < 1:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert addresses(ask(filterd.port, "adult.example")) == ["0.0.0.0"]
    assert "cannot be used, keeping the previous one" in filterd.log()


def test_unknown_category_in_config_is_refused_by_name(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(
        'listen: ["127.0.0.1:1053"]\nupstreams: ["127.0.0.1:53"]\n'
        "block_categories: [adult, casinos]\nlists:\n  porn: [x.txt]\n"
    )
    result = run_cli("check-config", str(config))
    assert result.returncode == 1
    assert "block_categories[1]: unknown category 'casinos'" in result.stdout
    assert "lists.porn: unknown key" in result.stdout


def test_edns_client_gets_opt_with_ede_even_for_aaaa(start_filterd, tmp_path, shipped):
    filterd = start_filterd(**lists_config(tmp_path, shipped))
    query = DNSRecord.question("adult.example", "AAAA")
    query.add_ar(EDNS0(udp_len=1232))
    reply = DNSRecord.parse(udp_exchange(filterd.port, query.pack()))
    assert [str(rr.rdata) for rr in reply.rr] == ["::"]
    assert ede_codes(reply) == [15]


def test_update_downloads_a_source_and_a_failed_download_keeps_the_last_good_copy(
    start_filterd, tmp_path, shipped, list_files
):
    list_files.files["/list.txt"] = b"0.0.0.0 casino-one.example\n0.0.0.0 casino-two.example\n"
    filterd = start_filterd(
        **lists_config(tmp_path, shipped, lists={"gambling": [list_files.url("/list.txt")]})
    )
    result = update_lists(filterd.config_path)
    assert result.returncode == 0, result.stderr
    assert "updated" in result.stdout
    wait_blocked(filterd.port, "casino-two.example")

    list_files.statuses["/list.txt"] = 500
    list_files.files["/list.txt"] = b"<html>oops</html>"
    result = update_lists(filterd.config_path)
    assert result.returncode == 0
    assert "failed" in result.stdout and "last good copy stays in force" in result.stdout
    status = json.loads((tmp_path / "lists" / "status.json").read_text())
    assert status["failures"] == 1
    time.sleep(2.5)  # give the daemon time to swap in the rebuilt index
    assert addresses(ask(filterd.port, "casino-two.example")) == ["0.0.0.0"]
    assert filterd.metric("filterd_blocklist_source_failures") == 1


def test_the_daemon_refreshes_sources_on_its_own(start_filterd, tmp_path, shipped, list_files):
    list_files.files["/list.txt"] = b"periodic.example\n"
    config = lists_config(tmp_path, shipped, lists={"gambling": [list_files.url("/list.txt")]})
    config["lists_update"]["refresh_hours"] = 0.0005  # about two seconds
    filterd = start_filterd(**config)
    wait_blocked(filterd.port, "www.periodic.example", timeout=30)  # a busy machine: slow start
    assert filterd.metric("filterd_blocklist_updates_total", outcome="ok") >= 1


def test_the_log_names_every_category_of_a_name_blocked_or_not(start_filterd, tmp_path):
    lists = write_lists(
        tmp_path / "multi",
        social=["both.example", "chat.example"],
        messaging=["chat.example"],
        gambling=["both.example"],
    )
    filterd = start_filterd(**lists_config(tmp_path, lists, block_categories=["gambling"]))
    assert addresses(ask(filterd.port, "www.both.example")) == ["0.0.0.0"]
    assert addresses(ask(filterd.port, "chat.example")) != ["0.0.0.0"]
    assert outcomes(filterd.db_path, "www.both.example")[0][:2] == (
        "blocked",
        "gambling,social",
    )
    assert outcomes(filterd.db_path, "chat.example")[0][:2] == (
        "forwarded",
        "social,messaging",
    )
