"""Each category in words a 9-year-old understands, for the block page. The carers' own
descriptions (filterd.lists.categories) are the source; these say the same thing plainly."""

from __future__ import annotations

from filterd.lists.categories import BY_ID, label_of

CHILD_WORDS: dict[str, str] = {
    "illegal": "it has things on it that are against the law",
    "adult": "it is for grown-ups only",
    "gambling": "it is for betting money",
    "self_harm": "it has things on it about hurting yourself",
    "eating_disorders": "it has harmful ideas about eating and food",
    "extremism": "it tries to make people believe in violence",
    "hate": "it is nasty about people because of who they are",
    "drugs": "it is about illegal drugs",
    "weapons_violence": "it has weapons or frightening violence on it",
    "malware_phishing": "it could harm this device or trick you into giving away passwords",
    "scams": "it tries to trick people out of their money",
    "piracy": "it shares films, music or games without paying for them",
    "dating": "it is for grown-ups meeting strangers",
    "social": "it is a social media site",
    "messaging": "it is a chat app",
    "gaming": "it is a games site",
    "streaming": "it is a video or music site",
    "ai_chat": "it is an AI chatbot",
    "bypass": "it is a way to get round the filter that keeps you safe",
    "stranger_chat": "it is for chatting with strangers",
}

# Categories whose daily time is spoken of as "time for ..." when a limit is spent.
TIME_FOR: dict[str, str] = {
    "gaming": "games",
    "social": "social media",
    "messaging": "chat apps",
    "streaming": "videos and music",
    "ai_chat": "AI chatbots",
}


def because(category: str) -> str:
    """Why a site in this category is blocked, as the end of a sentence ("because ...")."""
    found = CHILD_WORDS.get(category)
    if found is not None:
        return found
    known = BY_ID.get(category)
    return f"it is in the group: {known.description.rstrip('.').lower()}" if known else ""


def time_for(category: str) -> str:
    return TIME_FOR.get(category) or label_of(category)
