"""A YAML reader for files that people write by hand: what looks like text stays text.

PyYAML follows YAML 1.1, where `21:00` is the number 1260 (base 60), `9_12` is 912 and a MAC
address of digits is an integer. In a rules file those are a bedtime, an age band and a
device. This loader resolves only plain decimal and hex integers, floats, booleans, null and
dates; everything else is a string. Like safe_load it refuses tags such as !!python/object.
"""

from __future__ import annotations

import re

import yaml

MAX_DIGITS = 12  # no setting in a rules file needs a longer number


class PlainLoader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's sexagesimal numbers and underscores in numbers.

    Also refuses what a hand-written file never needs and a hostile one abuses: aliases (a
    few hundred bytes of nested aliases expand to gigabytes), duplicate keys (the second
    would silently replace the first), and numbers hundreds of digits long.
    """

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in this file", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # an unhashable key: the base class reports it
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):  # type: ignore[no-untyped-def]
        if len(str(node.value).lstrip("+-")) > MAX_DIGITS:
            raise yaml.constructor.ConstructorError(None, None, "number too long", node.start_mark)
        return super().construct_yaml_int(node)


_NUMBERS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _NUMBERS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
PlainLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
PlainLoader.add_constructor("tag:yaml.org,2002:int", PlainLoader.construct_yaml_int)
PlainLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)$"),
    list("-+0123456789."),
)


def load_plain(text: str) -> object:
    """Parse YAML text with PlainLoader (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=PlainLoader)
