"""Form bodies as the dashboard's pages post them, for Flask test clients: Sam's rules editor
(every field as the page shows it, with a test's changes) and an online-safety agreement.
Several test modules post these forms; they are written once here."""

from __future__ import annotations

from datetime import date, timedelta

import yaml

from dashboard.data.child_form import SCREENS
from dashboard.web.children import form_from_rules
from tests.support.dashboard_app import csrf_of, version_of


def posted(form: dict) -> dict:
    """The editor's fields as a browser posts them (unchecked boxes are left out)."""
    data = {}
    for key, value in form.items():
        if isinstance(value, bool):
            if value:
                data[key] = "on"
        elif isinstance(value, set):
            data[key] = sorted(value)
        else:
            data[key] = value
    return data


def sam_form(tmp_path, **changes) -> dict:
    """Sam's rules editor as the rules file in tmp_path fills it, with `changes` made."""
    raw = yaml.safe_load((tmp_path / "rules.yaml").read_text())
    return posted({**form_from_rules(raw["children"]["sam"]), **changes})


def screen_of(changes) -> str:
    """The screen of the editor that shows the first changed field (bedtime and limits when
    nothing changes)."""
    for key in changes:
        for screen, shown in SCREENS.items():
            if key in shown.fields:
                return screen
    return "limits"


def save_sam(client, tmp_path, version: str | None = None, screen: str = "", **changes):
    """Post Sam's editor with `changes` from the screen that shows them; the response."""
    data = sam_form(tmp_path, **changes)
    page = f"/children/sam/{screen or screen_of(changes)}"
    data["csrf"] = csrf_of(client, page)
    data["version"] = version or version_of(client, page)
    return client.post(page, data=data)


def agreement_form(csrf: str, **changes: str) -> dict[str, str]:
    """Sam's online-safety agreement, filled in today with a review in 90 days."""
    review = (date.today() + timedelta(days=90)).isoformat()
    form = {
        "csrf": csrf,
        "child_name": "Sam",
        "child_on": date.today().isoformat(),
        "carer_name": "Jo Carer",
        "carer_on": date.today().isoformat(),
        "social_worker_name": "Priya Shah",
        "risk_level": "Low; a peer at school has been unkind online.",
        "responsibility": "The carer bought the tablet and holds the account.",
        "agrees": "keep my tablet downstairs at night",
        "will_tell": "Jo or my social worker Priya",
        "review": review,
    }
    form.update(changes)
    return form
