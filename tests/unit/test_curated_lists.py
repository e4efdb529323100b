"""The curated lists for the categories no public list covers: every entry dated, and every
dated line read by the same parser as any downloaded list."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from filterd.lists.categories import mask_of
from filterd.lists.index import domain_to_wire
from filterd.lists.parse import parse_list
from filterd.lists.settings import SHIPPED_LISTS
from tests.support.shipped_lists import shipped_store

CURATED = (
    "self_harm",
    "eating_disorders",
    "extremism",
    "hate",
    "weapons_violence",
    "stranger_chat",
)
DATED = re.compile(r"(?P<name>\S+)\s+# checked (?P<date>\d{4}-\d{2}-\d{2})")


def entry_lines(category: str) -> list[str]:
    text = (SHIPPED_LISTS / f"{category}.txt").read_text()
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("category", CURATED)
def test_every_entry_carries_the_date_it_was_checked(category):
    lines = entry_lines(category)
    assert lines
    today = dt.date.today()
    for line in lines:
        match = DATED.fullmatch(line)
        assert match, f"{category}.txt: no '# checked YYYY-MM-DD' on {line!r}"
        checked = dt.date.fromisoformat(match["date"])  # a real calendar date
        assert dt.date(2026, 1, 1) <= checked <= today, line


@pytest.mark.parametrize("category", CURATED)
def test_the_list_parser_reads_every_dated_entry(category):
    parsed = parse_list((SHIPPED_LISTS / f"{category}.txt").read_text())
    assert parsed.bad_lines == 0, parsed.bad_examples
    assert parsed.blocked == [DATED.fullmatch(line)["name"] for line in entry_lines(category)]


def test_no_name_is_listed_twice_in_one_file():
    for category in CURATED:
        names = [DATED.fullmatch(line)["name"] for line in entry_lines(category)]
        assert len(names) == len(set(names)), category


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("forum.sanctioned-suicide.net", "self_harm"),
        ("www.myproana.com", "eating_disorders"),
        ("www.hizb.org.uk", "extremism"),
        ("dailystormer.su", "hate"),
        ("www.gunbroker.com", "weapons_violence"),
        ("ome.tv", "stranger_chat"),
    ],
)
def test_the_compiled_index_blocks_curated_names_under_their_category(tmp_path, name, category):
    store = shipped_store(tmp_path)
    assert store.categories(domain_to_wire(name)) & mask_of([category])
    store.close()


def test_the_readme_table_gives_each_curated_list_its_true_size():
    readme = (SHIPPED_LISTS / "README.md").read_text()
    sizes = dict(re.findall(r"^\| `(\w+)\.txt` \| (\d+) \|", readme, re.MULTILINE))
    assert {c: int(sizes[c]) for c in CURATED} == {c: len(entry_lines(c)) for c in CURATED}
