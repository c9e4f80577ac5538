"""`bmc-hub backup` and `bmc-hub restore` (registered on the CLI by app/cli.py)."""

from __future__ import annotations

import os
from pathlib import Path

import typer


def backup_command(to: Path | None = typer.Option(
        None, "--to", help="Backup file (default BACKUP_DIR/bmc-hub-YYYYmmdd-HHMMSS.dump)")) -> None:
    """Back up the database (custom-format pg_dump + manifest) while the hub runs."""
    from app.cli import _prepare_database, console
    from app.core import backup

    _prepare_database()
    result = backup.backup(to)
    m = result.manifest
    console.print(f"Backup written: {result.path} ({m['size_bytes']} bytes, PostgreSQL {m['postgresql']}, "
                  f"hub {m['hub_version']})\nManifest: {result.manifest_path} (keep the two files together)",
                  soft_wrap=True)


def restore_command(file: Path = typer.Argument(..., help="A .dump written by `bmc-hub backup`"),
                    yes: bool = typer.Option(False, "--yes", help="Replace the contents of a non-empty database"),
                    data_dir: Path | None = typer.Option(
                        None, "--data-dir", help="Restore into the embedded database of this data directory"),
                    database_url: str | None = typer.Option(
                        None, "--database-url", help="Restore into this database (created when missing)")) -> None:
    """Restore a backup into an empty (or new) database, then apply pending migrations."""
    from app.cli import _prepare_database, console, err
    from app.core import backup
    from app.core.config import reset_settings
    from app.core.logs import setup_logging

    if data_dir is not None and database_url is not None:
        err.print("[red]Give --data-dir or --database-url, not both[/red]")
        raise typer.Exit(2)
    if data_dir is not None:
        os.environ.pop("DATABASE_URL", None)
        os.environ["DATA_DIR"] = str(data_dir)
    if database_url is not None:
        os.environ["DATABASE_URL"] = database_url
    reset_settings()
    setup_logging()
    result = backup.restore(file, yes=yes)
    if result.moved_aside is not None:
        console.print(f"The data directory of the previous PostgreSQL version is kept as {result.moved_aside}; "
                      "remove it once the hub runs well.", soft_wrap=True)
    for warning in result.warnings:
        err.print(f"[yellow]{warning}[/yellow]", soft_wrap=True)
    # The code may be newer than the backup: bring the schema up to date like `bmc-hub migrate`.
    _prepare_database()
    from app.main import create_app

    create_app()
    m = result.manifest
    console.print(f"Restored {file} (hub {m['hub_version']}, made {m['created_at']}); migrations are up to date.",
                  soft_wrap=True)
