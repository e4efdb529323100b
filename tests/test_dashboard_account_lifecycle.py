"""Accounts have a life cycle, against the real dashboard process over HTTPS on loopback:
password change, sessions listed and ended, an absolute session lifetime, administrators
managing others (never removing the last administrator), and optional two-factor login."""

from __future__ import annotations

import re
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pyotp

from tests.support.dashboard_home import PASSWORD, Box
from tests.support.pages import field_error
from tests.support.web_client import Device

NEW_PASSWORD = "blue kettle on the windowsill"


def signed_in(box: Box, name: str, source: str, password: str = PASSWORD) -> Device:
    device = box.device(source)
    reply = device.log_in(name, password)
    assert reply.status == 302, reply.text
    return device


def opens(device: Device, path: str = "/") -> bool:
    """The page opens for this device's session (not sent to log in)."""
    reply = device.get(path)
    return reply.status == 200 and "/login" not in (reply.headers.get("Location") or "")


def post(device: Device, path: str, form: dict[str, str], page: str = "/account"):
    return device.post(path, {"csrf": device.csrf(page), **form})


def session_ids(page: str) -> list[str]:
    return re.findall(r'name="session" value="([0-9a-f]{16})"', page)


def sessions_by_address(page: str) -> dict[str, str]:
    """Each listed session's End button, by the address it was started from."""
    items = page.split("<li>")
    found = {}
    for item in items:
        address = re.search(r"From ([0-9.]+);", item)
        ids = session_ids(item)
        if address and ids:
            found[address[1]] = ids[0]
    return found


def test_everyone_changes_their_own_password_and_other_sessions_end(box: Box):
    box.add_user("admin", "administrator")
    box.add_user("carer", "carer")
    phone, laptop = signed_in(box, "carer", "127.0.0.2"), signed_in(box, "carer", "127.0.0.3")

    wrong = post(phone, "/account/password", {"current": "guess", "new": NEW_PASSWORD,
                                              "confirm": NEW_PASSWORD})  # fmt: skip
    assert wrong.status == 400
    assert "not your current password" in field_error(wrong.text, "current")
    weak = post(phone, "/account/password", {"current": PASSWORD, "new": "password12",
                                             "confirm": "password12"})  # fmt: skip
    assert "most common" in field_error(weak.text, "new")

    changed = post(phone, "/account/password", {"current": PASSWORD, "new": NEW_PASSWORD,
                                                "confirm": NEW_PASSWORD})  # fmt: skip
    assert changed.status == 302
    assert opens(phone) and not opens(laptop), "the other session ended, this one stays"
    assert box.device("127.0.0.4").log_in("carer", PASSWORD).status == 200, "old one refused"
    assert box.device("127.0.0.4").log_in("carer", NEW_PASSWORD).status == 302


def test_sessions_are_listed_and_ended_by_their_owner_or_an_administrator(box: Box):
    box.add_user("admin", "administrator")
    box.add_user("carer", "carer")
    phone = signed_in(box, "carer", "127.0.0.2")
    laptop = signed_in(box, "carer", "127.0.0.3")
    tablet = signed_in(box, "carer", "127.0.0.4")

    page = phone.get("/account").text
    assert "This device" in page and "127.0.0.3" in page and "127.0.0.4" in page
    others = session_ids(page)
    assert len(others) == 2, "both other sessions listed with an End button"
    ended = post(phone, "/account/sessions/end", {"session": others[0]})
    assert ended.status == 302
    assert sum(opens(d) for d in (laptop, tablet)) == 1

    # An administrator ends anyone's session; a carer cannot reach the People page.
    assert phone.get("/people/").status == 403
    admin = signed_in(box, "admin", "127.0.0.9")
    survivor = laptop if opens(laptop) else tablet
    listed = sessions_by_address(admin.get("/people/").text)
    assert {"127.0.0.2", survivor.source} <= set(listed), listed
    post(admin, "/people/sessions/end", {"session": listed[survivor.source]}, page="/people/")
    assert not opens(survivor) and opens(phone)

    ended_all = post(phone, "/account/sessions/end", {"session": "others"})
    assert ended_all.status == 302 and opens(phone)


