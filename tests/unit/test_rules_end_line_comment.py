"""The end line may carry a comment, as every other line of a hand-edited rules file may.

Found from outside: `end_of_rules: true  # keep this last` was refused with "end_of_rules:
missing from the end of the file", though the line is there; a carer editing by hand could not
see what was wrong. A cut inside the comment is still refused (no final line break)."""

from __future__ import annotations

import pytest

from filterd.rules.parse import RulesError, parse_rules_bytes

BODY = b"""\
timezone: Europe/London
children:
  sam: {name: Sam, age_band: 9_12}
devices:
  - {ip: 192.168.1.20, name: "Sam's tablet", owner: sam}
"""
END = b"end_of_rules: true   # keep this line last\n"


def test_an_end_line_with_a_comment_is_accepted() -> None:
    rules = parse_rules_bytes(BODY + END)
    assert list(rules.children) == ["sam"]
    assert len(rules.devices) == 1


@pytest.mark.parametrize("cut", range(1, len(END)))
def test_a_cut_inside_the_end_line_or_its_comment_is_refused(cut: int) -> None:
    with pytest.raises(RulesError) as refused:
        parse_rules_bytes(BODY + END[:cut])
    assert refused.value.problems[0].startswith("end_of_rules: missing")


def test_a_commented_out_end_line_is_still_missing() -> None:
    with pytest.raises(RulesError):
        parse_rules_bytes(BODY + b"# end_of_rules: true\n")
    with pytest.raises(RulesError):
        parse_rules_bytes(BODY + b"end_of_rules: true#x\n")  # YAML reads the string 'true#x'
