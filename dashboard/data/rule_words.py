"""A rules-in-force line as a person reads it on an agreement (page, PDF, practitioner page).

filterd.rules.changes.in_force states a child's rules with the rules file's ids ("app
bbc_iplayer", "safe search google"); those lines are what an agreement version keeps and
compares with the rules now, so they stay as they are, and are put into words only when shown:
apps by their catalogue name, search engines by theirs, and the first letter a capital.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from filterd.rules.safe_search_names import SETTINGS

ENGINES = {engine.key: engine.label for engine in SETTINGS}
_APP = re.compile(r"\bapp ([a-z0-9_]+)")


def line(setting: str, value: str, app_names: Mapping[str, str]) -> str:
    """ "App bbc_iplayer: allowed" -> "BBC iPlayer (app): allowed"; "safe search google: on"
    -> "Safe search on Google: on"; an app the catalogue does not know keeps its id."""

    def app(match: re.Match[str]) -> str:
        name = app_names.get(match[1])
        return f"{name} (app)" if name else match[0]

    setting = _APP.sub(app, setting)
    value = _APP.sub(lambda m: app_names.get(m[1], m[0]), value)
    if setting.startswith("safe search ") and setting[12:] in ENGINES:
        setting = f"safe search on {ENGINES[setting[12:]]}"
    return f"{setting[:1].upper()}{setting[1:]}: {value}"
