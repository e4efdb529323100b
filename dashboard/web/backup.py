"""Downloading a backup of the home from Health (administrators only, audited): the same
archive `filterd backup` writes, without the query log (kept small enough for a phone)."""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

from flask import Blueprint, abort, g, send_file

from dashboard.app import current_dashboard
from dashboard.backup.archive import Sources, write_backup
from dashboard.data import audit
from dashboard.data.accounts import Permission
from dashboard.web.security import requires

blueprint = Blueprint("backup", __name__)


@blueprint.route("/health/backup", methods=["POST"])
@requires(Permission.BACKUP)
def download():
    dashboard = current_dashboard()
    if dashboard.config_path is None:
        abort(404, "This dashboard was started without its settings file, so it cannot back up.")
    sources = Sources(
        config=dashboard.config_path,
        rules=dashboard.rules_path,
        dashboard_db=dashboard.settings.database,
        filterd_db=dashboard.config.database,
    )
    name = time.strftime("filterd-backup-%Y%m%d-%H%M%S.tar.gz", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="filterd-download-") as work:
        written = write_backup(sources, Path(work) / name)
        data = written.read_bytes()
    audit.record(dashboard.db(), g.user.name, "backup.download", name)
    response = send_file(
        io.BytesIO(data),
        mimetype="application/gzip",
        as_attachment=True,
        download_name=name,
    )
    return response
