"""Run the self-test against filterd's own listen address and keep the result as an event.

Each check asks filterd a real question over UDP from this box, as a device would: names of
each category the household blocks must come back blocked (Extended DNS Error 15 or 17, or the
blocked answer), the encrypted-DNS canaries must get NXDOMAIN, and a category that is set to
be blocked but that no list has a name for is reported, since it blocks nothing.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any, NamedTuple

from dnslib import EDNS0, QTYPE, RCODE, DNSRecord

from filterd.config import Config
from filterd.lists.categories import label_of
from filterd.rules.parse import load_rules
from filterd.selftest.marker import option, read_secret
from filterd.selftest.samples import sample_names, standing_notice, uncovered

TIMEOUT = 3.0
CANARIES = ("use-application-dns.net", "mask.icloud.com")
BLOCKED_EDE = (15, 17)


class Check(NamedTuple):
    name: str  # what was checked, in plain words
    ok: bool
    detail: str
    notice: bool = False  # a standing notice (the illegal tier's licensed list), not a problem


def ask(host: str, port: int, name: str, secret: bytes | None = None) -> DNSRecord | None:
    """Ask as a device would; with the running filterd's secret, the question is marked as
    this self-test's, so filterd answers it without logging it (filterd.selftest.marker)."""
    query = DNSRecord.question(name, "A")
    query.add_ar(EDNS0(udp_len=1232, opts=[option(secret)] if secret else []))
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        with contextlib.suppress(OSError):  # from loopback even to a LAN address: the mark
            sock.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))  # needs it
        sock.sendto(query.pack(), (host, port))
        try:
            reply = DNSRecord.parse(sock.recv(4096))
        except (TimeoutError, OSError):
            return None
    return reply if reply.header.id == query.header.id else None


def blocked(reply: DNSRecord, block_page: str | None) -> bool:
    for rr in reply.ar:
        if rr.rtype == QTYPE.OPT:
            for option in rr.rdata:
                if option.code == 15 and int.from_bytes(option.data[:2], "big") in BLOCKED_EDE:
                    return True
    addresses = [str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A]
    return addresses in (["0.0.0.0"], [block_page]) or reply.header.rcode == RCODE.NXDOMAIN


def run(config: Config) -> list[Check]:
    target = config.listen[0]
    host = "127.0.0.1" if target.host in ("0.0.0.0", "") else target.host
    host = "::1" if host == "::" else host
    lists = config.blocklists
    secret = read_secret(config.database)
    checks: list[Check] = []
    household = sorted(lists.block_categories)
    children: set[str] = set()
    if config.rules is not None:
        try:
            rules = load_rules(config.rules)
        except Exception:  # the rules' own problems are Health's other line
            rules = None
        if rules is not None:
            from filterd.lists.categories import ids_of

            for profile in rules.children.values():
                children.update(ids_of(profile.block_mask))
    for category in sorted(set(household) | children):
        names = sample_names(lists, category)
        label = label_of(category)
        if not names:
            notice = standing_notice(lists, category)
            if notice is not None:
                checks.append(Check(f"{label}: covered by a list", True, notice, notice=True))
                continue
            detail = uncovered(lists, category)
            checks.append(Check(f"{label}: covered by a list", False, detail))
            continue
        if category not in household:
            checks.append(Check(f"{label}: covered by a list", True, f"{len(names)} names tried"))
            continue  # blocked per child: a child's device answers for it, not this box
        missed = []
        for name in names:
            reply = ask(host, target.port, name, secret)
            if reply is None:
                checks.append(Check(f"{label}: blocked", False, "filterd did not answer"))
                break
            if not blocked(reply, lists.blocked_answer.ipv4):
                missed.append(name)
        else:
            ok = not missed
            detail = f"{len(names)} names blocked" if ok else "answered: " + ", ".join(missed)
            checks.append(Check(f"{label}: blocked", ok, detail))
    for canary in CANARIES:
        reply = ask(host, target.port, canary, secret)
        ok = reply is not None and reply.header.rcode == RCODE.NXDOMAIN
        checks.append(
            Check(f"encrypted-DNS canary {canary}", ok, "NXDOMAIN" if ok else "not NXDOMAIN")
        )
    return checks


def summary(checks: list[Check], started: float) -> dict[str, Any]:
    return {
        "ok": all(c.ok for c in checks),
        "seconds": round(time.time() - started, 3),
        "checks": [c._asdict() for c in checks],
    }


def run_and_record(config: Config) -> dict[str, Any]:
    """Run the self-test and append its result to the event log (a failure as a warning)."""
    from filterd.db.events import EventLog
    from filterd.events.kinds import SELFTEST_FAILED, SELFTEST_RESULT

    started = time.time()
    result = summary(run(config), started)
    log = EventLog(config.database, "filterd")
    try:
        log.append(SELFTEST_RESULT if result["ok"] else SELFTEST_FAILED, data=result)
    finally:
        log.close()
    return result
