"""Devices pages (see issue 6)."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("devices", __name__, template_folder="../templates")
