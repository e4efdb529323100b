"""TLS for cheroot with the handshake done by the connection's worker, not the accepting thread.

cheroot's BuiltinSSLAdapter completes the TLS handshake inside `wrap`, which its server calls
from the one thread that accepts every connection. A client that connects and sends nothing
(one line of script on the Wi-Fi) held that thread for the whole socket timeout, ten seconds
each, so a few such connections kept every carer off the dashboard. Here the socket is wrapped
without the handshake and HandshakeInWorker does it first thing in the worker thread that
serves the connection: a silent client holds one worker for the timeout, never the door.
"""

from __future__ import annotations

import logging
import socket
import ssl
from typing import Any

from cheroot import errors
from cheroot.server import HTTPConnection
from cheroot.ssl.builtin import BuiltinSSLAdapter


class DeferredHandshakeSSLAdapter(BuiltinSSLAdapter):
    """TLS as BuiltinSSLAdapter sets it up (certificate, key, protocols), minus the handshake."""

    def wrap(self, sock: socket.socket) -> tuple[ssl.SSLSocket, dict[str, Any]]:
        try:
            wrapped = self.context.wrap_socket(
                sock, do_handshake_on_connect=False, server_side=True
            )
        except OSError as err:  # the peer went away before anything was done
            raise errors.FatalSSLAlert(*err.args) from err
        # Nothing negotiated yet, so no cipher to report: the app needs only the scheme.
        return wrapped, {"wsgi.url_scheme": "https", "HTTPS": "on"}


class HandshakeInWorker(HTTPConnection):
    """An HTTPS connection that completes its TLS handshake before its first request."""

    handshaken = False

    def communicate(self) -> bool:
        if not self.handshaken and isinstance(self.socket, ssl.SSLSocket):
            try:
                self.socket.do_handshake()  # bounded by the server's socket timeout
            except (OSError, ValueError) as err:  # silent, plain HTTP, or gone: one line
                self.server.error_log(
                    f"TLS handshake with {self.remote_addr} failed: {err}", level=logging.INFO
                )
                return False
            self.handshaken = True
        return super().communicate()
