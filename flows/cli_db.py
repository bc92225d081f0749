"""`labourwatch db upgrade | downgrade | grant-analyst`: database schema management."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console()
app = typer.Typer(help="Database schema management.", no_args_is_help=True)



@app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create or migrate the database schema to REVISION (default: latest); on PostgreSQL also set up the
    analyst role (see `db grant-analyst`)."""
    from db.migrate import current_revision, upgrade
    from db.session import get_engine
    from labourwatch.settings import get_settings

    get_settings().ensure_dirs()
    engine = get_engine()
    upgrade(engine, revision)
    console.print(f"database {engine.url.render_as_string()} at revision {current_revision(engine)}")



@app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision ('base' empties it).")) -> None:
    """Migrate the database schema down to REVISION."""
    from db.migrate import current_revision, downgrade
    from db.session import get_engine

    engine = get_engine()
    downgrade(engine, revision)
    console.print(f"database at revision {current_revision(engine)}")



@app.command("grant-analyst")
def grant_analyst_cmd() -> None:
    """Create the PostgreSQL analyst role (LABOURWATCH_ANALYST_ROLE) with SELECT on the analyst views only."""
    from db.queries import grant_analyst
    from db.session import get_engine

    engine = get_engine()
    if engine.dialect.name != "postgresql":
        console.print("SQLite needs no analyst role: queries open the file read-only with an authorizer "
                      "that allows only reads of the analyst views")
        return
    role = grant_analyst(engine)
    console.print(f"analyst role {role!r}: SELECT on the analyst views of "
                  f"{engine.url.render_as_string()}", markup=False)
