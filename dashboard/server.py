"""`filterd dashboard`: HTTPS for the dashboard and, if configured, the plain-HTTP listener.

Served by cheroot, a maintained, pure-Python, threaded WSGI server with TLS built in (waitress,
used before, has no TLS at all and expects a reverse proxy; gunicorn has TLS but forks worker
processes, each holding a copy of the app, which a 512 MB box cannot spare). Both listeners
run in this one process, each with its own thread pool, beside the alerts notifier's thread.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from cheroot import wsgi

from dashboard import certificates
from dashboard.client_address import unmapped
from dashboard.plain_http import make_plain_app
from dashboard.settings import dashboard_settings
from dashboard.tls_adapter import DeferredHandshakeSSLAdapter, HandshakeInWorker
from filterd.config import Config

THREADS = 8
log = logging.getLogger("filterd.dashboard")


def _address(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def serve(config: Config, config_path: Path | None = None) -> int:
    from dashboard.alerts.notifier import Notifier
    from dashboard.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = dashboard_settings(config)
    try:
        found = certificates.ensure(settings)
    except certificates.CertificateError as err:
        print(err, file=sys.stderr)
        return 1
    for line in certificates.describe(found):
        log.info("%s", line)
    from dashboard.child_side.app import create_child_app
    from dashboard.child_side.over_https import with_child_page

    host, port = _address(settings.listen)
    child_side = create_child_app(config)  # the child's own page, over HTTPS too (HSTS)
    served = with_child_page(create_app(config, config_path), child_side, settings.allowed_hosts)
    served = unmapped(served)  # on [::] an IPv4 phone is still its IPv4 address
    https = wsgi.Server((host, port), served, numthreads=THREADS)
    https.ssl_adapter = DeferredHandshakeSSLAdapter(str(found.certificate), str(found.key))
    https.ConnectionClass = HandshakeInWorker  # a silent client must not hold the door
    servers = [https]
    if settings.http_listen:
        plain = make_plain_app(settings, found.ca, other_hosts=child_side)
        # The block page and the child's page: as many workers as the dashboard, so two or three
        # silent connections cannot hold them up (they had two).
        servers.append(
            wsgi.Server(_address(settings.http_listen), unmapped(plain), numthreads=THREADS)
        )

    def stop(_signal: int, _frame: FrameType | None) -> None:
        for server in servers:
            threading.Thread(target=server.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for server in servers:
        server.prepare()  # binds now: a port in use fails here, before anything is served
    shown = f"[{host}]" if ":" in host else host
    print(f"dashboard on https://{shown}:{port}/", flush=True)
    if settings.http_listen:
        print(
            f"plain HTTP on {settings.http_listen} (the block page; sends the dashboard to HTTPS)",
            flush=True,
        )
    threads = [threading.Thread(target=s.serve, daemon=True) for s in servers[1:]]
    for thread in threads:
        thread.start()
    notifier = Notifier(config, settings)  # alerts go out while the dashboard serves
    notifier.start()
    try:
        https.serve()
    finally:
        notifier.stop()
    for thread in threads:
        thread.join(timeout=5)
    return 0
