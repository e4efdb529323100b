"""A home on loopback for end-to-end rules tests: filterd with a rules file of two children
whose devices each have their own 127.x address (Sam, 9-12, and Alex, 13-15, plus a carer's
phone), and a wall clock the test moves through $FILTERD_CLOCK_FILE, so bedtimes, limits and
expiries are crossed in seconds while DNS itself runs on real time. The `loopback_home`
fixture in tests/conftest.py starts one."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import yaml
from dnslib import DNSRecord

from filterd.rules.guards import with_end_line
from tests.support.dns_client import make_query, udp_exchange
from tests.support.filterd_process import FilterdProcess
from tests.support.lists import write_lists
from tests.support.wall_clock import london

SAM = "127.0.0.2"  # 9_12: social blocked, bedtime 20:30 on school nights
ALEX = "127.0.0.3"  # 13_15: social allowed
ALEX_LAPTOP = "127.0.0.4"
CARER = "127.0.0.5"  # owner: none
STRANGER = "127.0.0.99"  # not listed: the strict profile


def base_rules() -> dict:
    """The rules file every loopback home starts with: Sam and Alex and their devices."""
    return {
        "timezone": "Europe/London",
        "children": {
            "sam": {
                "name": "Sam",
                "age_band": "9_12",
                "always_allow": ["school.example"],
            },
            "alex": {"name": "Alex", "age_band": "13_15"},
        },
        "devices": [
            {"ip": SAM, "name": "Sam's tablet", "owner": "sam"},
            {"ip": ALEX, "name": "Alex's phone", "owner": "alex"},
            {"ip": ALEX_LAPTOP, "name": "Alex's laptop", "owner": "alex"},
            {"ip": CARER, "name": "Carer's phone", "owner": "none"},
        ],
    }


class LoopbackHome:
    """A running filterd with a rules file and a movable wall clock."""

    def __init__(self, filterd: FilterdProcess, rules_path: Path, clock_path: Path) -> None:
        self.filterd = filterd
        self.rules_path = rules_path
        self.clock_path = clock_path

    def write_rules(self, rules: dict | str) -> None:
        text = rules if isinstance(rules, str) else with_end_line(yaml.safe_dump(rules))
        temporary = self.rules_path.with_suffix(".tmp")
        temporary.write_text(text)
        temporary.replace(self.rules_path)  # as the dashboard writes it

    def set_time(self, when: str) -> None:
        """Move the daemon's wall clock to a Europe/London time; wait until it has moved."""
        self.clock_path.write_text(str(london(when) - time.time()))
        time.sleep(0.7)  # the daemon re-reads the clock file twice a second

    def ask(self, source: str, name: str, qtype: str = "A") -> DNSRecord:
        query = make_query(name, qtype, edns=True)
        raw = udp_exchange(self.filterd.port, query.pack(), source=source)
        assert raw is not None, f"no answer to {name} from {source}"
        return DNSRecord.parse(raw)


def start_on_loopback(
    start_filterd: Callable[..., FilterdProcess],
    tmp_path: Path,
    rules: dict,
    shipped: Path,
    when: str = "2026-11-23 16:00",  # a Monday afternoon
    **config: object,
) -> LoopbackHome:
    """filterd on `rules` with the shipped lists in `shipped` (never refreshed), its wall clock
    at `when` in London; `config`: more filterd settings."""
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(with_end_line(yaml.safe_dump(rules)))
    clock_path = tmp_path / "clock"
    clock_path.write_text(str(london(when) - time.time()))
    filterd = start_filterd(
        rules=str(rules_path),
        lists_update={
            "directory": str(tmp_path / "lists"),
            "shipped": str(shipped),
            "refresh_hours": 0,
        },
        env={"FILTERD_CLOCK_FILE": str(clock_path)},
        **config,
    )
    return LoopbackHome(filterd, rules_path, clock_path)


def start_loopback_home(
    start_filterd: Callable[..., FilterdProcess], tmp_path: Path
) -> LoopbackHome:
    """filterd on `base_rules()` with social, gaming and adult lists and a helpline, its clock
    on a Monday afternoon (2026-11-23 16:00 in London)."""
    shipped = write_lists(
        tmp_path / "shipped",
        social=["social.example"],
        gaming=["game.example"],
        adult=["adult.example"],
        helplines=["childline.example"],
    )
    return start_on_loopback(start_filterd, tmp_path, base_rules(), shipped)
