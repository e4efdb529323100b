"""Safeguarding and system events: what happened that a person may need to know about.

filterd and the dashboard append them to one ordered, append-only log in filterd.db
(filterd.db.events); alerts, digests, reports and a later organisation-wide view all read that
log and never the query log. `kinds` is the catalogue every event is one of.
"""
