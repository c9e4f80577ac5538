"""What every command that touches the database does first (the `bmc-hub` CLI and its
`modules` sub-commands share it)."""

from __future__ import annotations

from app.core import database, migrations
from app.core.config import secret_key
from app.core.logs import setup_logging


def prepare_database() -> None:
    """Start/attach the database and apply the core migrations."""
    setup_logging()
    # Generate SECRET_KEY into the data directory now (once), not on the first signed link.
    secret_key()
    database.get_pool()
    migrations.migrate_core()
