"""What People says each role may do is built from GRANTS (dashboard/data/accounts.py), the
permissions the server checks (issue 10: People's own labels had drifted: carers and
safeguarding leads record agreements, and People did not say so)."""

from __future__ import annotations

import html

from dashboard.data.accounts import GRANTS, PERMISSION_WORDS, ROLE_DESCRIPTIONS, Role


def test_people_says_what_each_role_is_granted_and_nothing_more(signed_in) -> None:
    client = signed_in("carol", "administrator")
    page = html.unescape(client.get("/people/").get_data(as_text=True))
    assert "Carer: see the children, their activity and devices, change rules and use quick" in page
    assert "Safeguarding lead: " in page and "read the audit trail, record agreements" in page
    for role, said in ROLE_DESCRIPTIONS.items():
        assert said in page, said
        if GRANTS[role] == frozenset(PERMISSION_WORDS):
            continue  # the administrator: "everything"
        for permission, words in PERMISSION_WORDS.items():
            assert (words in said) == (permission in GRANTS[role]), (role, permission)
    assert set(ROLE_DESCRIPTIONS) == set(Role) - {Role.PRACTITIONER}
