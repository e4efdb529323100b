"""Discovery's metrics: packets skipped, devices found, whether it listens on the LAN."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from filterd.discovery.service import Discovery
from filterd.metrics import labelled


def families(discovery: Discovery) -> Iterator[Metric]:
    yield labelled(
        CounterMetricFamily,
        "filterd_discovery_malformed_packets",
        "ARP, DHCP and neighbour-discovery packets skipped as malformed, by problem.",
        ["problem"],
        {(problem,): n for problem, n in dict(discovery.malformed).items()},
    )
    yield CounterMetricFamily(
        "filterd_discovery_new_devices", "Devices seen for the first time.", discovery.new_devices
    )
    yield GaugeMetricFamily(
        "filterd_discovery_capturing",
        "1 when discovery listens on the LAN interface; 0: neighbour table only.",
        int(discovery.capturing),
    )
    yield GaugeMetricFamily(
        "filterd_discovery_addresses",
        "Addresses whose device (MAC) is known.",
        len(discovery.addresses),
    )
