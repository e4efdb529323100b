"""Every metric family the daemon exposes, each package's read from its own component."""

from __future__ import annotations

from pathlib import Path

from dnslib import QTYPE, RR, A, DNSRecord
from prometheus_client import generate_latest

from filterd.config import parse_config
from filterd.daemon import Daemon
from filterd.dns.query import Transport
from filterd.dns.records import decode_message
from filterd.metrics import make_registry
from tests.support.stages import packet

FAMILIES = {
    "filterd_queries_total",
    "filterd_query_duration_seconds_bucket",
    "filterd_querylog_written_total",
    "filterd_querylog_dropped_total",
    "filterd_rate_limited_total",
    "filterd_tcp_rejected_connections_total",
    "filterd_malformed_queries_total",
    "filterd_dropped_queries_total",
    "filterd_cache_hits_total",
    "filterd_cache_misses_total",
    "filterd_cache_evictions_total",
    "filterd_cache_entries",
    "filterd_cache_bytes",
    "filterd_bailiwick_stripped_records_total",
    "filterd_upstream_up",
    "filterd_blocklist_swaps_total",
    "filterd_blocklist_swap_failures_total",
    "filterd_blocklist_domains",
    "filterd_blocklist_source_failures",
    "filterd_blocklist_updated_timestamp_seconds",
    "filterd_catalogue_swap_failures_total",
    "filterd_catalogue_services",
    "filterd_rules_valid",
    "filterd_rules_children",
    "filterd_discovery_new_devices_total",
    "filterd_discovery_capturing",
    "filterd_discovery_addresses",
}


def scrape(daemon: Daemon) -> dict[str, float]:
    text = generate_latest(make_registry(daemon.metrics_collector())).decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_a_scrape_shows_every_packages_families_and_counts_what_happened(tmp_path: Path):
    config = parse_config(
        f'listen: ["127.0.0.1:1"]\nupstreams: ["127.0.0.1:2"]\ndatabase: "{tmp_path}/filterd.db"\n'
    )
    daemon = Daemon(config)
    bad = bytearray(packet("example.com"))
    bad[5] = 2  # two questions: FORMERR
    daemon.handle(bytes(bad), "192.168.1.20", Transport.UDP)
    daemon.handle(packet("example.com"), "203.0.113.9", Transport.UDP)  # an outsider
    daemon.handle(packet("example.com", "ANY"), "192.168.1.20", Transport.UDP)  # answered here
    samples = scrape(daemon)
    names = {name.partition("{")[0] for name in samples}
    assert names >= FAMILIES
    assert samples['filterd_dropped_queries_total{cause="refused_client"}'] == 1
    assert sum(v for k, v in samples.items() if k.startswith("filterd_malformed_queries")) == 1
    assert samples['filterd_upstream_up{upstream="127.0.0.1:2"}'] == 1
    assert samples['filterd_queries_total{rcode="NOERROR",reason="local"}'] == 1


def test_each_packages_own_counters_reach_the_scrape_under_their_names(tmp_path: Path):
    """Forwarding's upstream errors and stripped records, serving's TCP refusals and the
    daemon's config reloads: counted where they happen, scraped with unchanged names."""
    database = tmp_path / "filterd.db"
    config_file = tmp_path / "filterd.yaml"
    config_file.write_text(
        f'listen: ["127.0.0.1:1"]\nupstreams: ["127.0.0.1:2"]\ndatabase: "{database}"\n'
    )
    daemon = Daemon(parse_config(config_file.read_text()), config_file)
    daemon.upstream_client.on_error("127.0.0.1:2", "timeout")
    daemon.upstream_client.on_error("127.0.0.1:2", "timeout")
    answer = DNSRecord.question("news.example").reply()
    answer.add_answer(RR("news.example", QTYPE.A, rdata=A("192.0.2.1"), ttl=300))
    answer.add_answer(RR("bank.example", QTYPE.A, rdata=A("192.0.2.66"), ttl=300))
    daemon.chain.upstream.clean(b"\x04news\x07example\x00", decode_message(answer.pack()))
    config_file.write_text("listen: [nonsense\n")
    assert daemon.reload() is False
    samples = scrape(daemon)
    assert samples['filterd_upstream_errors_total{kind="timeout",upstream="127.0.0.1:2"}'] == 2
    assert samples["filterd_bailiwick_stripped_records_total"] == 1
    assert samples['filterd_config_reloads_total{outcome="failed"}'] == 1
    assert samples["filterd_tcp_rejected_connections_total"] == 0
    assert samples["filterd_rate_limited_total"] == 0
