"""Options shared by every benchmark, so a new benchmark module needs no argument parsing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SERVERS: tuple[str, ...] = ("filterd", "dnsmasq")
"""The servers compared side by side; --only picks one of them."""

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"


@dataclass(frozen=True)
class Durations:
    """How long each measured phase runs; --quick shortens them for a smoke run."""

    saturate_seconds: float
    latency_seconds: float
    max_quiet_wait_seconds: float  # before each server, wait this long at most for idle CPUs


FULL = Durations(saturate_seconds=15, latency_seconds=10, max_quiet_wait_seconds=30)
QUICK = Durations(saturate_seconds=4, latency_seconds=4, max_quiet_wait_seconds=5)


@dataclass(frozen=True)
class RunOptions:
    """What the command line asked for."""

    quick: bool
    servers: tuple[str, ...]
    results_dir: Path = RESULTS_DIR
    baselines: tuple[Path, ...] = ()  # other checkouts to compare with (forwarder, cpu_per_query)

    @property
    def durations(self) -> Durations:
        """Phase lengths for this run."""
        return QUICK if self.quick else FULL


def variants(options: RunOptions) -> list[tuple[str, str, Path | None]]:
    """(label, server, checkout) for each server measured: dnsmasq, filterd, the baselines
    (labelled by their directory's name)."""
    found: list[tuple[str, str, Path | None]] = []
    if "dnsmasq" in options.servers:
        found.append(("dnsmasq", "dnsmasq", None))
    if "filterd" in options.servers:
        found.append(("filterd", "filterd", None))
        for i, tree in enumerate(options.baselines):
            label = tree.resolve().name
            found.append(
                (label if label not in ("filterd", "dnsmasq") else f"baseline{i}", "filterd", tree)
            )
    return found
