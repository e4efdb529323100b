"""Policy: what a device may resolve right now (blocking, safe search, TTL caps) and the
questions filterd answers itself. How a blocked name is answered is DNS wire work, in
filterd.dns.block_answers, so lists and rules (which policy reads) can name a block style
without importing policy."""
