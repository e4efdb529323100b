"""Query names that no other test asks for."""

from __future__ import annotations

import uuid


def unique(prefix: str, zone: str = "example") -> str:
    """A name nobody else asks for: the upstream is shared and filterd caches."""
    return f"{prefix}{uuid.uuid4().hex[:10]}.{zone}"
