"""Text a person sees: what a name or note may contain and how it is shown (people.py), and
credentials hidden from everything shown or logged (redact.py)."""
