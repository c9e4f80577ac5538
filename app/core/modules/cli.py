"""`bmc-hub modules list|enable|disable|purge` and `bmc-hub create-module` (added to app/cli.py)."""

from __future__ import annotations

import typer
from rich.console import Console

from app.core import database
from app.core.bootstrap import prepare_database
from app.core.errors import HubError
from app.core.modules import manifest as mf
from app.core.modules import purge, service
from app.core.modules.host import Host
from app.core.modules.scaffold import create_module

app = typer.Typer(help="List, enable, disable or purge modules.", no_args_is_help=True)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]{message}[/red]", highlight=False)
    raise typer.Exit(code)


def create_module_command(
        name: str = typer.Argument(..., help="Module name: lower-case letters, digits and _ (e.g. webshop)"),
        description: str = typer.Argument(..., help="One line saying what the module does")) -> None:
    """Create app/modules/NAME from the module template (like scripts/create_module.py)."""
    try:
        folder = create_module(name, description)
    except HubError as exc:
        _fail(exc.message)
    console.print(f"Created module {name} in {mf.display_path(folder)}", highlight=False)
    console.print(f"Restart the hub (or run `bmc-hub migrate`), then open /{name}. "
                  f"Tests: python -m pytest {mf.display_path(folder)}/tests -q", highlight=False)


def _inspecting_host():
    """The modules as the database and the folders say, without migrating or importing anything."""
    host = Host(None, mf.modules_dir())
    host.refresh(activate=False)
    return host


@app.command("list")
def list_modules() -> None:
    """Show every module: version, state, dependencies, migrations and problems."""
    prepare_database()
    rows = service.describe_all(_inspecting_host())
    if not rows:
        console.print("No modules.")
    for m in rows:
        migrations = f"{len(m['applied_migrations'])} migration(s) applied"
        if m["pending_migrations"]:
            migrations += f", {len(m['pending_migrations'])} pending"
        deps = ", ".join(f"{d['name']}{'' if d['version'] == '*' else d['version']}" for d in m["dependencies"])
        line = f"{m['name']} {m['version'] or ''}: {m['state']}; {migrations}"
        if deps:
            line += f"; depends on {deps}"
        console.print(line, highlight=False)
        if m["error"]:
            console.print(f"    {m['error']}", highlight=False, style="red" if m["state"] == "failed" else None)


@app.command("enable")
def enable_module(name: str) -> None:
    """Enable NAME in every process (runs its pending migrations first)."""
    prepare_database()
    host = Host(None, mf.modules_dir())
    host.refresh()
    try:
        info = service.enable(host, name, None)
    except HubError as exc:
        _fail(exc.message)
    console.print(f"Module {name} is {info['state']}.", highlight=False)


@app.command("disable")
def disable_module(name: str) -> None:
    """Disable NAME in every process (its data stays; see `purge`)."""
    prepare_database()
    try:
        info = service.disable(_inspecting_host(), name, None)
    except HubError as exc:
        _fail(exc.message)
    console.print(f"Module {name} is {info['state']}.", highlight=False)


@app.command("purge")
def purge_module(name: str,
                 dry_run: bool = typer.Option(False, "--dry-run", help="Only print what would be dropped"),
                 yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation")) -> None:
    """Drop NAME's tables, views, sequences, types and functions and forget its migrations.

    Prints the SQL first. Refused while an enabled module depends on NAME. Works when the
    module's folder is already gone.
    """
    prepare_database()
    host = _inspecting_host()
    try:
        plan = purge.plan(name, service.dependents(host, name))
    except HubError as exc:
        _fail(exc.message)
    with database.connect() as conn:
        statements = plan.as_text(conn)
    console.print(f"Purging module {name} drops: {', '.join(plan.objects) or 'no database objects'}",
                  highlight=False)
    for statement in statements:
        print(statement)
    if dry_run:
        console.print("Dry run: nothing was changed.")
        return
    if not yes and not typer.confirm(f"Run these statements and remove module {name}'s data?"):
        _fail("Aborted; nothing was changed.", 1)
    purge.execute(plan)
    console.print(f"Module {name} was purged.", highlight=False)
