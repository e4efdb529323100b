"""`make unit` is the seconds-long loop (README "Development"): tests/unit starts no process
and opens no socket. A test that needs either lives in tests/."""

from __future__ import annotations

import re
from pathlib import Path

UNIT = Path(__file__).resolve().parent
OUT_OF_PROCESS = re.compile(r"\bimport subprocess\b|\bsubprocess\.|\bPopen\(|\bsocket\.socket\(")


def out_of_process_lines() -> list[str]:
    return [
        f"{path.name} line {number}: {line.strip()}"
        for path in sorted(UNIT.glob("*.py"))
        if path.name != Path(__file__).name
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if OUT_OF_PROCESS.search(line)
    ]


def test_no_unit_test_starts_a_process_or_opens_a_socket():
    assert out_of_process_lines() == []


def test_the_check_sees_a_process_or_a_socket():
    for line in ("import subprocess", "proc = subprocess.run(cmd)", "s = socket.socket()"):
        assert OUT_OF_PROCESS.search(line), line
    assert not OUT_OF_PROCESS.search("a socket the daemon would open")