def test_a_session_ends_a_day_after_login_however_busy(box: Box):
    box.add_user("carer", "carer")
    phone = signed_in(box, "carer", "127.0.0.2")
    assert opens(phone)
    with sqlite3.connect(box.database) as db:  # as if logged in 90 days ago, used just now
        db.execute("UPDATE sessions SET created = ?, last_seen = ?", (time.time() - 90 * 86400,
                                                                      time.time()))  # fmt: skip
    assert not opens(phone), "a 90-day-old session is refused"
    with sqlite3.connect(box.database) as db:
        assert db.execute("SELECT count(*) FROM sessions").fetchone() == (0,)


def test_administrators_manage_others_but_never_remove_the_last_administrator(box: Box):
    box.add_user("admin", "administrator")
    box.add_user("carer", "carer")
    admin = signed_in(box, "admin", "127.0.0.9")
    carer = signed_in(box, "carer", "127.0.0.2")
    ids = dict(sqlite3.connect(box.database).execute("SELECT name, id FROM users").fetchall())

    def change(user: str, **form: str):
        reply = post(admin, f"/people/{ids[user]}", form, page="/people/")
        assert reply.status == 302, reply.text
        return admin.get("/people/").text

    # The only administrator cannot be demoted, disabled or deleted, not even by themselves.
    for form in ({"action": "role", "role": "carer"}, {"action": "disable"},
                 {"action": "delete", "confirm_name": "admin"}):  # fmt: skip
        assert "only administrator left" in change("admin", **form)
    assert opens(admin, "/people/")

    assert "carer is now: Viewer" in change("carer", action="role", role="viewer")
    assert post(carer, "/children/sam/quick", {"action": "pause"}).status == 403
    page = change("carer", action="disable")
    assert "can no longer log in" in page and not opens(carer)
    assert box.device("127.0.0.5").log_in("carer", PASSWORD).status == 200, "disabled"
    change("carer", action="enable")
    carer = signed_in(box, "carer", "127.0.0.2")

    # A forgotten password: the administrator sets a new one (not a weak one); sessions end.
    weak = change("carer", action="password", password="password12", confirm="password12")
    assert "most common" in weak and opens(carer)
    change("carer", action="password", password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert not opens(carer)
    carer = signed_in(box, "carer", "127.0.0.2", NEW_PASSWORD)

    assert "type its name" in change("carer", action="delete", confirm_name="wrong")
    assert "deleted" in change("carer", action="delete", confirm_name="carer")
    assert not opens(carer) and box.users() == ["admin"]

    # With a second administrator, the first may step down.
    added = post(admin, "/people/add", {"name": "lee", "role": "administrator",
                                        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                 page="/people/")  # fmt: skip
    assert added.status == 302 and box.users() == ["admin", "lee"]
    stepped_down = post(admin, f"/people/{ids['admin']}", {"action": "role", "role": "carer"},
                        page="/people/")  # fmt: skip
    assert stepped_down.status == 302
    assert admin.get("/people/").status == 403, "the role applies at once"


def test_two_factor_login_for_an_administrator(box: Box):
    box.add_user("admin", "administrator")
    admin = signed_in(box, "admin", "127.0.0.9")
    page = admin.get("/account/two-factor").text
    assert "<svg" in page, "a QR code to scan"
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)[1].replace(" ", "")
    totp = pyotp.TOTP(secret)

    wrong = post(admin, "/account/two-factor", {"code": "000000", "password": PASSWORD},
                 page="/account/two-factor")  # fmt: skip
    assert wrong.status == 400 and "does not match" in field_error(wrong.text, "code")
    # A session left open (a shared phone) cannot tie the account to someone else's app.
    stolen = post(admin, "/account/two-factor", {"code": totp.now(), "password": "a guess"},
                  page="/account/two-factor")  # fmt: skip
    assert stolen.status == 400
    assert "not your password" in field_error(stolen.text, "password")
    assert box.device("127.0.0.6").log_in("admin", PASSWORD).headers["Location"] == "/"
    # Opening the page again shows the same secret: the one scanned already still works.
    on = admin.post(
        "/account/two-factor",
        {"csrf": admin.csrf("/account"), "code": totp.now(), "password": PASSWORD},
    )
    assert on.status == 302

    phone = box.device("127.0.0.2")
    first = phone.log_in("admin", PASSWORD)
    assert first.status == 302 and "/login/code" in first.headers["Location"]
    assert not opens(phone), "a password alone opens nothing"
    refused = phone.post("/login/code", {"code": "123456"})
    assert refused.status == 400 and "not right" in field_error(refused.text, "code")
    # The code that enrolled was used; the app's next one (a phone clock a little ahead) works.
    code = totp.at(time.time() + 30)
    done = phone.post("/login/code", {"code": code})
    assert done.status == 302 and opens(phone)

    # The same code does not open a second login (no replay).
    thief = box.device("127.0.0.3")
    thief.log_in("admin", PASSWORD)
    assert thief.post("/login/code", {"code": code}).status == 400

    # Lost phone: another administrator turns it off.
    box.add_user("lee", "administrator")
    lee = signed_in(box, "lee", "127.0.0.4")
    admin_id = (
        sqlite3.connect(box.database)
        .execute("SELECT id FROM users WHERE name = 'admin'")
        .fetchone()[0]
    )
    post(lee, f"/people/{admin_id}", {"action": "two_factor_off"}, page="/people/")
    assert box.device("127.0.0.5").log_in("admin", PASSWORD).headers["Location"] == "/"


def test_two_factor_is_offered_to_administrators_and_safeguarding_leads_only(box: Box):
    box.add_user("admin", "administrator")
    box.add_user("carer", "carer")
    carer = signed_in(box, "carer", "127.0.0.2")
    assert "Two-factor login" not in carer.get("/account").text
    assert carer.get("/account/two-factor").status == 302


def test_guessing_elsewhere_never_stops_a_two_factor_login_on_a_known_device(box: Box):
    box.add_user("admin", "administrator")
    phone = signed_in(box, "admin", "127.0.0.2")
    page = phone.get("/account/two-factor").text
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)[1].replace(" ", "")
    totp = pyotp.TOTP(secret)
    phone.post(
        "/account/two-factor",
        {"csrf": phone.csrf("/account"), "code": totp.now(), "password": PASSWORD},
    )
    phone.post("/logout", {"csrf": phone.csrf("/account")})

    for host in range(1, 8):  # someone guesses from address after address: the cap is reached
        for _ in range(5):
            box.device(f"127.0.5.{host}").log_in("admin", "not the right password")
    assert box.device("127.0.0.3").log_in("admin", PASSWORD).status == 429

    assert "/login/code" in phone.log_in("admin", PASSWORD).headers["Location"]
    done = phone.post("/login/code", {"code": totp.at(time.time() + 30)})
    assert done.status == 302 and opens(phone)


def test_two_administrators_disabling_each_other_at_once_leave_one(box: Box):
    box.add_user("ann", "administrator")
    box.add_user("bo", "administrator")
    ann, bo = signed_in(box, "ann", "127.0.0.2"), signed_in(box, "bo", "127.0.0.3")
    ids = dict(sqlite3.connect(box.database).execute("SELECT name, id FROM users").fetchall())
    forms = [
        (ann, ids["bo"], {"csrf": ann.csrf("/people/"), "action": "disable"}),
        (bo, ids["ann"], {"csrf": bo.csrf("/people/"), "action": "disable"}),
    ]
    for _ in range(3):  # the two posts race; whichever lands second must be refused
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda f: f[0].post(f"/people/{f[1]}", f[2]), forms))
        with sqlite3.connect(box.database) as db:
            enabled = db.execute(
                "SELECT count(*) FROM users WHERE role = 'administrator' AND disabled = 0"
            ).fetchone()[0]
        assert enabled >= 1, "someone can still manage the dashboard"
