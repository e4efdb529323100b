"""Backup and restore of a home: one archive of the settings, the rules, dashboard.db (accounts,
audit trail, reviews) and optionally filterd.db (the query log), checked before it is restored."""
