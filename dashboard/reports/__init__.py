"""Reports kept as evidence: the monthly PDF for the registered manager's reviews, independent
visits and the annual filtering review."""
