"""Reads of the query log that filterd itself needs (the dashboard reads via filterd.db.read)."""

from __future__ import annotations

from filterd.db.thread_db import ThreadDb


class QueryLogReader(ThreadDb):
    """Read-only use of the queries table; the writer process creates it."""

    def last_asked_since(self, since: float) -> dict[str, float]:
        """Each client address that asked anything after `since`, and when it last did."""
        with self.lock:
            db = self._connect()
            exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'queries'").fetchone()
            if exists is None:
                return {}
            rows = db.execute(
                "SELECT client, max(ts) FROM queries WHERE ts > ? GROUP BY client", (since,)
            )
            return dict(rows.fetchall())
