"""List parsing (conformance item 24): every format publishers use is normalised the same way,
and bad lines are counted, never fatal."""

from __future__ import annotations

from filterd.lists.parse import ParsedList, normalise_domain, parse_list


def blocked(text: str) -> list[str]:
    return parse_list(text).blocked


def test_crlf_line_endings():
    assert blocked("a.com\r\nb.com\r\n") == ["a.com", "b.com"]


def test_lf_and_lone_cr_line_endings():
    assert blocked("a.com\nb.com\rc.com") == ["a.com", "b.com", "c.com"]


def test_utf8_bom_at_start():
    result = parse_list("\ufeffa.com\nb.com\n")
    assert result.blocked == ["a.com", "b.com"]
    assert result.bad_lines == 0


def test_hash_comment_lines():
    result = parse_list("# a comment\n  # indented comment\na.com\n")
    assert result == ParsedList(["a.com"], [], 0, [])


def test_bang_comment_lines():
    result = parse_list("! Title: adblock style\n!\n||a.com^\n")
    assert result == ParsedList(["a.com"], [], 0, [])


def test_trailing_comment():
    assert blocked("a.com # tracker\n0.0.0.0 b.com\t# ads\n||c.com^ # x\n") == [
        "a.com",
        "b.com",
        "c.com",
    ]


def test_blank_and_whitespace_lines():
    result = parse_list("\n   \n\t\na.com\n\n")
    assert result == ParsedList(["a.com"], [], 0, [])


def test_hosts_line_with_several_names():
    assert blocked("0.0.0.0 a.com b.com\n") == ["a.com", "b.com"]


def test_hosts_line_with_loopback_and_ipv6_addresses():
    assert blocked("127.0.0.1 a.com\n:: b.com\n::1\tc.com\n192.0.2.1 d.com\n") == [
        "a.com",
        "b.com",
        "c.com",
        "d.com",
    ]


def test_hosts_line_keeps_good_names_and_counts_the_line_bad_once():
    result = parse_list("0.0.0.0 a.com a..com 1.2.3.4 b.com\n")
    assert result.blocked == ["a.com", "b.com"]
    assert result.bad_lines == 1


def test_two_names_without_an_address_are_bad():
    result = parse_list("a.com b.com\n")
    assert result.blocked == []
    assert result.bad_lines == 1


def test_adblock_domain_rule():
    assert blocked("||a.com^\n") == ["a.com"]


def test_adblock_important_modifier_is_taken():
    assert blocked("||a.com^$important\n||b.com^|\n") == ["a.com", "b.com"]


def test_adblock_rules_that_are_not_whole_domain_blocks_are_bad():
    result = parse_list(
        "||a.com/ads^\n||b.com^$third-party\n||c.com^$dnsrewrite=1.2.3.4\n"
        "example.com##.banner\n|http://d.com\n||e.com\n"
    )
    assert result.blocked == []
    assert result.bad_lines == 6


def test_adblock_exception_goes_to_allowed():
    result = parse_list("||a.com^\n@@||b.com^\n@@||c.com^$important\n")
    assert result.blocked == ["a.com"]
    assert result.allowed == ["b.com", "c.com"]
    assert result.bad_lines == 0


def test_wildcard_prefix_means_the_domain():
    assert blocked("*.c.com\n||*.d.com^\n") == ["c.com", "d.com"]


def test_bare_ipv4_address_line_is_bad():
    result = parse_list("1.2.3.4\n")
    assert result.blocked == []
    assert result.bad_lines == 1
    assert result.bad_examples == ["1.2.3.4"]


def test_bare_ipv6_address_line_is_bad():
    result = parse_list("2001:db8::1\n")
    assert result == ParsedList([], [], 1, ["2001:db8::1"])


def test_ip_address_as_the_name_is_bad():
    result = parse_list("0.0.0.0 10.0.0.1\n")
    assert result == ParsedList([], [], 1, ["0.0.0.0 10.0.0.1"])


