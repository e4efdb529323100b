"""Generate the query file at run time, so the same names go to every server and nothing
large is committed."""

from __future__ import annotations

from pathlib import Path

NAME_COUNT = 10_000
DOMAIN = "bench.test"
PROBE_NAME = f"ready.{DOMAIN}"
"""Name used to check a server is up; outside the measured set so it does not warm it."""


def write_query_file(directory: Path, count: int = NAME_COUNT) -> Path:
    """Write ``count`` distinct A queries in dnsperf's 'name type' format."""
    path = directory / "queries.txt"
    with open(path, "w", encoding="ascii") as f:
        for i in range(count):
            f.write(f"www.site{i}.{DOMAIN} A\n")
    return path
