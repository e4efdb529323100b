"""The upstream settings (filterd.forward.settings): each problem named by its key, all at
once and in the order of the file's keys, with the defaults where nothing is said."""

from __future__ import annotations

import pytest

from filterd.config import ConfigError, HostPort, parse_config
from filterd.forward.settings import UPSTREAM_TIMEOUT

LISTEN = 'listen: ["127.0.0.1:53"]\n'


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        parse_config(text)
    return refused.value.problems


def test_every_upstream_problem_is_named_by_its_key():
    text = 'upstreams: ["dns.example:53", "[::1]:53", 53]\nupstream_timeout: 0.01\n'
    assert problems(text) == [
        "listen: required",
        'listen: expected a non-empty list of "host:port", got []',
        "upstreams[0]: expected an IP address, got 'dns.example'",
        'upstreams[2]: expected "host:port", got 53',
        "upstream_timeout: must be between 0.05 and 5, got 0.01",
    ]
    assert problems(LISTEN + "upstreams: []\nupstream_timeout: true\n") == [
        'upstreams: expected a non-empty list of "host:port", got []',
        "upstream_timeout: expected a number, got True",
    ]
    assert problems(LISTEN) == [
        "upstreams: required",
        'upstreams: expected a non-empty list of "host:port", got []',
    ]


def test_upstreams_are_read_in_canonical_spelling_with_the_default_timeout():
    config = parse_config(LISTEN + 'upstreams: ["[0:0::1]:5353", "192.0.2.1:53"]\n')
    assert config.upstreams == (HostPort("::1", 5353), HostPort("192.0.2.1", 53))
    assert config.upstream_timeout == UPSTREAM_TIMEOUT == 0.8
