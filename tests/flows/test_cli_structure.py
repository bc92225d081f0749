"""The command line is typer sub-apps joined explicitly; every command is a module-level function."""

from __future__ import annotations

import importlib
import inspect

import typer
from typer.main import get_command

from flows import cli


def _commands(app: typer.Typer, prefix: str = "") -> dict[str, object]:
    """Every command of ``app`` (sub-groups walked) by its full name, mapped to its callback."""
    out: dict[str, object] = {}
    for info in app.registered_commands:
        name = info.name or (info.callback.__name__.replace("_", "-") if info.callback else "?")
        out[prefix + name] = info.callback
    for group in app.registered_groups:
        sub = group.typer_instance
        assert sub is not None
        out.update(_commands(sub, prefix + (f"{group.name} " if group.name else "")))
    return out


def test_every_command_is_an_importable_module_level_function() -> None:
    commands = _commands(cli.app)
    assert len(commands) >= 40
    for name, fn in commands.items():
        assert callable(fn), name
        module = importlib.import_module(fn.__module__)
        assert "<locals>" not in fn.__qualname__, f"{name}: a closure, not importable"
        assert getattr(module, fn.__name__) is fn, f"{name}: not importable as {fn.__module__}.{fn.__name__}"
        assert fn.__module__.startswith("flows.cli_"), f"{name} lives in {fn.__module__}"


def test_every_bench_command_lives_in_one_module() -> None:
    bench = {n: f for n, f in _commands(cli.app).items() if n.startswith("bench ")}
    assert {"bench crawl", "bench classify", "bench trends", "bench import"} <= set(bench)
    assert {f.__module__ for f in bench.values()} == {"flows.cli_bench"}


def test_the_click_tree_has_each_area_once() -> None:
    group = get_command(cli.app)
    names = list(group.commands)  # type: ignore[attr-defined]
    assert len(names) == len(set(names))
    assert {"crawl", "classify", "trends", "import", "db", "bench", "sources", "audit", "brief"} <= set(names)
    # a sub-group's commands are its own, not merged into the top level
    assert "upgrade" not in names and "db" in names


def test_no_area_is_loaded_by_name_at_run_time() -> None:
    src = inspect.getsource(cli)
    assert "__import__" not in src and "importlib" not in src
