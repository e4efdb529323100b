"""Random chat with strangers is its own category, blocked at every age, apart from messaging."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from filterd.db.querylog_writer import open_database
from filterd.db.schema import BLOCKED_CONDITION, HIGH_RISK_CONDITION
from filterd.lists.categories import BY_ID, mask_of
from filterd.lists.index import domain_to_wire
from filterd.lists.parse import parse_list
from filterd.lists.settings import SHIPPED_LISTS
from filterd.rules.decide import decide
from filterd.rules.parse import parse_rules
from filterd.rules.presets import PRESETS, STRICT_PRESET
from tests.support.shipped_lists import shipped_store

STRANGER_CHAT = mask_of(["stranger_chat"])
MESSAGING = mask_of(["messaging"])
SATURDAY_AFTERNOON = 1_795_186_800.0  # 2026-11-21 14:00 London: no bedtime in any preset


def shipped(category: str) -> set[str]:
    return set(parse_list((SHIPPED_LISTS / f"{category}.txt").read_text()).blocked)


@pytest.mark.parametrize("band", [*PRESETS, "strict"])
def test_every_age_preset_blocks_stranger_chat(band):
    preset = STRICT_PRESET if band == "strict" else PRESETS[band]
    assert preset.block_mask & STRANGER_CHAT


def test_stranger_chat_sites_are_no_longer_messaging():
    strangers = shipped("stranger_chat")
    assert {"omegle.com", "ome.tv", "chatroulette.com", "emeraldchat.com"} <= strangers
    assert not strangers & shipped("messaging")
    assert "stranger" not in BY_ID["messaging"].description


def test_a_13_year_old_keeps_whatsapp_but_not_omegle(tmp_path):
    """13_15 allows messaging: before this category Omegle-style sites were answered for them."""
    store = shipped_store(tmp_path)
    child = parse_rules("children:\n  jo: {age_band: 13_15}\n").children["jo"]
    london = ZoneInfo("Europe/London")

    def verdict(name: str):
        wire = domain_to_wire(name)
        return decide(wire, store.categories(wire), child, {}, SATURDAY_AFTERNOON, london, 1)

    omegle = verdict("www.omegle.com")
    assert omegle.blocked and "stranger_chat" in omegle.text
    assert store.categories(domain_to_wire("web.whatsapp.com")) & MESSAGING
    assert not verdict("web.whatsapp.com").blocked
    store.close()


def test_a_query_log_from_before_stranger_chat_gets_its_review_index_rebuilt(tmp_path: Path):
    """The partial index of high-risk blocks must follow the category list, or SQLite stops
    using it for the dashboard's review queue."""
    path = tmp_path / "queries.db"
    open_database(path).close()
    old = sqlite3.connect(path)
    old.execute("DROP INDEX queries_high_risk_v2_ts")  # as built before stranger_chat existed:
    old.execute(
        "CREATE INDEX queries_high_risk_v2_ts ON queries(ts) WHERE categories LIKE '%adult%'"
    )
    old.commit()
    old.close()
    db = open_database(path)
    (sql,) = db.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'queries_high_risk_v2_ts'"
    ).fetchone()
    assert HIGH_RISK_CONDITION in sql and "stranger_chat" in sql
    plan = " ".join(
        str(row)
        for row in db.execute(
            f"EXPLAIN QUERY PLAN SELECT ts FROM queries WHERE {BLOCKED_CONDITION}"
            f" AND {HIGH_RISK_CONDITION}"
        )
    )
    assert "queries_high_risk_v2_ts" in plan
    db.close()


def test_the_app_catalogues_random_chat_services_fall_under_stranger_chat():
    """So a preset's stranger_chat block reaches the catalogue's names for those apps too."""
    from filterd.catalogue.load import load_catalogue

    services = [s for s in load_catalogue().services.values() if s.kind == "stranger_chat"]
    assert services
    for service in services:
        assert service.category == "stranger_chat" and service.mask == STRANGER_CHAT
    for band, preset in PRESETS.items():
        assert all(preset.block_mask & s.mask for s in services), band
