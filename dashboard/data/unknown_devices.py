"""What happens to devices nobody has assigned: the choice in the rules' `unknown_devices`, in
a carer's words. Strict unless someone chose otherwise, so a child's new phone is filtered from
the moment it joins the Wi-Fi."""

from __future__ import annotations

from typing import Any

from filterd.rules.model import HOUSEHOLD, STRICT

CHOICES: dict[str, str] = {
    STRICT: "Filtered like a young child (the safest until someone assigns them)",
    HOUSEHOLD: "Household rules only (adult devices; a child's new phone is not filtered)",
}


def current(raw_rules: dict[str, Any]) -> str:
    """The rules' choice; filterd applies strict when the key is missing."""
    value = raw_rules.get("unknown_devices", STRICT)
    return value if isinstance(value, str) else STRICT


def described(raw_rules: dict[str, Any]) -> str:
    """The choice as a sentence part (an age band's preset named as a choice of its own)."""
    value = current(raw_rules)
    return CHOICES.get(value, f"Filtered with the {value.replace('_', ' ')} starting rules")
