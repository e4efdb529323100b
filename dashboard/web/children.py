"""Children pages (see issue 6)."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("children", __name__, template_folder="../templates")
