"""A new app catalogue that lacks an app a child's rules choose is refused (check16).

Seen from a child's phone: TikTok blocked by name, 13-15 (social allowed); a new, well-formed
services.yaml without TikTok was swapped in, the rules were then refused (they name an app
the catalogue no longer has) but the rules in force kept `tiktok: blocked` for an app whose
names filterd had forgotten, so tiktok.com and its CDN were answered. Now the catalogue is
refused with the app's key and why, and the one in force stays.
"""

from __future__ import annotations

import re
from pathlib import Path

from filterd.catalogue.load import CATALOGUE_FILE
from filterd.catalogue.service import CatalogueService
from filterd.clock import SystemClock
from filterd.db.usage_status import UsageStatusDb
from filterd.lists.index import domain_to_wire
from filterd.rules.service import RulesService

RULES = """\
timezone: Europe/London
children:
  alex:
    name: Alex
    age_band: '13_15'
    services: {tiktok: blocked}
    allowed_during:
      - {services: [roblox], days: [sat], start: "10:00", end: "12:00"}
devices:
  - {ip: 127.0.0.5, name: "Alex's phone", owner: alex}
end_of_rules: true
"""


def _without(text: str, service_id: str) -> str:
    """The catalogue text with one service's entry (up to the next service) taken out."""
    start = text.index(f"\n  {service_id}:\n") + 1
    end = re.compile(r"\n  [a-z0-9_]+:\n").search(text, start).start() + 1
    count = int(text.split("services_count: ", 1)[1].split("\n", 1)[0])
    text = text[:start] + text[end:]
    text = text.replace(f"services_count: {count}", f"services_count: {count - 1}")
    return text.replace(f"  - {service_id}\n", "", 1)


def _wired(tmp_path: Path) -> tuple[CatalogueService, RulesService, Path]:
    catalogue_file = tmp_path / "services.yaml"
    catalogue_file.write_text(CATALOGUE_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    apps = CatalogueService(catalogue_file)
    apps.load()
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES, encoding="utf-8")
    rules = RulesService(rules_file, UsageStatusDb(tmp_path / "state.db"), SystemClock())
    rules.catalogue = lambda: apps.current  # as the daemon wires them
    apps.swapped = rules.catalogue_changed
    apps.unusable = rules.apps_in_force_missing
    rules.load()
    assert rules.rules is not None and "alex" in rules.rules.children
    return apps, rules, catalogue_file


def _replace(path: Path, text: str) -> None:
    fresh = path.with_suffix(".new")
    fresh.write_text(text, encoding="utf-8")
    fresh.replace(path)


def test_a_catalogue_without_a_blocked_app_is_refused_and_the_app_stays_known(tmp_path):
    apps, _, path = _wired(tmp_path)
    _replace(path, _without(path.read_text(encoding="utf-8"), "tiktok"))
    assert apps.refresh() is False
    assert "tiktok" in apps.current.services
    found = apps.current.service_of(domain_to_wire("api16-normal-c-useast1a.tiktokv.com"))
    assert found is not None and found.id == "tiktok"
    assert apps.problems and apps.problems[0].startswith("services.tiktok: ")
    assert "alex" in apps.problems[0]


def test_an_app_only_scheduled_counts_too(tmp_path):
    apps, _, path = _wired(tmp_path)
    _replace(path, _without(path.read_text(encoding="utf-8"), "roblox"))
    assert apps.refresh() is False
    assert any(p.startswith("services.roblox: ") for p in apps.problems)


def test_a_catalogue_that_keeps_every_chosen_app_is_swapped_in(tmp_path):
    apps, _, path = _wired(tmp_path)
    _replace(path, _without(path.read_text(encoding="utf-8"), "snapchat"))
    assert apps.refresh() is True
    assert "snapchat" not in apps.current.services
