"""The shipped helplines: the services a child in the UK may need, never in a category list."""

from __future__ import annotations

import pytest

from filterd.lists.index import domain_to_wire
from filterd.lists.parse import parse_list
from filterd.lists.settings import SHIPPED_LISTS
from filterd.lists.store import HELPLINE
from tests.support.shipped_lists import shipped_store

HELPLINES = parse_list((SHIPPED_LISTS / "helplines.txt").read_text()).blocked


@pytest.mark.parametrize(
    "name",
    [
        "release.org.uk",  # drugs law: a drugs list blocks it
        "ukna.org",  # Narcotics Anonymous UK
        "alcoholics-anonymous.org.uk",  # AA Great Britain
        "dan247.org.uk",  # DAN 24/7, the Wales drug and alcohol helpline
        "selfinjurysupport.org.uk",
        "thecalmzone.net",  # CALM's current address
        "runawayhelpline.org.uk",
        "nacoa.org.uk",
        "stophateuk.org",
    ],
)
def test_support_services_lists_block_or_log_are_helplines(name, tmp_path):
    assert name in HELPLINES
    store = shipped_store(tmp_path)
    assert store.categories(domain_to_wire(f"www.{name}")) & HELPLINE
    store.close()


def test_no_shipped_category_list_names_a_helpline_or_its_parent():
    def parents(name: str) -> set[str]:
        labels = name.split(".")
        return {".".join(labels[i:]) for i in range(len(labels))}

    helplines = set(HELPLINES)
    for path in SHIPPED_LISTS.glob("*.txt"):
        if path.name in ("helplines.txt", "essential.txt"):
            continue
        for name in parse_list(path.read_text()).blocked:
            assert not parents(name) & helplines, f"{path.name} lists {name}"
            assert not {h for h in helplines if name in parents(h)}, f"{path.name}: {name}"
