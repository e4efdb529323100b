"""Blocklists: categories, list parsing, downloading, and the compact index filterd serves from."""
