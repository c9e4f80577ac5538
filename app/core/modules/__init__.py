"""The module framework: discovery, validation, loading, enable/disable, jobs."""
