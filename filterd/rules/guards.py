"""Guards that stop an accidental rules file from being applied.

A rules file cut short by a crash, a full disk or an interrupted copy can still be valid YAML
(cut before `devices:` and every device is gone; cut inside a child and their rules vanish).
So a whole rules file ends with the line END_LINE, written last by the dashboard and by hand:
a file that does not end with it (and a line break) was not written to the end and is refused,
whatever byte it was cut at. Only blank lines and comments may follow it.

A change that removes every child or every device at once is applied only when the file says
so with `children: none` / `devices: none`; an empty section where the rules in force had some
is refused, since a slip of the editor or a bad copy looks just like that.
"""

from __future__ import annotations

from filterd.rules.model import Rules

END_KEY = "end_of_rules"
END_LINE = f"{END_KEY}: true"
NONE_WORD = "none"  # `children: none` / `devices: none`: empty on purpose

CUT_SHORT = (
    f"{END_KEY}: missing from the end of the file, so it may have been cut short (a crash, a"
    " full disk or an interrupted copy) and the rules in force stay. If you edited the file by"
    f" hand, make `{END_LINE}` its last line, after everything else"
)


def cut_short_problems(text: str) -> list[str]:
    """[] when the text ends with END_LINE and a line break (then only blanks and comments)."""
    if not text.endswith("\n"):
        return [CUT_SHORT]
    for line in reversed(text.split("\n")):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _without_comment(line) == END_LINE:
            return []
        break
    return [CUT_SHORT]


def _without_comment(line: str) -> str:
    """The line without a trailing `# comment` (YAML needs a space before the #). A comment
    on the end line is written after it, so a cut inside it still leaves no final line break
    and is refused."""
    code, space_hash, _ = line.partition(" #")
    return (code if space_hash else line).rstrip()


def with_end_line(text: str) -> str:
    """A whole rules file from YAML text (which must not carry the end line already)."""
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{text}{END_LINE}\n"


def sudden_emptying(in_force: Rules | None, new: Rules) -> list[str]:
    """Problems when `new` empties a section the rules in force had, without saying so."""
    if in_force is None:
        return []
    problems = []
    if in_force.children and not new.children and "children" not in new.emptied:
        problems.append(
            f"children: every child ({len(in_force.children)}) would be removed at once; if"
            f" that is meant, write `children: {NONE_WORD}`"
        )
    if in_force.devices and not new.devices and "devices" not in new.emptied:
        problems.append(
            f"devices: every device ({len(in_force.devices)}) would be removed at once; if"
            f" that is meant, write `devices: {NONE_WORD}`"
        )
    return problems
