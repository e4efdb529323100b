"""A YAML reader for files that people write by hand: what looks like text stays text.

PyYAML follows YAML 1.1, where `21:00` is the number 1260 (base 60), `9_12` is 912 and a MAC
address of digits is an integer. In a rules file those are a bedtime, an age band and a
device. This loader resolves only plain decimal and hex integers, floats, booleans, null and
dates; everything else is a string. Like safe_load it refuses tags such as !!python/object.
"""

from __future__ import annotations

import re

import yaml


class PlainLoader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's sexagesimal numbers and underscores in numbers."""


_NUMBERS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _NUMBERS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
PlainLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
PlainLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)$"),
    list("-+0123456789."),
)


def load_plain(text: str) -> object:
    """Parse YAML text with PlainLoader (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=PlainLoader)
