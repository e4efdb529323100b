"""Time you can trust (issue 13): a box without a real-time clock that loses time sync and
jumps back to 1970 keeps judging bedtime by the last good time, moved on by the monotonic clock,
across a restart too, and Health says so in plain words. Real filterd and dashboard processes;
the wall clock is moved with $FILTERD_CLOCK_FILE and the sync state with
$FILTERD_CLOCK_SYNC_FILE."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import yaml

from filterd.rules.guards import with_end_line
from tests.support.dashboard_home import add_user
from tests.support.dashboard_process import DashboardProcess
from tests.support.filterd_process import free_port, wait_for
from tests.support.lists import blocked, write_lists
from tests.support.loopback_home import SAM, LoopbackHome, base_rules
from tests.support.wall_clock import london
from tests.support.web_client import Device

PASSWORD = "a long pass phrase for the box"


def test_bedtime_is_judged_by_the_last_good_time_when_the_clock_jumps_to_1970(
    start_filterd, tmp_path: Path
) -> None:
    shipped = write_lists(tmp_path / "shipped", social=["social.example"])
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(with_end_line(yaml.safe_dump(base_rules())))
    clock_path, sync_path = tmp_path / "clock", tmp_path / "synchronised"
    sync_path.write_text("synchronised")
    # Monday 20:45: Sam's school-night bedtime (20:30) has begun.
    clock_path.write_text(str(london("2026-11-23 20:45") - time.time()))
    listen = f"127.0.0.1:{free_port()}"
    env = {"FILTERD_CLOCK_FILE": str(clock_path), "FILTERD_CLOCK_SYNC_FILE": str(sync_path)}
    filterd = start_filterd(
        rules=str(rules_path),
        lists_update={"directory": str(tmp_path / "lists"), "shipped": str(shipped)},
        dashboard={"listen": listen, "database": str(tmp_path / "dashboard.db")},
        env=env,
    )
    home = LoopbackHome(filterd, rules_path, clock_path)
    assert blocked(home.ask(SAM, "homework.example")), "bedtime, by a synchronised clock"

    # Time sync is lost, then the clock jumps back to 1970 (noon: no bedtime then).
    sync_path.write_text("unsynchronised")
    time.sleep(0.7)
    home.set_time("1970-01-01 12:00")
    assert blocked(home.ask(SAM, "homework.example")), "still bedtime by the last good time"
    assert "the system clock is not synchronised; rules use the last good time" in filterd.log()

    # A power cut: filterd starts again with the clock still in 1970 and unsynchronised.
    filterd.stop()
    filterd.start(env=env)
    assert blocked(home.ask(SAM, "homework.example")), "the last good time was kept on disk"

    # Health says why, in words.
    config = filterd.config_path
    add_user(config, "admin", "administrator", PASSWORD)
    dashboard = DashboardProcess(config, listen, tmp_path).start()
    try:
        client = Device(dashboard.url)
        assert client.log_in("admin", PASSWORD).status == 302
        page = client.get("/health").text
        text = re.sub(r"<[^>]+>", "", page.split('id="clock">')[1])
        shown = re.sub(r"\s+", " ", html.unescape(text))
        assert shown.startswith("not set by a time server: the box's clock said 1970-01-01")
        assert "bedtimes and limits follow that last good time" in shown
        assert "(it was 2026-11-23 20:4" in shown
    finally:
        dashboard.stop()

    # Once a time server sets the clock, its time is trusted again (1970 noon: no bedtime).
    sync_path.write_text("synchronised")
    assert wait_for(lambda: not blocked(home.ask(SAM, "homework.example")), timeout=5)
