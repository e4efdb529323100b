"""The query log inside the DNS process (a queue that never blocks DNS) and the stage that logs
and counts every answer."""
