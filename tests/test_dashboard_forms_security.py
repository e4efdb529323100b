"""Issue 12, findings 4, 5, 9, 10, 15, 17, 18 and 19, against the real dashboard process over
real HTTP on loopback (and real filterd where what filterd does matters).

One dashboard serves the whole module on real files (rules file, filterd.db, dashboard.db);
each test starts from the same rules file. Each "device" is a client on its own 127.x address,
so throttling and the audit trail's source addresses are per device, as on a home's Wi-Fi.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dashboard.data import audit
from dashboard.data.db import connect
from filterd.db.devices import DeviceStore, Sighting
from filterd.rules.guards import with_end_line
from tests.support.dashboard_home import (
    PASSWORD,
    SECRET_KEY,
    SECRET_PASSWORD,
    Home,
    add_user,
    baseline_rules,
    config_for,
    write_blocked,
)
from tests.support.dashboard_process import DashboardProcess
from tests.support.filterd_process import FilterdProcess, free_port, wait_for
from tests.support.upstream_process import PROJECT_ROOT
from tests.support.web_client import Device, Reply

BIDI = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "gpj.exe" shows as "exe.jpg"
PHONE_MAC = "aa:bb:cc:00:00:01"
NOW = time.time()


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Iterator[Home]:
    home = Home(tmp_path_factory.mktemp("home"))
    for name, role in (
        ("admin", "administrator"),
        ("cam", "carer"),
        ("lee", "safeguarding_lead"),
        ("val", "viewer"),
    ):
        home.add_user(name, role)
    home.process.start()
    yield home
    home.process.stop()


@pytest.fixture
def fresh(home: Home) -> Home:
    home.reset_rules()
    return home


def api(device: Device, method: str, path: str, payload=None, text: str | None = None) -> Reply:
    """A JSON API call with the session's CSRF token (GET /api/session gives it)."""
    session = json.loads(device.get("/api/session").text)
    if text is None and payload is not None:
        text = json.dumps(payload)
    return device.request(method, path, json_text=text, headers={"X-CSRF-Token": session["csrf"]})


def current_rules(device: Device) -> tuple[str, dict]:
    body = json.loads(device.get("/api/rules").text)
    return body["version"], body["rules"]


def put_rules(device: Device, change) -> Reply:
    version, rules = current_rules(device)
    change(rules)
    return api(device, "PUT", "/api/rules", {"version": version, "rules": rules})


# --- 4: per-field permissions, from one table, for pages and the API alike -------------------


def test_a_carer_cannot_change_home_wide_settings_through_the_api(fresh: Home):
    carer = fresh.signed_in("cam")
    before = fresh.rules_path.read_bytes()

    moved = put_rules(carer, lambda r: r.update(timezone="Pacific/Auckland"))
    opened = put_rules(carer, lambda r: r.update(unknown_devices="household"))

    assert moved.status == 403 and opened.status == 403
    assert "time zone" in json.loads(moved.text)["error"]
    assert "devices nobody has listed" in json.loads(opened.text)["error"]
    assert fresh.rules_path.read_bytes() == before, "nothing written"
    refused = [r for r in fresh.audit_rows("refused") if r["target"] == "PUT /api/rules"]
    assert {"timezone" in r["detail"] for r in refused[-2:]} == {True, False}
    assert all(r["user"] == "cam" and r["source"] == carer.source for r in refused[-2:])

    # what a carer's job is still works, and the audit says what changed
    limit = put_rules(carer, lambda r: r["children"]["sam"].update(limits={"overall": "2h"}))
    assert limit.status == 200, limit.text
    saved = fresh.audit_rows("rules.save")[-1]
    assert saved["user"] == "cam" and "Sam: daily limit: none -> 2h" in saved["detail"]

    # the same table stops the page: the home set-up (time zone) is not a carer's
    page = carer.post("/setup/home", {"csrf": carer.csrf(), "timezone": "UTC"})
    assert page.status == 403


