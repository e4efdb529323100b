"""The fixed set of categories carers choose from. Identifiers and bits are stable forever:
they are stored in compiled indexes, rules files and the query log."""

from __future__ import annotations

from typing import NamedTuple


class Category(NamedTuple):
    id: str
    bit: int
    description: str  # one line a carer understands

    @property
    def label(self) -> str:
        """The category's name as a person reads it in a sentence, on every page and alert."""
        return label_of(self.id)


CATEGORIES: tuple[Category, ...] = (
    Category("illegal", 0, "Child sexual abuse material and terrorist content. Always blocked."),
    Category("adult", 1, "Pornography and sexually explicit sites."),
    Category("gambling", 2, "Betting, casinos, lotteries and loot-box gambling."),
    Category("self_harm", 3, "Sites that encourage suicide or self-harm."),
    Category("eating_disorders", 4, "Pro-anorexia and pro-bulimia communities."),
    Category("extremism", 5, "Violent extremist and radicalising material."),
    Category("hate", 6, "Racist, misogynist and other hate sites."),
    Category("drugs", 7, "Selling or promoting illegal drugs."),
    Category("weapons_violence", 8, "Weapons sales and graphic violence or gore."),
    Category("malware_phishing", 9, "Viruses, phishing and other dangerous sites."),
    Category("scams", 10, "Fake shops, get-rich-quick and other scams."),
    Category("piracy", 11, "Illegal downloads and streaming of films, music and games."),
    Category("dating", 12, "Dating and hook-up sites and apps, where adults meet strangers."),
    Category("social", 13, "Social media: TikTok, Instagram, Snapchat, Facebook and the like."),
    Category("messaging", 14, "Chat and messaging apps: WhatsApp, Discord, Telegram and the like."),
    Category("gaming", 15, "Online games and game stores."),
    Category("streaming", 16, "Video and music streaming: YouTube, Netflix, Twitch and the like."),
    Category("ai_chat", 17, "AI chatbots and companion apps."),
    Category(
        "bypass", 18, "VPNs, proxies, encrypted-DNS services and Tor that get round the filter."
    ),
    Category(
        "stranger_chat",
        19,
        "Random video and text chat with strangers (Omegle-style): a way adults reach children.",
    ),
)
BY_ID = {c.id: c for c in CATEGORIES}
# Where a category's name is not just its id with spaces (pages, alerts, reports, the audit
# trail all use label_of, so the words are the same everywhere).
_LABELS = {
    "illegal": "illegal content",
    "self_harm": "self-harm",
    "weapons_violence": "weapons or violence",
    "malware_phishing": "malware or phishing",
    "ai_chat": "AI chat",
    "bypass": "filter bypass",
}


def label_of(category: str) -> str:
    """A category id as a person reads it ("self-harm", "AI chat"); an unknown id with spaces."""
    return _LABELS.get(category, category.replace("_", " "))


ALWAYS_BLOCKED = frozenset({"illegal"})
# Categories where a blocked request may be a sign that a child is at risk of harm (suicide and
# self-harm, eating disorders, radicalisation, sexual exploitation, drugs and county lines,
# violence, hate, contact with adult strangers, gambling, illegal content). The safeguarding
# lead sees these first, they raise the unreviewed alert, and viewers do not see them. The
# order is the one filterd.db's partial index of them is written in.
HIGH_RISK: tuple[str, ...] = (
    "self_harm",
    "eating_disorders",
    "extremism",
    "adult",
    "drugs",
    "weapons_violence",
    "hate",
    "dating",
    "gambling",
    "illegal",
    "bypass",  # a child getting round the filter (VPN, proxy, encrypted DNS) is a warning sign
    "stranger_chat",
)


def mask_of(ids: list[str] | tuple[str, ...] | frozenset[str]) -> int:
    """Bit mask of category ids (unknown ids raise KeyError: validate first)."""
    mask = 0
    for category_id in ids:
        mask |= 1 << BY_ID[category_id].bit
    return mask


def ids_of(mask: int) -> list[str]:
    """Category ids in a mask, in the fixed order."""
    return [c.id for c in CATEGORIES if mask >> c.bit & 1]
