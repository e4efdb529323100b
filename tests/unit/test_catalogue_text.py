"""An app's name and note are printable text, as children's names are (check16).

The catalogue's names go on the Apps screen, into every blocked answer's EDE text
("blocked: TikTok") and the query log; a name with a line break, a bell, a character that
reverses the text ("Tik\\u202ekoT" shows as another app) or 5,000 characters was accepted.
Such a file is now refused with the key and the reason, and the catalogue in force stays.
"""

from __future__ import annotations

import pytest

from filterd.catalogue.load import CATALOGUE_FILE, CatalogueError, parse_catalogue

SHIPPED = CATALOGUE_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ('"Tik\\u202eTok"', "reverses the direction of text"),
        ('"Tik\\nTok"', "U+000A"),
        ('"TikTok\\a"', "U+0007"),
        ("T" * 500, "longer than 64 characters"),
    ],
)
def test_an_unprintable_or_runaway_app_name_is_refused_with_its_key(written, reason):
    text = SHIPPED.replace("name: TikTok\n", f"name: {written}\n", 1)
    assert text != SHIPPED
    with pytest.raises(CatalogueError) as refused:
        parse_catalogue(text)
    problems = [p for p in refused.value.problems if p.startswith("services.tiktok.name:")]
    assert problems and reason in problems[0], refused.value.problems


def test_an_unprintable_note_is_refused_with_its_key():
    text = SHIPPED.replace(
        "    name: TikTok\n", '    name: TikTok\n    note: "see \\u202eelsewhere"\n', 1
    )
    with pytest.raises(CatalogueError) as refused:
        parse_catalogue(text)
    assert any(p.startswith("services.tiktok.note:") for p in refused.value.problems)


def test_the_shipped_catalogue_is_still_accepted():
    assert "tiktok" in parse_catalogue(SHIPPED).services
