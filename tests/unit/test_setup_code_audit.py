"""Wrong and throttled set-up codes are in the audit trail with where they came from, like
wrong passwords (issue 13's outside check): a guesser on the Wi-Fi trying codes before the
carer sets up the box leaves a trace the carer can read, and a flood is one row a minute."""

from __future__ import annotations

from tests.support.dashboard_app import audit_trail, first_run_form

GUESSER = "192.168.1.66"


def test_wrong_and_throttled_set_up_codes_are_audited_with_the_address(dashboard_app) -> None:
    client = dashboard_app.test_client()
    form = {**first_run_form(dashboard_app), "code": "AAAA-BBBB-CCCC"}
    guess = {"environ_base": {"REMOTE_ADDR": GUESSER}}
    assert client.post("/setup", data=form, **guess).status_code == 403
    failed = [e for e in audit_trail(dashboard_app) if e.action == "setup_code.failed"]
    assert [(e.source, e.detail) for e in failed] == [(GUESSER, "wrong set-up code")]

    for _ in range(40):  # guess on until the dashboard slows this address down
        if "Too many wrong tries" in client.post("/setup", data=form, **guess).text:
            break
    else:
        raise AssertionError("never throttled")
    for _ in range(10):  # a flood of slowed-down tries is one row a minute, not ten
        client.post("/setup", data=form, **guess)
    locked = [e for e in audit_trail(dashboard_app) if e.action == "setup_code.locked"]
    assert [e.source for e in locked] == [GUESSER]
    assert "Too many wrong tries" in locked[0].detail

    # The carer, from another address, still sets up the box with the right code.
    carer = {"environ_base": {"REMOTE_ADDR": "192.168.1.10"}}
    assert client.post("/setup", data=first_run_form(dashboard_app), **carer).status_code == 302
