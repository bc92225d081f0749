"""One clear line instead of a traceback when a command fails (``labourwatch --debug`` shows the traceback)."""

from __future__ import annotations

from typing import Any

import click
import typer
from typer.core import TyperGroup


def one_line(exc: BaseException) -> str:
    """A single-line description of ``exc``: the database's own message, or a hint for a known cause."""
    from db.errors import describe

    known = describe(exc)
    if known is not None:
        return known
    if isinstance(exc, FileNotFoundError | IsADirectoryError | PermissionError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    text = (str(exc).strip().splitlines() or [""])[0] or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, ValueError) else text


def _passthrough() -> tuple[type[BaseException], ...]:
    """Exceptions the command line itself reports (usage errors, exits): click's and Typer's own copy."""
    kinds: list[type[BaseException]] = [typer.Exit, click.exceptions.Exit, click.ClickException, click.Abort,
                                        SystemExit, KeyboardInterrupt]
    try:
        from typer._click import exceptions as tc  # Typer >= 0.16 vendors click

        kinds += [k for n in ("ClickException", "Abort", "Exit") if isinstance(k := getattr(tc, n, None), type)]
    except ImportError:
        pass
    return tuple(kinds)


_PASSTHROUGH = _passthrough()


class FriendlyErrorsGroup(TyperGroup):
    """Catches what a command did not handle and prints ``labourwatch <command>: <one line>``; exit 1."""

    debug = False

    def invoke(self, ctx: Any) -> Any:  # click.Context: Typer >= 0.16 vendors its own click
        try:
            return super().invoke(ctx)
        except _PASSTHROUGH:
            raise
        except Exception as exc:
            if FriendlyErrorsGroup.debug:
                raise
            name = " ".join(ctx.protected_args[:1]) if getattr(ctx, "protected_args", None) else \
                (ctx.invoked_subcommand or "")
            click.secho(f"labourwatch {name}: {one_line(exc)}".replace("labourwatch :", "labourwatch:"),
                        err=True, fg="red")
            click.echo("(run with --debug for the traceback)", err=True)
            ctx.exit(1)
