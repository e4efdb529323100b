"""Serving clients: the UDP/TCP sockets, who may ask (access control, rate limit) and systemd
readiness."""
