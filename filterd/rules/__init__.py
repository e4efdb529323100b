"""Child profiles: the rules file, the schedule, daily usage and the per-query decision."""
