"""Who may change which part of the rules file: one table, checked by every save.

Pages and the API both save through RulesFile.save, which compares the new rules with the file
on disk and refuses the save when the person's role lacks the permission for any key path that
changed. So a carer cannot move the home's time zone (every child's bedtime) or unfilter every
unknown device through the API any more than through the pages.
"""

from __future__ import annotations

from typing import Any

from dashboard.data.accounts import Permission

# Key path prefix -> (permission needed to change it, what it is in plain words). The longest
# matching prefix wins; a key not listed needs EDIT_HOME (filterd refuses unknown keys anyway).
FIELDS: dict[str, tuple[Permission, str]] = {
    "timezone": (Permission.EDIT_HOME, "the home's time zone"),
    "unknown_devices": (Permission.EDIT_HOME, "the rules for devices nobody has listed"),
    "children": (Permission.EDIT_RULES, "the children's rules"),
    "devices": (Permission.EDIT_RULES, "the list of devices"),
}
UNLISTED = (Permission.EDIT_HOME, "the home's settings")
MAX_CHANGES = 40  # key paths reported for one save (the audit trail keeps them)


class FieldsRefused(Exception):
    """The person's role may not change some of what this save changes."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        what = sorted({rule_for(path)[1] for path in paths})
        super().__init__("Your account cannot change " + " or ".join(what) + ".")


def rule_for(path: str) -> tuple[Permission, str]:
    """The permission and plain name for a changed key path (`children.sam.name`)."""
    best = ""
    for prefix in FIELDS:
        if _under(path, prefix) and len(prefix) > len(best):
            best = prefix
    return FIELDS[best] if best else UNLISTED


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


def changed_paths(old: Any, new: Any, path: str = "") -> list[str]:
    """Key paths whose value differs between two raw rules (added, removed or changed)."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for key in [*old, *(k for k in new if k not in old)]:
            if old.get(key, _MISSING) != new.get(key, _MISSING):
                child = f"{path}.{key}" if path else str(key)
                found += (
                    changed_paths(old.get(key), new.get(key), child)
                    if (key in old and key in new)
                    else [child]
                )
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new) and path:
        return [
            p for i, (a, b) in enumerate(zip(old, new, strict=True))
            for p in changed_paths(a, b, f"{path}[{i}]")
        ]  # fmt: skip
    return [path or "(file)"]


_MISSING = object()


def refused(may, paths: list[str]) -> list[str]:
    """Those of `paths` that a user (`may(permission) -> bool`) may not change."""
    return [path for path in paths if not may(rule_for(path)[0])]
