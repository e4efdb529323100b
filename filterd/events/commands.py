"""`filterd events`: the event log as JSON lines, the layout a central view streams."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from filterd.config import load_config_or_report
from filterd.db.events import EventLog

FOLLOW_INTERVAL = 1.0


def print_events(config_path: Path, after: int, follow: bool) -> int:
    """Print every event with an id above `after`, one JSON object a line; with follow, keep
    printing new ones as they are appended (until interrupted)."""
    config = load_config_or_report(config_path)
    if config is None:
        return 1
    log = EventLog(config.database, "filterd")
    home = log.home()
    try:
        while True:
            batch = log.read_after(after)
            for event in batch:
                print(json.dumps(event.to_stream(home), sort_keys=True), flush=True)
                after = event.id
            if not follow:
                return 0
            if not batch:
                time.sleep(FOLLOW_INTERVAL)
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    finally:
        log.close()
