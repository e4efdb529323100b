"""Illegal-content lists are published as URLs: each line gives its host, the whole host."""

from __future__ import annotations

from filterd.lists.parse import parse_list


def test_url_lines_give_their_host():
    result = parse_list(
        "http://abuse.example/gallery/123.html\n"
        "https://WWW.Other.example:8443/a?b=c#frag\n"
        "plain.example/path/to/page\n"
        "user:secret@creds.example/x\n"
        "bücher.example/seite\n"
    )
    assert result.blocked == [
        "abuse.example",
        "www.other.example",
        "plain.example",
        "creds.example",
        "xn--bcher-kva.example",
    ]
    assert result.bad_lines == 0


def test_url_lines_that_name_no_host_are_bad_and_counted():
    result = parse_list(
        "http://192.0.2.7/page\nftp://files.example/x\nhttp:///nohost\nhttp://a.example:bad/x\n"
        "ok.example\n"
    )
    assert result.blocked == ["ok.example"]
    assert result.bad_lines == 4


def test_a_url_with_a_trailing_comment_gives_its_host():
    assert parse_list("http://c.example/x  # reported 2026-11-02\n").blocked == ["c.example"]
