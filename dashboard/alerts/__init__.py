"""Alerts that reach a person: the notifier reads filterd's event log and sends email and
webhooks, with routing by role, grouping, quiet hours and stored delivery state."""
