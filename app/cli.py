"""The `bmc-hub` command."""

from __future__ import annotations

import gc
import inspect
import os
import secrets
import signal
import sys
import time
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress

from app.core import auth, backup, database, users
from app.core import demo as demo_mod
from app.core import worker as worker_mod
from app.core.bootstrap import prepare_database
from app.core.config import get_settings, reset_settings
from app.core.errors import HubError, NotFound
from app.core.logs import setup_logging
from app.core.modules import cli as modules_cli
from app.main import create_app

cli = typer.Typer(help="BMC Hub: cases, customers and reminders.", no_args_is_help=True,
                  add_completion=False)
console = Console()
err = Console(stderr=True)

DEFAULT_ADMIN = "admin"


def _exit_on_sigterm(signum, frame):
    raise SystemExit(0)


def ensure_admin() -> None:
    """Make sure an admin exists; print a generated password once when one is created."""
    if database.execute_query("SELECT 1 FROM users WHERE role = 'admin' AND active LIMIT 1"):
        return
    password = get_settings().bmc_hub_admin_password
    generated = not password
    if generated:
        password = secrets.token_urlsafe(12)
    created = database.execute_update(
        "INSERT INTO users (username, email, full_name, password_hash, role) VALUES (%s, %s, %s, %s, 'admin') "
        "ON CONFLICT DO NOTHING",
        (DEFAULT_ADMIN, "admin@localhost.localdomain", "Administrator", auth.hash_password(password)),
    )
    if not created:
        err.print(f"[yellow]No active admin, and the username '{DEFAULT_ADMIN}' is taken by a user who is not "
                  "one: create an admin with `bmc-hub create-user NAME --admin`.[/yellow]")
        return
    if generated:
        # Printed to the terminal only, never logged.
        console.print(f"[bold]Created admin user[/bold] '{DEFAULT_ADMIN}' with password: [bold]{password}[/bold]"
                      "\n(shown once; set BMC_HUB_ADMIN_PASSWORD to choose it)")
    else:
        console.print(f"Created admin user '{DEFAULT_ADMIN}' with the password from BMC_HUB_ADMIN_PASSWORD")


@cli.command()
def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on"),
          port: int = typer.Option(8000, help="Port to listen on"),
          worker: bool = typer.Option(True, "--worker/--no-worker",
                                      help="Run the background worker in this process")) -> None:
    """Serve the hub (starting the embedded PostgreSQL when DATABASE_URL is not set)."""
    import uvicorn  # only `serve` needs the server; other commands start faster without it

    prepare_database()
    ensure_admin()
    app = create_app()
    runner = worker_mod.start_in_thread(app.state.modules) if worker else None
    console.print(f"BMC Hub on http://{host}:{port}  (Ctrl-C stops it)")
    # uvicorn re-raises the signal it stopped on once it has shut down; turning SIGTERM into
    # SystemExit lets the embedded database be stopped cleanly (atexit) instead of orphaned.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # What is loaded by now (the app, its modules, templates, libraries) lives as long as the
    # process: frozen, it is left out of the collector's full passes, which otherwise walk it
    # all and stall every open stream (and the worker thread) for the length of the pass.
    gc.collect()
    gc.freeze()
    try:
        # log_config=None: uvicorn's own lines (start-up, access log) go through the hub's
        # handlers, one line per event to the console and LOG_FILE.
        uvicorn.run(app, host=host, port=port, log_level="info", log_config=None, proxy_headers=True)
    finally:
        if runner is not None:
            runner.stop()


@cli.command("worker")
def run_worker() -> None:
    """Run the modules' background jobs (reminders) until SIGTERM/Ctrl-C."""
    prepare_database()
    app = create_app()  # loads the modules (and their migrations) so their jobs are known
    worker_mod.settle()  # what is loaded by now frozen; young collections rarer
    worker_mod.run_forever(app.state.modules)


@cli.command()
def migrate() -> None:
    """Apply pending migrations of the core and of every enabled module."""
    prepare_database()
    create_app()
    console.print("Migrations are up to date.")


@cli.command("create-user")
def create_user(username: str, email: str = typer.Option(..., prompt=True),
                full_name: str = typer.Option("", help="Full name"),
                admin: bool = typer.Option(False, "--admin", help="Give the user the admin role"),
                password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True)) -> None:
    """Create a user (asks for the password)."""
    prepare_database()
    try:
        user = users.create_user(users.UserCreate(username=username, email=email, full_name=full_name,
                                                  password=password, role="admin" if admin else "user"))
    except ValidationError as exc:
        for e in exc.errors():
            err.print(f"[red]{'.'.join(map(str, e['loc']))}: {e['msg']}[/red]")
        raise typer.Exit(2) from None
    except HubError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    console.print(f"Created {user['role']} '{user['username']}' (id {user['id']}).")


@cli.command("create-token")
def create_token(username: str, name: str = typer.Option("cli", help="A name to recognise the token by")) -> None:
    """Create a personal API token for USERNAME and print it (once)."""
    prepare_database()
    try:
        user = users.get_user_by_username(username)
    except NotFound as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    if not user["active"]:
        err.print(f"[red]User {username!r} is deactivated[/red]")
        raise typer.Exit(2)
    # Plain print so scripts can capture it: TOKEN=$(bmc-hub create-token admin)
    print(auth.create_api_token(user["id"], name))


