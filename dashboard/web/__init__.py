"""Blueprints, one per area, and the request plumbing they share (security.py)."""
