"""Browser pages of the incident domain, one module per page family (each under 500 lines)."""
