"""What a database error means for a user: one line naming the cause and the fix, for the command line."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError


def describe(exc: BaseException) -> str | None:
    """A single-line description of a database driver error (the database's own message, or a hint for a
    known cause: schema missing or out of date, server unreachable); None when ``exc`` is not one."""
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    text = (str(orig).strip().splitlines() or [""])[0] or type(orig).__name__
    low = text.lower()
    if isinstance(exc, ProgrammingError | OperationalError) and (
            "no such table" in low or ("relation" in low and "does not exist" in low)
            or "undefinedtable" in type(orig).__name__.lower()):
        from labourwatch.settings import get_settings

        url = get_settings().database_url
        return (f"the database {url} is not set up or not up to date ({text}); "
                "run `labourwatch db upgrade` first")
    if isinstance(exc, OperationalError) and ("connection" in low or "could not connect" in low):
        return f"cannot reach the database ({text}); check LABOURWATCH_DB_URL"
    return f"{type(orig).__name__}: {text}"
