"""The module framework: discovery, validation, loading, enable/disable, jobs.

`current_host()` is the module host of the running code (see context.py).
"""

from app.core.modules.context import current_host

__all__ = ["current_host"]
