"""A list source whose URL carries a user name and password must use https://: over http://
the login (often a paid or licensed list's) crosses the network in the clear. The settings are
refused naming the key, and the password is never repeated in the message."""

from __future__ import annotations

import pytest
import yaml

from filterd.config import ConfigError, parse_config


def settings_with(source: str) -> str:
    return yaml.safe_dump(
        {"listen": ["127.0.0.1:1053"], "upstreams": ["127.0.0.1:1"], "lists": {"adult": [source]}}
    )


def test_a_login_over_plain_http_is_refused_naming_the_key():
    with pytest.raises(ConfigError) as refused:
        parse_config(settings_with("http://bob:hunter2@lists.example/adult.txt"))
    message = str(refused.value)
    assert "lists.adult[0]" in message and "use https://" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "source",
    [
        "https://bob:hunter2@lists.example/adult.txt",
        "http://lists.example/adult.txt",
        "/var/lib/filterd/own/adult.txt",
    ],
)
def test_https_logins_plain_http_without_one_and_files_are_accepted(source):
    assert parse_config(settings_with(source)).blocklists.lists["adult"] == (source,)
