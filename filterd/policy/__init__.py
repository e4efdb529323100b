"""Policy: what a device may resolve right now (blocked answers, safe search, TTL caps) and the
questions filterd answers itself."""
