"""`filterd up`: the DNS daemon and the dashboard started, watched and stopped together."""
