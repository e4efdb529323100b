"""A rules file that is not a regular file (a named pipe) is refused at once, not waited on.

Found from outside: the watcher opened the rules file and waited for a writer when it was a
FIFO, so its thread hung and no later edit was ever applied (check-config hung as well). Now
it is refused with the reason and the rules in force stay; a regular file after it applies."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from filterd.rules.watch import RulesFileWatch

GOOD = """\
timezone: Europe/London
children:
  sam: {name: Sam, age_band: 9_12}
devices:
  - {ip: 192.168.1.20, name: "Sam's tablet", owner: sam}
end_of_rules: true
"""


def read_with_timeout(watch: RulesFileWatch, path: Path):
    result: list = []
    reader = threading.Thread(target=lambda: result.append(watch.read(None)), daemon=True)
    reader.start()
    reader.join(2.0)
    stuck = reader.is_alive()
    if stuck:  # the old code waits for a writer: give it one so the thread ends
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(2.0)
    return stuck, result


def test_a_named_pipe_as_the_rules_file_is_refused_without_waiting(tmp_path) -> None:
    path = tmp_path / "rules.yaml"
    os.mkfifo(path)
    watch = RulesFileWatch(path, tmp_path / "rules.last-good.yaml")
    stuck, result = read_with_timeout(watch, path)
    assert not stuck, "reading the rules file waited on a named pipe"
    (reading,) = result
    assert reading.rules is None
    assert reading.problems == ["(file): not a regular file (a named pipe or a device?)"]

    path.unlink()
    path.write_text(GOOD)
    assert list(watch.read(None).rules.children) == ["sam"]