def test_an_administrator_changes_the_time_zone_and_the_audit_names_it(fresh: Home):
    admin = fresh.signed_in("admin")
    reply = put_rules(admin, lambda r: r.update(timezone="Europe/Dublin"))
    assert reply.status == 200, reply.text
    assert yaml.safe_load(fresh.rules_path.read_text())["timezone"] == "Europe/Dublin"
    detail = fresh.audit_rows("rules.save")[-1]["detail"]
    assert detail == "time zone: Europe/London -> Europe/Dublin"


# --- 5: the dashboard refuses what filterd would refuse; the home page says when -------------


def nested(depth: int, leaves: int) -> object:
    value: object = [1] * leaves
    for _ in range(depth):
        value = [value]
    return value


def test_the_api_refuses_the_nested_field_that_grew_into_a_file_filterd_refused(fresh: Home):
    carer = fresh.signed_in("cam")
    before = fresh.rules_path.read_bytes()

    def grow(rules: dict) -> None:  # the review's 43 KB body: an unchecked, nested note
        rules["children"]["sam"]["overrides"] = [{"kind": "pause", "note": nested(25, 20_000)}]

    version, rules = current_rules(carer)
    grow(rules)
    body = json.dumps({"version": version, "rules": rules})
    assert 40_000 < len(body) < 256 * 1024
    reply = api(carer, "PUT", "/api/rules", text=body)

    assert reply.status == 422, reply.text
    problems = json.loads(reply.text)["problems"]
    assert any(p.startswith("children.sam.overrides[0].note:") for p in problems), problems
    assert fresh.rules_path.read_bytes() == before


