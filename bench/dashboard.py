"""Dashboard benchmark: page times with a month of query log (issue 6).

Builds (once, cached in the temp directory as filterd-bench-dashboard-<N>m/) a filterd.db
holding 5,000,000 query-log rows spread over the last 30 days for 4 children and 10 devices
plus unknown devices (8% blocked, categories on ~15% of rows), a month of usage rows, and a
rules file with those children; then, with Flask's test client signed in as an administrator on a
fresh
dashboard.db, times the home page and the blocked-request log (the default 24 h view and the
30-day view): the first request of a new app (cold: templates compiled, connections opened;
the OS page cache is warm after the build) and the median of WARM_REQUESTS after it.

The log's rows are written the way filterd's writer writes them (ids in time order) and the
indexes are the ones `querylog_writer.open_database` creates. A cached database is reused
while it is younger than CACHE_HOURS, so the last 24 hours still hold a day of activity.
`--quick` uses 1,000,000 rows.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench import machine
from bench.machine import Pinning
from bench.options import RunOptions
from bench.report import fmt, format_table, target_lines
from filterd.db.querylog_writer import INSERT, open_database
from filterd.db.schema import QUERY_INDEXES, SCHEMA_VERSION, TABLES
from filterd.db.usage_status import UsageStatusDb
from filterd.rules.guards import with_end_line

NAME = "dashboard"

ROWS = 5_000_000
QUICK_ROWS = 1_000_000
DAYS = 30
CACHE_HOURS = 6.0
"""A cached database older than this is rebuilt: the windows measured are relative to now."""
WARM_REQUESTS = 7
TARGET_MS = 300.0
CHUNK = 250_000
SEED = 6

BLOCKED_SHARE = 0.08
CATEGORISED_SHARE = 0.15
UNKNOWN_DEVICE_SHARE = 0.10
BLOCKED_REASON_WEIGHTS = {
    "blocked": 60,
    "offline": 15,
    "limit": 10,
    "denied": 7,
    "paused": 5,
    "walled_garden": 3,
}
ANSWERED_REASON_WEIGHTS = {"cached": 55, "forwarded": 45}
CATEGORY_WEIGHTS = {
    # everyday categories dominate; the high-risk ones are rare
    "social": 30,
    "streaming": 22,
    "gaming": 20,
    "messaging": 12,
    "ai_chat": 5,
    "scams": 2,
    "malware_phishing": 2,
    "piracy": 2,
    "adult": 1.5,
    "gambling": 1,
    "dating": 0.6,
    "drugs": 0.4,
    "weapons_violence": 0.4,
    "self_harm": 0.3,
    "eating_disorders": 0.2,
    "hate": 0.2,
    "extremism": 0.1,
    "illegal": 0.05,
}
CHILDREN = {
    "amy": {"name": "Amy", "age_band": "9_12", "limits": {"overall": "3h", "gaming": "1h"}},
    "ben": {"name": "Ben", "age_band": "13_15", "limits": {"overall": "4h"}},
    "cat": {"name": "Cat", "age_band": "13_15", "limits": {"social": "2h"}},
    "dan": {"name": "Dan", "age_band": "16_17"},
}
DEVICES = [
    ("192.168.1.20", "Amy's tablet", "amy"),
    ("192.168.1.21", "Amy's phone", "amy"),
    ("192.168.1.22", "Ben's phone", "ben"),
    ("192.168.1.23", "Ben's laptop", "ben"),
    ("192.168.1.24", "Ben's console", "ben"),
    ("192.168.1.25", "Cat's phone", "cat"),
    ("192.168.1.26", "Cat's laptop", "cat"),
    ("192.168.1.27", "Dan's phone", "dan"),
    ("192.168.1.28", "Dan's laptop", "dan"),
    ("192.168.1.29", "Dan's tablet", "dan"),
]
UNKNOWN_CLIENTS = [f"192.168.1.{n}" for n in range(100, 106)]
NAME_COUNT = 20_000
USAGE_CATEGORIES = ("overall", "gaming", "social", "streaming")
ADMIN = "bench-admin"

PAGES = {
    "home (/)": "/",
    "blocked log, 24 h (/blocked/)": "/blocked/",
    "blocked log, 30 days (/blocked/?range=30d)": "/blocked/?range=30d",
}


def _rules() -> dict[str, Any]:
    return {
        "timezone": "Europe/London",
        "unknown_devices": "household",
        "children": CHILDREN,
        "devices": [{"ip": ip, "name": name, "owner": owner} for ip, name, owner in DEVICES],
    }


def _pick(weights: dict[str, float], rng: random.Random, k: int) -> list[str]:
    return rng.choices(list(weights), weights=list(weights.values()), k=k)


def _rows(count: int, start: float, end: float, rng: random.Random):
    """Chunks of query-log tuples in time order (the writer's ids follow time)."""
    names = [f"www.site{n}.example" for n in range(NAME_COUNT)]
    span = (end - start) / max(1, count // CHUNK + (count % CHUNK > 0))
    chunk_start = start
    left = count
    while left > 0:
        n = min(CHUNK, left)
        stamps = sorted(rng.uniform(chunk_start, chunk_start + span) for _ in range(n))
        blocked = _pick(BLOCKED_REASON_WEIGHTS, rng, n)
        answered = _pick(ANSWERED_REASON_WEIGHTS, rng, n)
        categories = _pick(CATEGORY_WEIGHTS, rng, n)
        extra = _pick(CATEGORY_WEIGHTS, rng, n)
        rows = []
        for i, ts in enumerate(stamps):
            if rng.random() < UNKNOWN_DEVICE_SHARE:
                client, child = rng.choice(UNKNOWN_CLIENTS), ""
            else:
                client, _, child = DEVICES[rng.randrange(len(DEVICES))]
            is_blocked = rng.random() < BLOCKED_SHARE
            reason = blocked[i] if is_blocked else answered[i]
            # category blocks always name a category; otherwise ~15% of rows overall have one
            if reason == "blocked" or rng.random() < CATEGORISED_SHARE:
                cats = categories[i]
                if rng.random() < 0.1 and extra[i] != cats:
                    cats = f"{cats},{extra[i]}"
            else:
                cats = ""
            rows.append(
                (
                    ts,
                    client,
                    names[int(rng.paretovariate(1.2)) % NAME_COUNT],
                    "AAAA" if rng.random() < 0.3 else "A",
                    "NOERROR",
                    reason,
                    round(rng.uniform(0.1, 40.0), 2),
                    int(reason == "cached"),
                    cats,
                    child,
                )
            )
        yield rows
        left -= n
        chunk_start += span


def build(directory: Path, count: int) -> dict[str, Any]:
    """filterd.db (query log, usage, status) and rules.yaml in `directory`; returns the meta."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    started = time.perf_counter()
    end = time.time()
    start = end - DAYS * 86_400
    rng = random.Random(SEED)
    path = directory / "filterd.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    # the tables exactly as filterd creates them, but the indexes only after the bulk insert
    db.executescript(TABLES)
    for rows in _rows(count, start, end, rng):
        db.execute("BEGIN")
        db.executemany(INSERT, rows)
        db.execute("COMMIT")
    db.executescript(QUERY_INDEXES)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    db.commit()
    db.close()
    usage = []
    for day in range(DAYS + 1):
        stamp = time.strftime("%Y-%m-%d", time.localtime(start + day * 86_400))
        for child in CHILDREN:
            for category in USAGE_CATEGORIES:
                minutes = rng.randint(10, 240 if category == "overall" else 90)
                usage.append((stamp, child, category, minutes, int(end // 60)))
    state = UsageStatusDb(path)  # usage and status through filterd's own writer, as the daemon does
    try:
        state.write_usage(usage)
        state.set_status("rules", {"ok": True, "problems": [], "checked": end})
    finally:
        state.close()
    inserted = time.perf_counter() - started
    open_database(path).close()  # the real writer's indexes, WAL mode and statistics
    meta = {
        "rows": count,
        "generated_unix": end,
        "insert_seconds": round(inserted, 1),
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    (directory / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    (directory / "rules.yaml").write_text(with_end_line(yaml.safe_dump(_rules())), encoding="utf-8")
    return meta


def ensure_data(directory: Path, count: int) -> tuple[dict[str, Any], bool]:
    """The cached data set if it is fresh and the right size, else a new one; (meta, reused)."""
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        fresh = time.time() - meta["generated_unix"] < CACHE_HOURS * 3600
        if meta["rows"] == count and fresh and (directory / "filterd.db").exists():
            open_database(directory / "filterd.db").close()  # any index added since the build
            return meta, True
    except (OSError, ValueError, KeyError):
        pass
    return build(directory, count), False


def _app(directory: Path):
    """A dashboard on the data set with a fresh dashboard.db, and a signed-in client."""
    from tests.support.dashboard_app import logged_in, make_app

    for stale in directory.glob("dashboard.db*"):
        stale.unlink()
    rules = yaml.safe_load((directory / "rules.yaml").read_text(encoding="utf-8"))
    app = make_app(directory, rules, retention_days=DAYS)
    return logged_in(app, ADMIN, "administrator")


def _time_get(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return elapsed


def measure_pages(directory: Path) -> dict[str, dict[str, Any]]:
    """Cold (first request of a new app) and warm (median of WARM_REQUESTS) per page."""
    results = {}
    for label, url in PAGES.items():
        client = _app(directory)  # a new app per page, so each page's first request is cold
        cold = _time_get(client, url)
        warm = [_time_get(client, url) for _ in range(WARM_REQUESTS)]
        results[label] = {
            "url": url,
            "cold_ms": round(cold, 1),
            "warm_median_ms": round(statistics.median(warm), 1),
            "warm_ms": [round(w, 1) for w in warm],
        }
    return results


def run(options: RunOptions, pinning: Pinning) -> dict[str, Any]:
    del pinning  # main has already pinned this process; there is no server to place
    count = QUICK_ROWS if options.quick else ROWS
    directory = Path(tempfile.gettempdir()) / f"filterd-bench-dashboard-{count // 1_000_000}m"
    print(f"[{NAME}] data set: {count:,} rows over {DAYS} days in {directory}", flush=True)
    meta, reused = ensure_data(directory, count)
    print(
        f"[{NAME}] {'reused cached' if reused else 'built'} data set"
        + ("" if reused else f" in {meta['build_seconds']} s"),
        flush=True,
    )
    db_bytes = sum(p.stat().st_size for p in directory.glob("filterd.db*"))
    waited, busy_before = machine.wait_quiet(options.durations.max_quiet_wait_seconds)
    before = machine.cpu_times()
    pages = measure_pages(directory)
    busy_during = machine.busy_since(before)
    reliable = max(busy_before.values(), default=0.0) <= machine.QUIET
    targets = []
    for label, result in pages.items():
        for kind in ("warm_median_ms", "cold_ms"):
            which = "warm, median" if kind == "warm_median_ms" else "cold, first request"
            targets.append(
                {
                    "target": f"{label} ({which}) < {TARGET_MS:g} ms",
                    "value": result[kind],
                    "pass": result[kind] < TARGET_MS,
                    "reliable": reliable,
                }
            )
    return {
        "settings": {
            "rows": count,
            "days": DAYS,
            "children": len(CHILDREN),
            "devices": len(DEVICES),
            "unknown_clients": len(UNKNOWN_CLIENTS),
            "blocked_share": BLOCKED_SHARE,
            "categorised_share": CATEGORISED_SHARE,
            "warm_requests": WARM_REQUESTS,
        },
        "data": {**meta, "reused": reused, "db_bytes": db_bytes},
        "quiet_wait_seconds": waited,
        "busy_before": busy_before,
        "busy_during": busy_during,
        "pages": pages,
        "targets": targets,
    }


def failed(data: dict[str, Any]) -> bool:
    """Nothing here can half-fail: a page that errors raises and the run is reported."""
    del data
    return False


def summary(data: dict[str, Any]) -> str:
    """Data set line, page table, PASS/MISS lines."""
    d = data["data"]
    lines = [
        f"dashboard with {d['rows']:,} query-log rows over {data['settings']['days']} days: "
        f"filterd.db {fmt(d['db_bytes'] / 2**20, 0)} MiB"
        + (" (cached)" if d["reused"] else f", built in {d['build_seconds']} s"),
        "",
    ]
    rows = [
        [label, fmt(r["cold_ms"], 1), fmt(r["warm_median_ms"], 1)]
        for label, r in data["pages"].items()
    ]
    lines.append(format_table(["page", "cold ms", "warm median ms"], rows))
    lines.append("")
    lines += target_lines(data["targets"])
    return "\n".join(lines)
