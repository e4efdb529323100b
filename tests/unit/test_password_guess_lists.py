"""Passwords an outside check found accepted, though every guessing list tries them early.

A keyboard walk down one column and up the next (zaq12wsx, 1qazxsw2), the product's own words
(dashboard, foster, carer) and the best-known passphrase of all are refused; passphrases of
ordinary words still pass.
"""

from __future__ import annotations

import pytest

from dashboard.data.passwords import weakness


@pytest.mark.parametrize(
    "password",
    [
        "zaq12wsxcde",
        "1qazxsw23edc",
        "dashboard01",
        "Foster2024!",
        "safeguarding1",
        "correcthorsebatterystaple",
        "correct horse battery staple",
    ],
)
def test_guessed_early_refused(password: str) -> None:
    assert weakness(password, "carol") is not None


@pytest.mark.parametrize("password", ["violet kettle harbour moss", "my carer is kind 77"])
def test_ordinary_passphrases_pass(password: str) -> None:
    assert weakness(password, "carol") is None
