"""A home's time zone is one of the tz database's named zones. `right/UTC` (leap seconds:
bedtime drifts by 27 s), `posix/...`, the box's own `localtime` and `Factory` open as zones but
are no place a home is in: the rules file naming one is refused with the key and a reason."""

from __future__ import annotations

import pytest
import yaml

from filterd.rules.guards import with_end_line
from filterd.rules.parse import RulesError, parse_rules_bytes


def rules_in(zone: str) -> bytes:
    return with_end_line(yaml.safe_dump({"timezone": zone, "children": {}, "devices": []})).encode()


@pytest.mark.parametrize("zone", ["right/UTC", "posix/Europe/London", "localtime", "Factory"])
def test_a_zone_no_home_is_in_is_refused_naming_the_key(zone):
    with pytest.raises(RulesError, match=r"timezone: unknown time zone"):
        parse_rules_bytes(rules_in(zone))


@pytest.mark.parametrize("zone", ["Europe/London", "UTC", "GB", "Europe/Kyiv"])
def test_named_zones_are_accepted(zone):
    assert str(parse_rules_bytes(rules_in(zone)).timezone) == zone
