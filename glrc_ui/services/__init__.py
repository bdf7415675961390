"""Services: one module per subject; each public action is one transaction and returns plain data."""
