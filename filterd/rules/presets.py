"""Age presets: the starting point of each child's profile, which carers then adjust.

Chosen from UK guidance for carers: the harmful categories are blocked at every age (random
chat with strangers among them: it is a contact risk, not ordinary messaging); social
media and messaging wait until 13 (the minimum age most services set); bedtimes follow the
usual school-night advice, later at weekends. Gaming and streaming are never blocked by a
preset: carers manage them with daily limits and allowed_during windows instead.
"""

from __future__ import annotations

from filterd.lists.categories import mask_of
from filterd.rules.model import SafeSearch, Window, YouTube

HARMFUL = (
    "illegal",
    "adult",
    "gambling",
    "self_harm",
    "eating_disorders",
    "extremism",
    "hate",
    "drugs",
    "weapons_violence",
    "malware_phishing",
    "scams",
    "piracy",
    "dating",
    "bypass",
    "stranger_chat",
)
SCHOOL_NIGHTS = frozenset({6, 0, 1, 2, 3})  # Sunday to Thursday evenings
WEEKEND_NIGHTS = frozenset({4, 5})  # Friday and Saturday evenings


class Preset:
    """Blocked categories, safe search and bedtime for one age band."""

    def __init__(
        self, categories: tuple[str, ...], safe_search: SafeSearch, offline: tuple[Window, ...]
    ) -> None:
        self.categories = categories
        self.block_mask = mask_of(categories)
        self.safe_search = safe_search
        self.offline = offline


def _bedtime(school: tuple[int, int], weekend: tuple[int, int] | None) -> tuple[Window, ...]:
    windows = [Window(SCHOOL_NIGHTS, *school)]
    if weekend is not None:
        windows.append(Window(WEEKEND_NIGHTS, *weekend))
    return tuple(windows)


def _hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


PRESETS: dict[str, Preset] = {
    "under_9": Preset(
        (*HARMFUL, "social", "messaging", "ai_chat"),
        SafeSearch(youtube=YouTube.STRICT),
        _bedtime((_hm("19:30"), _hm("07:00")), (_hm("20:00"), _hm("07:30"))),
    ),
    "9_12": Preset(
        (*HARMFUL, "social", "messaging", "ai_chat"),
        SafeSearch(youtube=YouTube.STRICT),
        _bedtime((_hm("20:30"), _hm("07:00")), (_hm("21:30"), _hm("07:30"))),
    ),
    "13_15": Preset(
        (*HARMFUL, "ai_chat"),
        SafeSearch(youtube=YouTube.MODERATE),
        _bedtime((_hm("22:00"), _hm("07:00")), (_hm("23:00"), _hm("08:00"))),
    ),
    "16_17": Preset(
        HARMFUL,
        SafeSearch(youtube=YouTube.MODERATE),
        _bedtime((_hm("23:30"), _hm("06:30")), None),
    ),
}
AGE_BANDS = tuple(PRESETS)
# Each band as people read it: the dashboard's choices, the rule-change lines, the audit trail.
AGE_BAND_LABELS: dict[str, str] = {
    "under_9": "Under 9",
    "9_12": "9 to 12",
    "13_15": "13 to 15",
    "16_17": "16 to 17",
}


def age_words(band: str) -> str:
    """'age 9 to 12': a band in a sentence (a band this release does not know, as written)."""
    return "age " + AGE_BAND_LABELS.get(band, band.replace("_", " ")).lower()


# Devices nobody has registered: a teenager's second phone must not be a way round the rules,
# so they get the youngest preset's categories, strict safe search and a night-time cut-off.
STRICT_PRESET = Preset(
    PRESETS["under_9"].categories,
    SafeSearch(youtube=YouTube.STRICT),
    (Window(frozenset(range(7)), _hm("22:00"), _hm("06:00")),),
)
