"""Which helplines a block page shows: Childline always, and the services that fit what was
blocked. Their sites are on blocklists/helplines.txt, so they are never blocked or logged."""

from __future__ import annotations

from typing import NamedTuple


class Helpline(NamedTuple):
    name: str
    what: str  # one line a child understands: who they are for
    phone: str
    site: str  # host name; the page links to https://site/


CHILDLINE = Helpline(
    "Childline",
    "Free and private, for anything that worries you. What you say stays between you and"
    " them, unless they think someone is in danger and needs help to be safe.",
    "0800 1111",
    "www.childline.org.uk",
)
SAMARITANS = Helpline(
    "Samaritans", "Someone to talk to, any time, day or night.", "116 123", "www.samaritans.org"
)
PAPYRUS = Helpline(
    "Papyrus HOPELINE247",
    "For young people who are thinking about suicide, or worried about a friend.",
    "0800 068 4141",
    "www.papyrus-uk.org",
)
BEAT = Helpline(
    "Beat Youthline",
    "For worries about eating, food or how your body looks.",
    "0808 801 0711",
    "www.beateatingdisorders.org.uk",
)
FRANK = Helpline(
    "FRANK",
    "Honest facts about drugs, and someone to talk to about them.",
    "0300 123 6600",
    "www.talktofrank.com",
)

# Categories where a blocked visit may mean a child needs help: the block page offers these
# (after Childline). Other categories show Childline alone.
BY_CATEGORY: dict[str, tuple[Helpline, ...]] = {
    "self_harm": (SAMARITANS, PAPYRUS),
    "eating_disorders": (BEAT,),
    "drugs": (FRANK,),
    "extremism": (),
    "hate": (),
    "adult": (),
}


def helplines_for(categories: tuple[str, ...]) -> tuple[Helpline, ...]:
    """Childline first, then each fitting service once, in a fixed order."""
    found = [CHILDLINE]
    for category in categories:
        for helpline in BY_CATEGORY.get(category, ()):
            if helpline not in found:
                found.append(helpline)
    return tuple(found)


def needs_help_section(categories: tuple[str, ...]) -> bool:
    """A category where the page leads with "you can talk to someone" rather than a footnote."""
    return any(category in BY_CATEGORY for category in categories)
