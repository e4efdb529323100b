"""A category is named in one way everywhere a carer reads it: filterd.lists.categories'
label_of (Category.label; the `category` filter on pages). Written out by hand again, the words
drift ("self harm" on one page, "self-harm" in the alert about the same request). A child's
block page has its own words for children (dashboard/child_side/words.py)."""

from __future__ import annotations

import re
from pathlib import Path

from filterd.lists.categories import BY_ID, CATEGORIES, label_of

ROOT = Path(__file__).resolve().parents[2]
BY_HAND = re.compile(r"categor\w*[\w.\[\]'\"]*\s*\|?\s*\.?replace\(\s*['\"]_['\"]")


def test_every_category_has_a_label_a_person_reads_and_unknown_ids_still_read():
    assert label_of("self_harm") == "self-harm" and BY_ID["ai_chat"].label == "AI chat"
    assert all(c.label and "_" not in c.label for c in CATEGORIES)
    assert label_of("made_up") == "made up"


def test_no_page_or_module_spells_a_category_out_by_hand():
    found = []
    for folder in ("filterd", "dashboard"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".py", ".html") or path.name == "categories.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if BY_HAND.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}")
    assert found == []