def test_a_save_bigger_than_filterd_reads_is_refused_with_filterds_own_words(tmp_path):
    """The size cap is the one filterd's loader applies (parse_rules_bytes), so the dashboard
    and `filterd check-config` give the same refusal for the same bytes."""
    from dashboard.data.accounts import Role, User
    from dashboard.data.rules_file import RulesFile, encoded

    path = tmp_path / "rules.yaml"
    path.write_text(with_end_line(yaml.safe_dump(baseline_rules())))
    rules_file = RulesFile(path)
    snapshot = rules_file.read()
    raw = baseline_rules()
    raw["children"]["sam"]["allow"] = [f"{'a' * 60}{i}.example" for i in range(60_000)]
    with pytest.raises(Exception) as refused:
        rules_file.save(raw, snapshot.version, User(1, "admin", Role.ADMINISTRATOR))
    assert refused.value.problems == ["(file): larger than 4096 KiB"]
    assert path.read_bytes() == with_end_line(yaml.safe_dump(baseline_rules())).encode()

    big = tmp_path / "big.yaml"
    big.write_bytes(encoded(raw))
    config = tmp_path / "filterd.yaml"
    config.write_text(yaml.safe_dump({"listen": ["127.0.0.1:1053"], "upstreams": ["127.0.0.1:1"]}))
    checked = subprocess.run(
        [sys.executable, "-m", "filterd", "check-config", str(config), "--rules", str(big)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert checked.returncode == 1
    assert f"{big}: (file): larger than 4096 KiB" in checked.stdout


def banner(device: Device) -> str | None:
    page = device.get("/")
    assert page.status == 200, page.text
    match = re.search(
        r'<div class="flash error" role="alert" id="not-applied">(.*?)</div>', page.text, re.S
    )
    return re.sub(r"<[^>]+>|\s+", " ", match[1]).strip() if match else None


def test_the_home_page_says_when_filterd_is_not_applying_the_saved_rules(tmp_path: Path):
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(with_end_line(yaml.safe_dump(baseline_rules())))
    listen = f"127.0.0.1:{free_port()}"
    filterd = FilterdProcess(
        tmp_path,
        ["127.0.0.1:1"],
        rules=str(rules_path),
        dashboard={
            "listen": listen,
            "database": str(tmp_path / "dashboard.db"),
            "allowed_hosts": ["127.0.0.1"],
        },
    )
    filterd.start()
    dashboard = DashboardProcess(filterd.config_path, listen, tmp_path)
    try:
        add_user(filterd.config_path, "cam", "carer")
        dashboard.start()
        carer = Device(dashboard.url, source="127.0.0.9")
        assert carer.log_in("cam", PASSWORD).status == 302
        assert wait_for(lambda: banner(carer) is None, 5), "filterd applies the file"

        # A hand edit filterd refuses (a name that reverses the direction of text)
        broken = baseline_rules()
        broken["children"]["sam"]["name"] = f"Sam{BIDI}"
        rules_path.write_text(with_end_line(yaml.safe_dump(broken)))
        assert wait_for(lambda: banner(carer) is not None, 5)
        said = banner(carer)
        assert "not in force" in said and "refused" in said, said
        assert "children.sam" not in said, "plain words, not key paths"

        rules_path.write_text(with_end_line(yaml.safe_dump(baseline_rules())))
        assert wait_for(lambda: banner(carer) is None, 5), "applied again: no banner"

        # A file cut short (no end_of_rules line): refused, and the carers are told the same
        rules_path.write_text(yaml.safe_dump(baseline_rules()))
        assert wait_for(lambda: banner(carer) is not None, 5), "no banner for a cut-short file"
        said = banner(carer)
        assert "not in force" in said and "refused" in said, said

        rules_path.write_text(with_end_line(yaml.safe_dump(baseline_rules())))
        assert wait_for(lambda: banner(carer) is None, 5), "applied again: no banner"

        # filterd stops; a pause "succeeds" in the file but nothing applies it
        filterd.stop()
        version = json.loads(carer.get("/api/rules").text)["version"]
        paused = api(
            carer, "POST", "/api/children/sam/actions", {"action": "pause", "version": version}
        )
        assert paused.status == 200, paused.text
        assert banner(carer) is None, "just saved: filterd gets a moment to pick it up"
        assert wait_for(lambda: banner(carer) is not None, 8)
        assert "has not picked up the rules" in banner(carer)
    finally:
        dashboard.stop()
        filterd.stop()


# --- 9: the audit trail records what a DSL needs, and shows all of it --------------------------


def test_failed_logins_lockouts_logouts_and_refusals_are_audited_with_the_address(fresh: Home):
    guesser = fresh.device()
    first = guesser.log_in("cam", "not the password at all")
    assert first.status in (200, 400)
    failed = fresh.audit_rows("login.failed")[-1]
    assert (failed["user"], failed["source"]) == ("cam", guesser.source)

    for _ in range(40):  # guess on until the dashboard slows this device down
        if guesser.log_in("cam", "still not the password").status == 429:
            break
    else:
        pytest.fail("never throttled")
    locked = fresh.audit_rows("login.locked")[-1]
    assert (locked["user"], locked["source"]) == ("cam", guesser.source)
    for _ in range(10):  # a flood of slowed-down tries is one row a minute, not ten
        assert guesser.log_in("cam", "still not the password").status == 429
    mine = [r for r in fresh.audit_rows("login.locked") if r["source"] == guesser.source]
    assert len(mine) == 1

    viewer = fresh.signed_in("val")
    forged = viewer.post("/children/sam/quick", {"csrf": viewer.csrf(), "action": "pause"})
    assert forged.status == 403
    refused = fresh.audit_rows("refused")[-1]
    assert refused["user"] == "val" and refused["target"] == "POST /children/sam/quick"
    assert refused["source"] == viewer.source
    for _ in range(10):
        viewer.post("/children/sam/quick", {"csrf": viewer.csrf(), "action": "pause"})
    again = [r for r in fresh.audit_rows("refused") if r["source"] == viewer.source]
    assert len(again) == 1, "the same refusal, repeated, is recorded once a minute"

    assert viewer.post("/logout", {"csrf": viewer.csrf()}).status == 302
    out = fresh.audit_rows("logout")[-1]
    assert (out["user"], out["source"]) == ("val", viewer.source)


def test_every_review_and_its_note_is_kept_from_the_page_and_the_api(fresh: Home):
    (query_id,) = write_blocked(fresh, ["harm-review.example"])
    lead = fresh.signed_in("lee")

    by_api = api(
        lead,
        "POST",
        "/api/blocked/review",
        {"ids": [query_id], "outcome": "discussed_with_child", "note": "First talk"},
    )
    assert by_api.status == 200, by_api.text
    by_page = lead.post(
        "/blocked/review",
        {
            "csrf": lead.csrf("/blocked/"),
            "id": str(query_id),
            "outcome": "raised_with_dsl",
            "note": "Raised with the DSL after a second search",
        },
    )
    assert by_page.status == 302

    listed = json.loads(lead.get("/api/blocked?range=24h").text)["entries"]
    (entry,) = [e for e in listed if e["id"] == query_id]
    assert [r["note"] for r in entry["reviews"]] == [
        "First talk",
        "Raised with the DSL after a second search",
    ], "the earlier note is kept, not replaced"
    assert entry["review"]["outcome"] == "raised_with_dsl", "the latest is in force"
    page = lead.get("/blocked/?range=24h").text
    assert "Earlier reviews (1)" in page and "First talk" in page, "the page shows it too"
    notes = [r["detail"] for r in fresh.audit_rows("review")[-2:]]
    assert notes == [
        "discussed_with_child: First talk",
        "raised_with_dsl: Raised with the DSL after a second search",
    ], "the API's review keeps its note in the audit too"

    too_long = api(
        lead,
        "POST",
        "/api/blocked/review",
        {"ids": [query_id], "outcome": "no_concern", "note": "x" * 2001},
    )
    control = api(
        lead,
        "POST",
        "/api/blocked/review",
        {"ids": [query_id], "outcome": "no_concern", "note": "ok\x1b[2J"},
    )
    assert too_long.status == 400 and "at most 2000" in json.loads(too_long.text)["error"]
    assert control.status == 400 and "control character" in json.loads(control.text)["error"]


def test_the_audit_trail_pages_through_every_row(fresh: Home):
    admin = fresh.signed_in("admin")
    assert put_rules(admin, lambda r: r.update(timezone="Europe/Paris")).status == 200
    db = connect(fresh.database)  # 520 sign-ins after it, as in the review
    for _ in range(520):
        audit.record(db, "cam", "login")
    db.close()

    page, found = 1, None
    while found is None:
        reply = admin.get(f"/audit/?page={page}")
        assert reply.status == 200
        if "time zone: Europe/London -&gt; Europe/Paris" in reply.text:
            found = page
        elif "Older entries" in reply.text:
            page += 1
        else:
            break
    assert found is not None and found >= 6, "the rules change is reachable, pages back"
    last = json.loads(admin.get(f"/api/audit?page={found}").text)
    assert any(
        e["action"] == "rules.save" and e["detail"] == "time zone: Europe/London -> Europe/Paris"
        for e in last["entries"]
    )


# --- 10: names are printable text of bounded length; no page ever fails on one ---------------

PAGES = (
    "/",
    "/children/",
    "/children/sam",
    "/children/sam/limits",
    "/children/sam/blocked",
    "/children/sam/advanced",
    "/children/sam/apps",
    "/people/",
    "/account",
    "/setup/home",
    "/devices/",
    "/blocked/",
    "/health",
    "/audit/",
    "/api/rules",
    "/api/children",
    "/api/devices",
)


def test_a_broken_name_is_refused_with_its_key_path_and_no_page_fails(fresh: Home):
    carer = fresh.signed_in("cam")
    surrogate = put_rules(
        carer, lambda r: r["children"]["sam"].update(name="Sam\ud800")
    )  # JSON "\ud800": a lone surrogate
    override = put_rules(carer, lambda r: r["devices"][0].update(name=f"{BIDI}gpj.exe"))
    assert surrogate.status == 422 and override.status == 422
    assert any(
        p.startswith("children.sam.name:") and "surrogate" in p
        for p in json.loads(surrogate.text)["problems"]
    )
    assert any(
        p.startswith("devices[0].name:") and "direction of text" in p
        for p in json.loads(override.text)["problems"]
    )

    # written by hand (YAML escapes), the file is refused and every page still answers
    fresh.rules_path.write_text(
        fresh.rules_path.read_text().replace("name: Sam\n", 'name: "Sam\\ud800\\u202e\\x07"\n')
    )
    for name in ("admin", "cam", "lee", "val"):
        device = fresh.signed_in(name)
        for path in PAGES:
            reply = device.get(path)
            assert reply.status in (200, 403), (name, path, reply.status)
            assert "\u202e" not in reply.text and "\x07" not in reply.text, (name, path)
    checked = subprocess.run(
        [sys.executable, "-m", "filterd", "check-config", str(fresh.config_path)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert checked.returncode == 1
    assert "children.sam.name: a name is printable text: contains a lone surrogate" in (
        checked.stdout
    )


def test_check_config_prints_a_hostile_key_escaped(tmp_path: Path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        'children:\n  sam: {age_band: "9_12", "\\u202ebad\\x1b[2J": 1}\nend_of_rules: true\n'
    )
    config = tmp_path / "filterd.yaml"
    config.write_text(yaml.safe_dump({"listen": ["127.0.0.1:1053"], "upstreams": ["127.0.0.1:1"]}))
    done = subprocess.run(
        [sys.executable, "-m", "filterd", "check-config", str(config), "--rules", str(rules)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert done.returncode == 1
    assert "\\u202ebad\\u001b[2J: unknown key" in done.stdout
    assert "\u202e" not in done.stdout and "\x1b" not in done.stdout


# --- 15: credentials in list sources are never shown or logged -------------------------------


def test_list_source_credentials_are_hidden_everywhere_they_are_shown(fresh: Home):
    update = fresh.command("lists", "update", "--offline")
    assert update.returncode == 0, update.stderr
    status = (fresh.tmp / "lists" / "status.json").read_text()
    viewer = fresh.signed_in("val")
    health = viewer.get("/health")
    assert health.status == 200
    for shown in (update.stdout, update.stderr, status, health.text):
        assert SECRET_PASSWORD not in shown and SECRET_KEY not in shown
    assert "https://***@lists.example/adult.txt?api_key=***" in health.text

    bad = dict(fresh.config, lists={"adult": [f"ftp://bob:{SECRET_PASSWORD}@x.example/l"]})
    bad_path = fresh.tmp / "bad.yaml"
    bad_path.write_text(yaml.safe_dump(bad))
    checked = subprocess.run(
        [sys.executable, "-m", "filterd", "check-config", str(bad_path)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert checked.returncode == 1 and "lists.adult[0]" in checked.stdout
    assert SECRET_PASSWORD not in checked.stdout + checked.stderr


# --- 17: every bad input gets a clear 4xx, JSON for the API ----------------------------------

HUGE = "9" * 25
BAD_INPUTS = [
    ("GET", f"/blocked/?page={HUGE}", None, None),
    ("GET", f"/api/blocked?page={HUGE}", None, None),
    ("GET", "/blocked/?range=dates&to=9999-12-31", None, None),
    ("GET", "/api/blocked?range=dates&from=9999-12-31", None, None),
    ("GET", "/blocked/export.csv?range=dates&to=9999-12-31", None, None),
    ("GET", f"/audit/?page={HUGE}", None, None),
    ("GET", "/api/audit?page=-1", None, None),
    ("PUT", "/api/rules", "[" * 100_000, None),
    ("PUT", "/api/rules", json.dumps({"version": "x", "rules": nested(40, 1)}), None),
    ("PUT", "/api/rules", "{not json", None),
    ("POST", "/api/blocked/review", json.dumps({"ids": [2**70], "outcome": "no_concern"}), None),
    ("POST", "/api/blocked/review", json.dumps({"ids": [1], "note": {"a": 1}}), None),
    ("POST", "/blocked/review", None, {"id": HUGE, "outcome": "no_concern"}),
    ("GET", "/api/no-such-thing", None, None),
    ("DELETE", "/api/rules", None, None),
]


@pytest.mark.parametrize(("method", "path", "body", "form"), BAD_INPUTS)
def test_every_bad_input_gets_a_clear_4xx(home: Home, method, path, body, form):
    admin = home.signed_in("admin")
    if form is not None:
        reply = admin.post(path, {**form, "csrf": admin.csrf()})
    elif path.startswith("/api/") and method != "GET":
        reply = api(admin, method, path, text=body)
    else:
        reply = admin.request(method, path)
    assert 400 <= reply.status < 500, (reply.status, reply.text[:300])
    if path.startswith("/api/"):
        assert reply.headers.get_content_type() == "application/json"
        assert json.loads(reply.text)["error"]
    else:
        assert "<h1>" in reply.text and "Traceback" not in reply.text


# --- 18: a save never follows links planted at its temporary or lock paths ------------------


def test_a_save_never_follows_links_planted_where_it_writes(fresh: Home):
    victim = fresh.tmp / "victim.txt"
    victim.write_text("precious\n")
    pid = fresh.process.proc.pid
    planted = [
        fresh.tmp / ".rules.yaml.lock",
        fresh.tmp / f".rules.yaml.{pid}.tmp",
        fresh.tmp / ".rules.yaml.tmp",
    ]
    for link in planted:
        link.unlink(missing_ok=True)
        link.symlink_to(victim)
    try:
        carer = fresh.signed_in("cam")
        version = json.loads(carer.get("/api/rules").text)["version"]
        paused = api(
            carer, "POST", "/api/children/sam/actions", {"action": "pause", "version": version}
        )
        assert paused.status == 200, paused.text
        assert victim.read_text() == "precious\n", "nothing written through a link"
        assert all(link.is_symlink() for link in planted)
        assert not fresh.rules_path.is_symlink()
        assert "kind: pause" in fresh.rules_path.read_text()
        leftovers = [p.name for p in fresh.tmp.iterdir() if p.name.startswith(".rules.yaml.")]
        assert sorted(leftovers) == sorted(link.name for link in planted), "no temporary left"
    finally:
        for link in planted:
            link.unlink(missing_ok=True)


# --- 19: the small ones ------------------------------------------------------------------------


def test_a_csv_cell_starting_with_a_nul_is_neutralised_and_head_exports_nothing(fresh: Home):
    write_blocked(fresh, ['\x00=HYPERLINK("http://evil.example")', " =1+1.example"], "adult")
    lead = fresh.signed_in("lee")
    exports = len(fresh.audit_rows("export"))

    head = lead.request("HEAD", "/blocked/export.csv?range=24h")
    assert head.status == 200 and head.text == ""
    assert len(fresh.audit_rows("export")) == exports, "HEAD neither runs nor audits the export"

    reply = lead.get("/blocked/export.csv?range=24h")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    names = {row["site"] for row in rows}
    assert '\'\x00=HYPERLINK("http://evil.example")' in names
    assert "' =1+1.example" in names
    assert not any(name[:1] in "\x00 =" for name in names if name)
    mine = [row for row in rows if row["site"].startswith("'")]
    assert mine and all(row["note"] == "" for row in mine), "an empty cell stays empty"
    assert len(fresh.audit_rows("export")) == exports + 1


def test_the_flash_cookie_is_same_site_strict(fresh: Home):
    carer = fresh.signed_in("cam")
    version = re.search(r'name="version" value="([^"]+)"', carer.get("/").text)[1]
    reply = carer.post(
        "/children/sam/quick", {"csrf": carer.csrf(), "version": version, "action": "pause"}
    )
    assert reply.status == 302
    flask_cookie = ("session=", "__Host-filterd_flash=")  # Flask's own cookie, by its name
    cookies = [c for c in reply.headers.get_all("Set-Cookie") or [] if c.startswith(flask_cookie)]
    assert cookies, "the pause's message rides in Flask's cookie"
    assert all("SameSite=Strict" in c and "HttpOnly" in c and "Secure" in c for c in cookies), (
        cookies
    )


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),  # the dashboard's own origin (the client says it)
        ("{scheme}://127.0.0.1:1", False),  # another service on the box: another port
        ("{other}://127.0.0.1:{port}", False),  # another scheme
        ("{scheme}://localhost:{port}", False),  # another allowed host name: another origin
    ],
)
def test_the_login_origin_check_compares_scheme_host_and_port(home: Home, origin, allowed):
    device = home.device()
    scheme, port = device.url.scheme, device.url.port
    other = "http" if scheme == "https" else "https"
    headers = {}
    if origin is not None:
        headers["Origin"] = origin.format(scheme=scheme, other=other, port=port)
    reply = device.post("/login", {"name": "cam", "password": PASSWORD}, headers=headers)
    assert (reply.status == 302) is allowed, reply.status
    if not allowed:
        assert reply.status == 403


def test_without_a_rules_key_the_dashboard_refuses_to_edit(tmp_path: Path):
    listen = f"127.0.0.1:{free_port()}"
    config = config_for(tmp_path, listen)
    del config["rules"]
    config_path = tmp_path / "filterd.yaml"
    config_path.write_text(yaml.safe_dump(config))
    add_user(config_path, "admin", "administrator")
    with DashboardProcess(config_path, listen, tmp_path) as dashboard:
        admin = Device(dashboard.url, source="127.0.0.8")
        assert admin.log_in("admin", PASSWORD).status == 302
        rules = json.loads(admin.get("/api/rules").text)
        assert any("names no rules file" in p for p in rules["problems"])
        saved = api(
            admin, "PUT", "/api/rules", {"version": rules["version"], "rules": baseline_rules()}
        )
        assert saved.status == 422
        added = admin.post(
            "/children/",
            {
                "csrf": admin.csrf("/children/"),
                "id": "kim",
                "name": "Kim",
                "age_band": "9_12",
                "version": rules["version"],
            },
        )
        assert added.status == 400 and "names no rules file" in added.text
    assert not any(
        p.name.endswith((".yaml", ".tmp")) and p.name != "filterd.yaml" for p in tmp_path.rglob("*")
    ), "no rules file made that filterd never reads"


def test_a_dhcp_name_with_direction_characters_is_never_shown_or_copied(fresh: Home):
    from filterd.discovery.decode import decode
    from filterd.discovery.observation import Malformed
    from tests.support.discovery_frames import dhcp_request

    hostile = f"{BIDI}gpj.exe".encode()
    with pytest.raises(Malformed):
        decode(bytes(dhcp_request(hostname=hostile)))

    store = DeviceStore(fresh.tmp / "filterd.db")  # as an older filterd may have stored it
    store.record(
        [
            Sighting(
                PHONE_MAC, "192.168.1.77", f"{BIDI}gpj.exe", None, None, None, False, time.time()
            )
        ]
    )
    store.close()
    carer = fresh.signed_in("cam")
    page = carer.get("/devices/")
    assert page.status == 200 and PHONE_MAC in page.text
    assert BIDI not in page.text and "gpj.exe" not in page.text
    listed = json.loads(carer.get("/api/devices").text)["devices"]
    assert [d["hostname"] for d in listed if d["mac"] == PHONE_MAC] == [None]
    printed = fresh.command("devices", "list")
    assert printed.returncode == 0 and PHONE_MAC in printed.stdout
    assert BIDI not in printed.stdout and "\\u202egpj.exe" in printed.stdout

    version = json.loads(carer.get("/api/rules").text)["version"]
    assigned = api(
        carer, "POST", f"/api/devices/{PHONE_MAC}/owner", {"owner": "sam", "version": version}
    )
    assert assigned.status == 200, assigned.text
    entry = [
        d
        for d in yaml.safe_load(fresh.rules_path.read_text())["devices"]
        if d.get("mac") == PHONE_MAC
    ]
    assert entry and BIDI not in str(entry[0].get("name", "")), entry


def test_dashboard_files_stay_private(fresh: Home):
    """A save keeps the rules file's own permissions (the temporary is made 0600 first)."""
    os.chmod(fresh.rules_path, 0o640)
    carer = fresh.signed_in("cam")
    version = json.loads(carer.get("/api/rules").text)["version"]
    done = api(carer, "POST", "/api/children/alex/actions", {"action": "pause", "version": version})
    assert done.status == 200
    assert fresh.rules_path.stat().st_mode & 0o777 == 0o640


def test_a_removed_illegal_source_is_logged_and_sent_on_without_credentials(
    start_filterd, tmp_path: Path
):
    import signal

    from tests.support.events import NO_DISCOVERY, events, kinds, lists

    source = f"https://alice:{SECRET_PASSWORD}@127.0.0.1:1/illegal.txt?api_key={SECRET_KEY}"
    filterd = start_filterd(
        lists_update=lists(tmp_path), lists={"illegal": [source]}, discovery=NO_DISCOVERY
    )
    config = dict(filterd.config)
    config.pop("lists")
    filterd.write_config(config)
    filterd.signal(signal.SIGHUP)
    assert wait_for(lambda: "lists.illegal_source_removed" in kinds(filterd.db_path), timeout=5)
    row = next(r for r in events(filterd.db_path) if r[2] == "lists.illegal_source_removed")
    assert json.loads(row[7]) == {"sources": ["https://***@127.0.0.1:1/illegal.txt?api_key=***"]}
    for written in (filterd.log(), *(p.read_text() for p in tmp_path.rglob("*.json"))):
        assert SECRET_PASSWORD not in written and SECRET_KEY not in written


def test_filterd_never_follows_a_link_planted_where_it_keeps_the_last_good_rules(
    start_filterd, tmp_path: Path
):
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(with_end_line(yaml.safe_dump(baseline_rules())))
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    filterd = start_filterd(rules=str(rules_path), discovery={"neighbour_table": False})
    planted = filterd.db_path.parent / "rules.last-good.tmp"  # where it once wrote, by name
    planted.symlink_to(victim)
    changed = baseline_rules()
    changed["children"]["sam"]["name"] = "Samuel"
    rules_path.write_text(with_end_line(yaml.safe_dump(changed)))
    good = filterd.db_path.parent / "rules.last-good.yaml"
    assert wait_for(lambda: good.exists() and "Samuel" in good.read_text(), 5)
    assert victim.read_text() == "precious\n" and planted.is_symlink()


def test_a_webhook_token_in_its_address_stays_out_of_the_log(tmp_path: Path, start_filterd):
    """A webhook address often carries its token in the path; when a delivery fails the
    dashboard's log and the outbox's reason say why without it (the outbox keeps the address
    itself, in dashboard.db, to deliver to it)."""
    from tests.support.alerts_home import AlertsHome
    from tests.support.events import ask

    token = "abcdEFGH1234ijklMNOP5678"
    home = AlertsHome(tmp_path, start_filterd, "2026-11-23 15:00")
    try:
        home.dashboard.stop()
        home.hook.stop()  # nobody answers at the webhook's address now
        config = yaml.safe_load(home.filterd.config_path.read_text())
        hook = config["dashboard"]["alerts"]["webhooks"][0]
        hook["url"] = f"http://127.0.0.1:{free_port()}/services/T0123/B0123/{token}"
        home.filterd.config_path.write_text(yaml.safe_dump(config))
        home.dashboard = home.start_dashboard()
        assert ask(home.filterd.port, "harm0.example") is not None
        assert wait_for(lambda: "not sent, will retry" in home.dashboard.log(), timeout=10)
        with sqlite3.connect(home.dashboard_db) as db:
            reasons = " ".join(r for (r,) in db.execute("SELECT last_error FROM alerts"))
        assert token not in home.dashboard.log() and token not in reasons
        assert "/services/T0123/B0123/***" in home.dashboard.log()
    finally:
        home.stop()
