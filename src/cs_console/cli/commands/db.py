"""``cs-console db``: the database schema."""

from __future__ import annotations

import typer
from rich.text import Text

from cs_console.cli.app import app, console, state
from cs_console.i18n import _
from cs_console.store.engine import check_connection, describe_url, make_engine
from cs_console.store.migrate import head_revision, upgrade

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db", rich_help_panel="Set-up")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the database schema up to date (also done automatically on start).

    Works on the SQLite file of the workspace or on PostgreSQL, whichever
    [database] url names. Safe to run again: it does nothing when up to date.
    """
    settings = state(ctx).settings()
    url = settings.database_url
    engine = make_engine(url)
    check_connection(engine)
    before, after = upgrade(engine)
    where = describe_url(url)
    if before == after:
        console.print(
            _("Database {where} is up to date (revision {after}).").format(where=where, after=after)
        )
    else:
        console.print(
            _("Database {where} upgraded from {before} to {after}.").format(
                where=where, before=before or _("empty"), after=after
            )
        )


@db_app.command("version")
def db_version(ctx: typer.Context) -> None:
    """Show the schema revision of the database and of this program."""
    from cs_console.store.migrate import current_revision

    settings = state(ctx).settings()
    engine = make_engine(settings.database_url)
    check_connection(engine)
    console.print(
        _("database: {current}  program: {head}").format(
            current=current_revision(engine) or _("empty"), head=head_revision()
        )
    )


@db_app.command("migrate-to")
def db_migrate_to(
    ctx: typer.Context,
    url: str = typer.Argument(
        ..., help="Target, e.g. postgresql+psycopg://cs@db.example.com/support"
    ),
) -> None:
    """Copy this workspace's database into PostgreSQL, for a team.

    The target must be empty; its schema is created first. Every table is
    copied and then verified by row count and checksum. The source is only
    read. Afterwards, point [database] url at the target in every agent's config.
    """
    from rich.progress import Progress

    from cs_console.store.copy import copy_database

    settings = state(ctx).settings()
    source = make_engine(settings.database_url)
    check_connection(source)
    upgrade(source)
    target = make_engine(url)
    check_connection(target)
    upgrade(target)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(_("Copying"), total=None)

        def report(table: str, rows: int) -> None:
            progress.update(
                task, description=_("Copying {table}: {rows} rows").format(table=table, rows=rows)
            )

        copied = copy_database(source, target, progress=report)
    total = sum(t.rows for t in copied)
    console.print(
        Text(
            _(
                "Copied {rows} rows in {tables} tables to {where}; counts and checksums match."
            ).format(rows=total, tables=len(copied), where=describe_url(url))
        )
    )
    console.print(
        Text(
            _("Now set {setting} in each agent's config.").format(
                setting=f'[database] url = "{describe_url(url)}"'
            )
        )
    )
