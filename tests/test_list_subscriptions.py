"""Categories that work on day one (issue 13): filterd, subscribed to list files a loopback
HTTP server serves, downloads them in the background on its own and blocks what they list for
a child whose category is blocked; a helpline or essential name on a downloaded list still
resolves; a download cut short keeps the lists in force; Health says, per category, how many
sites and how long ago in words, and warns when a category is nearly empty or out of date."""

from __future__ import annotations

import json
import time
from pathlib import Path

import yaml
from dnslib import DNSRecord
from selenium.webdriver.common.by import By

from filterd.rules.guards import with_end_line
from tests.support.browser_stack import Stack, start_dashboard
from tests.support.chromium import needs_chromium, start_chromium
from tests.support.dns_client import addresses, make_query, udp_exchange
from tests.support.filterd_process import FilterdProcess, free_port, run_cli, wait_for
from tests.support.list_server import ListFiles
from tests.support.lists import blocked, write_lists
from tests.support.phone_page import SCREENSHOTS, check_phone_page

SAM, CARER = "127.0.0.2", "127.0.0.1"
FILLER = [f"bet{i}.example" for i in range(40)]
# The last name sits in the last 30 % of the file: a download cut short loses it.
GAMBLING = ["casino-downloaded.example", "childline.example", "school.example", *FILLER]
GAMBLING.append("late-casino.example")


def rules() -> dict:
    return {
        "timezone": "Europe/London",
        "unknown_devices": "household",
        "children": {"sam": {"name": "Sam", "age_band": "9_12", "offline": []}},
        "devices": [{"ip": SAM, "name": "Sam's tablet", "owner": "sam"}],
    }


def subscribed_home(
    start_filterd,
    tmp_path: Path,
    list_files: ListFiles,
    refresh_hours: float = 0.0005,  # about two seconds
    **extra,
) -> FilterdProcess:
    """filterd with Sam (9-12: gambling blocked), the household floor only the illegal tier, and
    gambling subscribed to the test's server; lists refreshed every couple of seconds."""
    shipped = write_lists(
        tmp_path / "shipped",
        gambling=["shipped-casino.example"],
        self_harm=["harm-one.example", "harm-two.example"],
        helplines=["childline.example"],
        essential=["school.example"],
    )
    list_files.files["/gambling.txt"] = ("\n".join(GAMBLING) + "\n").encode()
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(with_end_line(yaml.safe_dump(rules())))
    return start_filterd(
        rules=str(rules_path),
        block_categories=["illegal"],
        lists={"gambling": [list_files.url("/gambling.txt")]},
        lists_update={
            "directory": str(tmp_path / "lists"),
            "shipped": str(shipped),
            "refresh_hours": refresh_hours,
        },
        **extra,
    )


def ask_from(filterd: FilterdProcess, source: str, name: str) -> DNSRecord:
    raw = udp_exchange(filterd.port, make_query(name, "A", edns=True).pack(), source=source)
    assert raw is not None, f"no answer for {name} from {source}"
    return DNSRecord.parse(raw)


def status_of(filterd: FilterdProcess) -> dict:
    path = Path(filterd.config["lists_update"]["directory"]) / "status.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def test_downloaded_lists_block_for_the_child_while_helplines_and_essentials_resolve(
    start_filterd, tmp_path: Path, list_files: ListFiles
):
    filterd = subscribed_home(start_filterd, tmp_path, list_files)
    # Before the first download the shipped list serves.
    assert blocked(ask_from(filterd, SAM, "shipped-casino.example"))

    # No command is run: the daemon downloads in the background on its own.
    assert wait_for(lambda: blocked(ask_from(filterd, SAM, "casino-downloaded.example")), 40), (
        "the downloaded gambling list was not in force within 40 s"
    )
    assert list_files.hits.get("/gambling.txt", 0) >= 1
    assert blocked(ask_from(filterd, SAM, "www.late-casino.example"))
    assert blocked(ask_from(filterd, SAM, "shipped-casino.example")), "shipped list still in"
    # The household does not block gambling: the carer's own device is answered.
    assert not blocked(ask_from(filterd, CARER, "casino-downloaded.example"))
    # A helpline and an essential name on the downloaded list resolve for Sam all the same.
    for name in ("childline.example", "www.school.example"):
        reply = ask_from(filterd, SAM, name)
        assert addresses(reply) and not blocked(reply), f"{name} was blocked for Sam"

    status = status_of(filterd)
    assert status["categories"]["gambling"] == len(set(GAMBLING) | {"shipped-casino.example"})
    assert wait_for(
        lambda: filterd.metric("filterd_blocklist_category_domains", category="gambling") == 45, 10
    )
    (source,) = status["sources"]
    assert source["status"] in ("updated", "not_modified") and source["succeeded_at"]

    # The list site now drops the connection part way: the next downloads fail and the
    # lists in force stay whole, the name near the end of the file included.
    list_files.cut_short.add("/gambling.txt")
    assert wait_for(lambda: status_of(filterd).get("failures") == 1, 30), status_of(filterd)
    failed = status_of(filterd)["sources"][0]
    assert failed["reason"].startswith("the download broke off")
    assert "the last good copy stays in force" in failed["reason"]
    assert failed["succeeded_at"] >= source["succeeded_at"], "the last good download's time"
    assert status_of(filterd)["categories"]["gambling"] == status["categories"]["gambling"]
    time.sleep(2.5)  # any index the failed update wrote has been swapped in by now
    for name in ("late-casino.example", "casino-downloaded.example", "shipped-casino.example"):
        assert blocked(ask_from(filterd, SAM, name)), f"{name} unblocked by a cut download"


