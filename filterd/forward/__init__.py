"""Forwarding: the upstream client and stage (asking, cleaning, caching lifetimes) and the shared
answer cache."""