def test_localhost_and_friends_are_skipped_not_bad():
    text = (
        "127.0.0.1 localhost\n127.0.0.1 localhost.localdomain\n255.255.255.255 broadcasthost\n"
        "::1 localhost ip6-localhost ip6-loopback\n127.0.0.1 local\nff02::1 ip6-allnodes\n"
        "0.0.0.0 0.0.0.0\nlocalhost\n"
    )
    assert parse_list(text) == ParsedList([], [], 0, [])


def test_internationalised_name_becomes_punycode():
    assert blocked("bücher.de\n") == ["xn--bcher-kva.de"]


def test_internationalised_name_in_hosts_and_adblock_lines():
    assert blocked("0.0.0.0 BÜCHER.de.\n||bücher.de^\n") == ["xn--bcher-kva.de"]


def test_label_over_63_octets_is_bad():
    result = parse_list("a" * 64 + ".com\n" + "b" * 63 + ".com\n")
    assert result.blocked == ["b" * 63 + ".com"]
    assert result.bad_lines == 1


def test_name_over_253_characters_is_bad():
    ok = ".".join(["a" * 63] * 3 + ["b" * 61])  # 253 characters
    too_long = "c" + ok
    result = parse_list(f"{ok}\n{too_long}\n")
    assert result.blocked == [ok]
    assert result.bad_lines == 1


def test_empty_label_is_bad():
    assert parse_list("a..com\n.a.com\n").bad_lines == 2


def test_invalid_characters_are_bad_but_underscore_and_hyphen_are_fine():
    result = parse_list("a!b.com\na b c\na/b.com\n_dmarc.my-site.com\n")
    assert result.blocked == ["_dmarc.my-site.com"]
    assert result.bad_lines == 3


def test_single_label_is_bad():
    assert parse_list("com\n") == ParsedList([], [], 1, ["com"])


def test_trailing_dot_removed():
    assert blocked("a.com.\n") == ["a.com"]


def test_upper_case_lowered():
    assert blocked("A.COM\n0.0.0.0 Mixed.Example.ORG\n") == ["a.com", "mixed.example.org"]


def test_duplicates_removed_in_first_seen_order():
    text = "b.com\na.com\nB.com\n0.0.0.0 a.com c.com\n||b.com^\nc.com.\n"
    assert blocked(text) == ["b.com", "a.com", "c.com"]


def test_adblock_header_is_not_a_bad_line():
    assert parse_list("[Adblock Plus 2.0]\n||a.com^\n") == ParsedList(["a.com"], [], 0, [])


def test_bad_examples_capped_at_five_and_the_count_is_complete():
    result = parse_list("".join(f"bad{i}\n" for i in range(8)) + "good.com\n")
    assert result.bad_lines == 8
    assert result.bad_examples == ["bad0", "bad1", "bad2", "bad3", "bad4"]
    assert result.blocked == ["good.com"]


def test_mixed_list_is_not_fatal():
    text = "\ufeff# list\r\n0.0.0.0 a.com\r\n<html>\r\n||b.com^\r\n\x00\x01\r\nc.com\r\n"
    result = parse_list(text)
    assert result.blocked == ["a.com", "b.com", "c.com"]
    assert result.bad_lines == 2


def test_normalise_domain():
    assert normalise_domain("Example.COM.") == "example.com"
    assert normalise_domain("  bücher.de ") == "xn--bcher-kva.de"
    assert normalise_domain("*.c.com") == "c.com"
    assert normalise_domain("_sip._tcp.example.com") == "_sip._tcp.example.com"
    assert normalise_domain("a" * 63 + ".com") == "a" * 63 + ".com"


def test_normalise_domain_refuses_what_lists_refuse():
    for text in (
        "",
        "com",
        "a..com",
        "1.2.3.4",
        "::1",
        "a b.com",
        "a" * 64 + ".com",
        "localhost",
        "0.0.0.0",
        "||a.com^",
        "x" * 250 + ".com",
        "ü" * 60 + ".de",
    ):
        assert normalise_domain(text) is None, text
