"""On [::] (the installed dashboard's dual-stack listener) an IPv4 phone arrives as an
IPv4-mapped address; the dashboard must still know it by its IPv4 address (its device, the
block page's child, throttles, the audit trail). Real cheroot, real sockets on loopback."""

from __future__ import annotations

import threading
import urllib.request

from cheroot import wsgi

from dashboard.client_address import unmapped
from tests.support.filterd_process import free_port


def echo_remote(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["REMOTE_ADDR"].encode()]


def test_an_ipv4_client_of_a_dual_stack_listener_is_known_by_its_ipv4_address():
    port = free_port()
    server = wsgi.Server(("::", port), unmapped(echo_remote), numthreads=2)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        over_v4 = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
        over_v6 = urllib.request.urlopen(f"http://[::1]:{port}/", timeout=5).read()
    finally:
        server.stop()
        thread.join(timeout=5)
    assert over_v4 == b"127.0.0.1"  # not ::ffff:127.0.0.1
    assert over_v6 == b"::1"
