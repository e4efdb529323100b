"""The small rules behind issue 12's fixes, as tables: what a name may contain, how text is
escaped, how credentials are hidden, which key paths a save changes, which CSV cells are quoted."""

from __future__ import annotations

import pytest

from dashboard.data.export import safe_cell
from dashboard.data.rule_permissions import changed_paths, rule_for
from filterd.text.people import escaped, text_problem
from filterd.text.redact import redact_text, redact_url


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Sam", None),
        ("Zoë 👩‍👧", None),  # a joiner inside an emoji sequence is fine
        ("سارا", None),
        ("", "is empty"),
        ("   ", "is empty"),
        ("x" * 65, "longer than 64 characters (65)"),
        ("Sam\ud800", "contains a lone surrogate (broken text) (U+D800) at position 4"),
        ("\u202egpj.exe", "contains a character that reverses the direction of text (U+202E)"),
        ("a\x00b", "contains a control character (U+0000) at position 2"),
        ("a\u2028b", "contains a line separator (U+2028) at position 2"),
        ("a\ufeffb", "contains an invisible formatting character (U+FEFF) at position 2"),
        (42, "expected text"),
    ],
)
def test_what_a_name_may_contain(value, problem):
    found = text_problem(value, 64)
    assert found == problem or (problem is not None and found.startswith(problem))


def test_a_multiline_note_keeps_its_lines_but_not_other_controls():
    assert text_problem("line one\nline two\r\n\tindented", 100, multiline=True) is None
    assert text_problem("line one\nline two", 100) is not None
    assert "U+001B" in text_problem("clear \x1b[2J", 100, multiline=True)


def test_escaped_text_is_printable_and_keeps_line_breaks():
    assert escaped("Sam") == "Sam"
    assert escaped("a\u202eb\ud800c\x07") == "a\\u202eb\\ud800c\\u0007"
    assert escaped("two\nlines") == "two\nlines"
    assert escaped("a\u202eb").encode("utf-8")  # never fails to encode


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://alice:pw@lists.example/a.txt", "https://***@lists.example/a.txt"),
        ("http://token@h.example:8080/a", "http://***@h.example:8080/a"),
        ("https://h.example/l.txt?api_key=K&format=hosts", "https://h.example/l.txt?api_key=***&format=hosts"),
        ("https://h.example/l?token=T&sig=S", "https://h.example/l?token=***&sig=***"),
        ("https://h.example/ab12cd34ef56gh78ij90kl12mn/list.txt", "https://h.example/***/list.txt"),
        ("https://h.example/adult-and-gambling-domains.txt", "https://h.example/adult-and-gambling-domains.txt"),
        ("https://[::1]:99/a?password=p", "https://[::1]:99/a?password=***"),
        ("/var/lib/filterd/local-list.txt", "/var/lib/filterd/local-list.txt"),
        ("file:///srv/lists/iwf.txt", "file:///srv/lists/iwf.txt"),
    ],
)  # fmt: skip
def test_credentials_are_hidden_in_list_sources(url, shown):
    assert redact_url(url) == shown


def test_every_url_in_free_text_is_redacted():
    text = (
        "could not fetch https://u:secret@x.example/l?key=abc (timed out); see http://ok.example/"
    )
    assert redact_text(text) == (
        "could not fetch https://***@x.example/l?key=*** (timed out); see http://ok.example/"
    )


def test_a_save_reports_the_key_paths_it_changed_and_who_may_change_them():
    old = {
        "timezone": "Europe/London",
        "children": {"sam": {"name": "Sam", "offline": [{"start": "20:00"}]}},
        "devices": [{"ip": "1.2.3.4"}],
    }
    new = {
        "timezone": "UTC",
        "unknown_devices": "household",
        "children": {"sam": {"name": "Sam", "offline": [{"start": "21:00"}]}, "kim": {}},
        "devices": [{"ip": "1.2.3.4"}],
    }
    paths = changed_paths(old, new)
    assert paths == [
        "timezone",
        "children.sam.offline[0].start",
        "children.kim",
        "unknown_devices",
    ]
    assert [rule_for(p)[0].value for p in paths] == [
        "edit_home",
        "edit_rules",
        "edit_rules",
        "edit_home",
    ]
    assert changed_paths(old, old) == []


@pytest.mark.parametrize(
    ("cell", "quoted"),
    [
        ("=1+1", True),
        ("@SUM(A1)", True),
        ('\x00=HYPERLINK("http://evil.example")', True),
        (" =1+1", True),
        ("\x1b[2J", True),
        ("\tx", True),
        ("example.com", False),
        ("a=b", False),
        ("", False),
    ],
)
def test_csv_cells_that_a_spreadsheet_could_run_are_quoted(cell, quoted):
    assert safe_cell(cell) == ("'" + cell if quoted else cell)
