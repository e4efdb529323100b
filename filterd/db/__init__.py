"""filterd.db: the one owner of var/filterd.db (query log, usage, status, devices)."""