@cli.command()
def demo(customers: int = typer.Option(40, help="How many demo customers"),
         cases: int | None = typer.Option(None, min=1, help="Fill up to this many cases in total with generated "
                                                          "ones (COPY; for load tests, e.g. 1000000)")) -> None:
    """Fill the hub with realistic demo users and customers (and the modules' demo data)."""
    started = time.perf_counter()
    prepare_database()
    app = create_app()
    ensure_admin()
    with Progress(console=console) as progress:
        task = progress.add_task("Users", total=1)
        made_users = demo_mod.demo_users()
        progress.advance(task)
        task = progress.add_task("Customers", total=customers)
        made_customers = demo_mod.demo_customers(customers, advance=lambda n=1: progress.advance(task, n))
        for name, hook in app.state.modules.demo_hooks():
            task = progress.add_task(name, total=None)
            # Only hooks that take `cases` are told the total (a module without cases ignores it).
            extra = {"cases": cases} if cases is not None and "cases" in inspect.signature(hook).parameters else {}
            hook(progress=progress, task=task, **extra)
            progress.update(task, completed=1, total=1)
    console.print(f"Demo data: {made_users} new users, {made_customers} new customers "
                  f"({time.perf_counter() - started:.1f} s). "
                  f"Demo users sign in with the password '{demo_mod.DEMO_PASSWORD}'.")


@cli.command("mail-in")
def mail_in(host: str | None = typer.Option(None, help="Address to listen on (default MAIL_IN_HOST)"),
            port: int | None = typer.Option(None, help="Port to listen on (default MAIL_IN_PORT)"),
            lmtp: bool = typer.Option(False, "--lmtp", help="Speak LMTP instead of SMTP")) -> None:
    """Receive replies to notification e-mails and add them as notes (until SIGTERM/Ctrl-C)."""
    prepare_database()
    app = create_app()
    if not get_settings().mail_reply_domain:
        err.print("[red]Set MAIL_REPLY_DOMAIN first: it is the domain of the reply addresses this accepts.[/red]")
        raise typer.Exit(2)
    if "sag" not in {r.name for r in app.state.modules.enabled()}:
        err.print("[red]The sag module (cases) is not enabled: there is nothing to reply to.[/red]")
        raise typer.Exit(2)
    # Imported here: a module's code is loaded only once the host has enabled the module.
    from app.modules.sag.conversation import mail_in as listener

    settings = get_settings()
    console.print(f"Receiving replies for @{settings.mail_reply_domain} on {host or settings.mail_in_host}:"
                  f"{port or settings.mail_in_port} ({'LMTP' if lmtp else 'SMTP'}; Ctrl-C stops it)")
    listener.run(host, port, lmtp=lmtp)


@cli.command("i18n")
def i18n_command(check: bool = typer.Option(False, "--check", help="Only report what is missing; change nothing"),
                 modules_dir: Path | None = typer.Option(None, help="Modules from this folder instead")) -> None:
    """Extract the texts marked for translation, update each catalog (core and every module), compile them."""
    from app.core import i18n_catalogs

    found = 0
    for package in i18n_catalogs.packages(modules_dir):
        if check:
            problems = i18n_catalogs.problems(package)
            found += len(problems)
            for problem in problems:
                err.print(problem)
            continue
        counts = i18n_catalogs.update(package)
        for language, n in counts.items():
            console.print(f"{package.name}: {n} texts in {package.po(language).relative_to(Path.cwd())}"
                          if package.po(language).is_relative_to(Path.cwd()) else f"{package.name}: {n} texts")
    if check and found:
        raise typer.Exit(1)


cli.add_typer(modules_cli.app, name="modules")
cli.command("create-module")(modules_cli.create_module_command)


@cli.command("backup")
def backup_command(to: Path | None = typer.Option(
        None, "--to", help="Backup file (default BACKUP_DIR/bmc-hub-YYYYmmdd-HHMMSS.dump)")) -> None:
    """Back up the database (custom-format pg_dump + manifest) while the hub runs."""
    prepare_database()
    result = backup.backup(to)
    m = result.manifest
    console.print(f"Backup written: {result.path} ({m['size_bytes']} bytes, PostgreSQL {m['postgresql']}, "
                  f"hub {m['hub_version']})\nManifest: {result.manifest_path} (keep the two files together)",
                  soft_wrap=True)


@cli.command("restore")
def restore_command(file: Path = typer.Argument(..., help="A .dump written by `bmc-hub backup`"),
                    yes: bool = typer.Option(False, "--yes", help="Replace the contents of a non-empty database"),
                    data_dir: Path | None = typer.Option(
                        None, "--data-dir", help="Restore into the embedded database of this data directory"),
                    database_url: str | None = typer.Option(
                        None, "--database-url", help="Restore into this database (created when missing)")) -> None:
    """Restore a backup into an empty (or new) database, then apply pending migrations."""
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
    prepare_database()
    create_app()
    m = result.manifest
    console.print(f"Restored {file} (hub {m['hub_version']}, made {m['created_at']}); migrations are up to date.",
                  soft_wrap=True)


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
    except HubError as exc:
        # A refused migration, an unreachable database...: the message says what to do;
        # a traceback would only bury it.
        err.print(f"[red]bmc-hub: {exc.message}[/red]", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