DAY = 86_400


@needs_chromium
def test_health_shows_each_category_in_words_and_warns_when_thin_or_out_of_date(
    start_filterd, tmp_path: Path, list_files: ListFiles
):
    listen = f"127.0.0.1:{free_port()}"
    filterd = subscribed_home(
        start_filterd,
        tmp_path,
        list_files,
        refresh_hours=0,  # this test moves the state's clock: no update may rewrite it
        dashboard={
            "listen": listen,
            "database": str(tmp_path / "dashboard.db"),
            "allowed_hosts": ["127.0.0.1", "localhost"],
        },
    )
    update = run_cli("lists", "update", "--config", str(filterd.config_path))
    assert update.returncode == 0, update.stderr
    # Four days pass without a good download: the state says the last one was then.
    status_path = Path(filterd.config["lists_update"]["directory"]) / "status.json"
    status = json.loads(status_path.read_text())
    for source in status["sources"]:
        source["succeeded_at"] -= 4 * DAY
    status_path.write_text(json.dumps(status))

    dashboard = start_dashboard(filterd, listen, tmp_path)
    browser = start_chromium(phone=True)
    try:
        stack = Stack(filterd, dashboard, browser)
        stack.add_user("carer", "carer")
        stack.log_in("carer")
        stack.open("/health")
        section = browser.find_element(By.ID, "lists")
        rows = {
            row.find_element(By.TAG_NAME, "th").text: row.text
            for row in section.find_elements(By.CSS_SELECTOR, "tbody tr")
        }
        # 45 distinct gambling sites: 44 downloaded (2 of them protected names, still listed)
        # and 1 shipped; the download four days old.
        assert rows["gambling"] == "gambling 45 updated 4 days ago out of date"
        assert rows["self-harm"] == "self-harm 2 nearly empty shipped with filterd"
        assert rows["adult"] == "adult 0 nearly empty shipped with filterd"
        warnings = [w.text for w in section.find_elements(By.CSS_SELECTOR, ".list-warning")]
        # Grouped by what a carer can do: no public list exists for self-harm; adult has
        # public lists this box does not download.
        assert any(
            w.startswith("Nearly empty for Sam: ")
            and "self-harm (2 sites)" in w
            and "No public list covers them." in w
            for w in warnings
        ), warnings
        assert any(
            "adult (0 sites)" in w and "The box downloads no list for them" in w for w in warnings
        ), warnings
        assert any(
            w.startswith("Out of date: the lists for gambling were last downloaded more than 3")
            for w in warnings
        ), warnings
        text = section.text
        assert str(int(status["updated"])) not in text and "{" not in text  # words, not JSON
        check_phone_page(stack.browser, "health-lists")
        browser.execute_script("arguments[0].scrollIntoView()", section)
        check_phone_page(stack.browser, "health-lists-section")
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 390, "height": height, "deviceScaleFactor": 1, "mobile": True},
        )
        browser.save_screenshot(str(SCREENSHOTS / "health-lists-whole-phone-390.png"))
    finally:
        browser.quit()
        dashboard.stop()
