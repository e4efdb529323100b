"""The login and first-run forms refuse a post whose Origin is "null".

A sandboxed frame, or a page opened from a file or a data: address, posts with `Origin: null`;
the login accepted it as if it came from the dashboard (a browser without Sec-Fetch-Site could be
logged into someone else's account by another page). The dashboard's own pages always send
their real origin. Real app on real files, Flask's test client.
"""

from __future__ import annotations

from tests.support.dashboard_app import PASSWORD, add_account, first_run_form


def test_login_from_a_null_origin_is_refused(dashboard_app) -> None:
    client = dashboard_app.test_client()
    assert (
        client.post(
            "/setup", data=first_run_form(dashboard_app), headers={"Origin": "null"}
        ).status_code
        == 403
    )
    assert client.post("/setup", data=first_run_form(dashboard_app)).status_code == 302
    add_account(dashboard_app, "carol", "carer")
    form = {"name": "carol", "password": PASSWORD}
    refused = client.post("/login", data=form, headers={"Origin": "null"})
    assert refused.status_code == 403
    assert "own pages" in refused.get_data(as_text=True)
    assert (
        client.post("/login", data=form, headers={"Origin": "http://localhost"}).status_code == 302
    )
