"""Every write to the incident domain goes through a function in this package (one write path)."""
