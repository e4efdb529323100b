"""The filter self-test against a real filterd: blocked categories are checked with real DNS
questions, the canaries answered, a category no list covers reported; Health shows the result."""

from __future__ import annotations

import json
from pathlib import Path

from dnslib import EDNS0, DNSRecord

from filterd.selftest.marker import option, read_secret, secret_path
from tests.support.dashboard_app import logged_in, make_app
from tests.support.dns_client import udp_exchange
from tests.support.events import NO_DISCOVERY, events
from tests.support.filterd_process import run_cli
from tests.support.lists import write_lists
from tests.support.query_log import logged


def on_shipped_lists(start_filterd, tmp_path: Path, shipped: Path, blocked: list[str]):
    """filterd whose lists come only from `shipped` (no refresh, no discovery), blocking the
    `blocked` categories for the household."""
    return start_filterd(
        lists_update={
            "directory": str(tmp_path / "lists"),
            "shipped": str(shipped),
            "refresh_hours": 0,
        },
        block_categories=blocked,
        discovery=NO_DISCOVERY,
    )


def test_the_self_test_finds_a_category_no_list_covers_and_health_shows_it(start_filterd, tmp_path):
    shipped = write_lists(
        tmp_path / "shipped",
        adult=["adult.example", "www.adult2.example", "adult3.example"],
        illegal=["http://abuse.example/page.html"],
        # gambling is blocked for the household, but no list has any name in it
    )
    filterd = on_shipped_lists(start_filterd, tmp_path, shipped, ["adult", "gambling"])
    done = run_cli("selftest", "--config", str(filterd.config_path))
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "ok   adult: blocked: 3 names blocked" in lines
    assert "ok   illegal content: blocked: 1 names blocked" in lines
    gambling = "FAIL gambling: covered by a list: no list has any name"
    assert any(line.startswith(gambling) for line in lines)
    assert "ok   encrypted-DNS canary use-application-dns.net: NXDOMAIN" in lines

    (row,) = [e for e in events(filterd.db_path) if e[2].startswith("selftest.")]
    assert row[2] == "selftest.failed" and row[4] == "warning"
    assert json.loads(row[7])["ok"] is False

    app = make_app(filterd.workdir)  # a dashboard on the same filterd.db
    client = logged_in(app, "Vi", "viewer")
    page = client.get("/health").get_data(as_text=True)
    assert "Filter self-test" in page and "found problems" in page
    assert "gambling: covered by a list (no list has any name in it" in page


def test_a_new_box_with_no_licensed_illegal_list_passes_with_a_standing_notice(
    start_filterd, tmp_path
):
    """As installed: nothing covers the illegal tier until the home adds its licensed list.
    That is said in plain words on Health, not a failed self-test (selftest.failed) each time."""
    shipped = write_lists(tmp_path / "shipped", adult=["adult.example"])
    filterd = on_shipped_lists(start_filterd, tmp_path, shipped, ["adult"])
    done = run_cli("selftest", "--config", str(filterd.config_path))
    notice = "No illegal-content list yet: add the IWF list your licence gives you"
    assert f"note illegal content: covered by a list: {notice}" in done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    (row,) = [e for e in events(filterd.db_path) if e[2].startswith("selftest.")]
    assert row[2] == "selftest.result"

    app = make_app(filterd.workdir)
    page = logged_in(app, "Vi", "viewer").get("/health").get_data(as_text=True)
    shown = page[page.index('id="selftest"') :]
    assert notice in shown and "found problems" not in shown[:400]


def test_the_self_tests_own_questions_are_not_logged_but_a_device_using_its_mark_is(
    start_filterd, tmp_path
):
    """The household self-test asks illegal-tier sample names every run: they must never
    reach the query log, the events or the alerts. Its mark (this start's secret, from
    loopback) must not give anyone else unlogged lookups: a device sending the very same
    option is logged, and so is the box itself without the secret."""
    shipped = write_lists(
        tmp_path / "shipped",
        adult=["adult.example"],
        illegal=["http://abuse.example/page.html"],
    )
    filterd = on_shipped_lists(start_filterd, tmp_path, shipped, ["adult"])
    done = run_cli("selftest", "--config", str(filterd.config_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok   illegal content: blocked: 1 names blocked" in done.stdout.splitlines()
    secret = read_secret(filterd.db_path)
    assert secret is not None
    assert (secret_path(filterd.db_path).stat().st_mode & 0o777) == 0o600

    marked = DNSRecord.question("abuse.example", "A")
    marked.add_ar(EDNS0(udp_len=1232, opts=[option(secret)]))
    # A device (not loopback) sending the self-test's exact option: answered and logged.
    reply = udp_exchange(filterd.port, marked.pack(), source="127.0.0.2", timeout=2.0)
    assert reply is not None
    # The box itself with a wrong secret: logged too.
    wrong = DNSRecord.question("abuse.example", "A")
    wrong.add_ar(EDNS0(udp_len=1232, opts=[option(b"x" * len(secret))]))
    assert udp_exchange(filterd.port, wrong.pack(), source="127.0.0.1", timeout=2.0)

    rows = logged(filterd.db_path, "abuse.example", "client", count=2)
    assert sorted(row[0] for row in rows) == ["127.0.0.1", "127.0.0.2"]  # not the self-test's
    assert not logged(filterd.db_path, "adult.example", count=0)
    illegal = [e for e in events(filterd.db_path) if e[2] == "block.illegal"]
    assert sorted(e[6] for e in illegal) == ["127.0.0.1", "127.0.0.2"]
