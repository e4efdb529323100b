"""The illegal tier with a real filterd: nothing a carer, a rules file or the config says lets an
illegal-content name through, URL-form list lines block their host, and bypass is high risk."""

from __future__ import annotations

import time
from pathlib import Path

from dashboard.data.blocked_log import Filters, page_of
from dashboard.data.db import connect
from filterd.db.read import FilterdReader
from filterd.db.retention import Retention
from tests.support.dns_client import addresses, ask
from tests.support.filterd_process import wait_for
from tests.support.lists import write_lists
from tests.support.loopback_home import SAM, start_on_loopback
from tests.support.query_log import logged

NULL = ["0.0.0.0"]


def start(start_filterd, tmp_path: Path, rules: dict, **config):
    shipped = write_lists(
        tmp_path / "shipped",
        illegal=[
            "http://abuse.example/gallery/1.html",  # URL form, as such lists are published
            "hidden.example/a/b",
            "helpline-lookalike.example",
        ],
        helplines=["childline.example", "helpline-lookalike.example"],
        bypass=["vpn.example"],
    )
    bedtime = "2026-11-23 23:00"  # a Monday night
    return start_on_loopback(start_filterd, tmp_path, rules, shipped, bedtime, **config).filterd


def loosest_rules() -> dict:
    """A child whose carer let everything through that rules can let through."""
    loosened = ["abuse.example", "hidden.example", "helpline-lookalike.example"]
    return {
        "timezone": "Europe/London",
        "children": {
            "sam": {
                "name": "Sam",
                "age_band": "16_17",
                "allow": list(loosened),
                "always_allow": list(loosened),
                "overrides": [
                    {"kind": "lift_bedtime", "until": "2026-11-24 06:00"},
                    {"kind": "extra_time", "minutes": 60, "until": "2026-11-24 06:00"},
                ],
            }
        },
        "devices": [
            {"ip": SAM, "name": "Sam's phone", "owner": "sam"},
            {"ip": "127.0.0.1", "name": "Carer's laptop", "owner": "none"},
        ],
    }


def test_illegal_outranks_helplines_allow_always_allow_overrides_and_the_config(
    start_filterd, tmp_path
):
    filterd = start(
        start_filterd,
        tmp_path,
        loosest_rules(),
        block_categories=[],  # a config edit trying to block nothing
        helplines=["abuse.example"],  # and calling an illegal site a helpline
    )
    for source in (SAM, "127.0.0.1"):  # the child's phone and a household device
        for name in ("abuse.example", "www.hidden.example", "helpline-lookalike.example"):
            reply = ask(filterd.port, name, source=source)
            assert reply is not None, f"no answer to {name} from {source}"
            assert addresses(reply) == NULL, (source, name)
    # A helpline that is on no illegal list still answers, and is still not logged.
    helpline = ask(filterd.port, "childline.example", source=SAM)
    assert helpline is not None and addresses(helpline) != NULL

    for name in ("abuse.example", "helpline-lookalike.example"):
        rows = logged(filterd.db_path, name, "reason, categories", count=2)
        assert len(rows) == 2 and all(r[:2] == ("blocked", "illegal") for r in rows), rows
    assert logged(filterd.db_path, "childline.example", timeout=0.3) == []
    children = sorted(row[0] for row in logged(filterd.db_path, "abuse.example", "child", count=0))
    assert children == ["", "sam"], "Sam's rules in force"


def test_a_childs_bypass_attempt_is_listed_high_risk_for_review(start_filterd, tmp_path):
    rules = loosest_rules()
    rules["children"]["sam"]["overrides"] = []
    rules["children"]["sam"]["age_band"] = "13_15"
    filterd = start(start_filterd, tmp_path, rules)
    bypass = ask(filterd.port, "vpn.example", source=SAM)
    assert bypass is not None and addresses(bypass) == NULL
    assert logged(filterd.db_path, "vpn.example")

    def listed() -> bool:
        reader = FilterdReader(filterd.db_path, Retention(7))
        with connect(tmp_path / "dashboard.db") as reviews:
            page = page_of(reader, reviews, Filters(start=0, end=time.time() + 86400 * 2))
        reader.close()
        found = [e for e in page.entries if e.name == "vpn.example"]
        return bool(found) and found[0].high_risk and found[0].child == "sam"

    assert wait_for(listed, timeout=3)
