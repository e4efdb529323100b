"""Audit trail pages (see issue 6)."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("audit_log", __name__, template_folder="../templates")
