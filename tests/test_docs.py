"""The README documents every setting and every command a user can meet."""

from __future__ import annotations

from pathlib import Path

import typer.main

from flows.cli import app
from labourwatch.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [f"LABOURWATCH_{name.upper()}" for name in Settings.model_fields
               if f"LABOURWATCH_{name.upper()}" not in README]
    assert not missing, f"settings missing from README: {missing}"


def _commands(group, prefix: str = "") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        full = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            out += _commands(cmd, full + " ")
        else:
            out.append(full)
    return out


def test_every_command_is_documented() -> None:
    commands = _commands(typer.main.get_command(app))
    assert "import" in commands and "db upgrade" in commands
    missing = [c for c in commands if f"labourwatch {c}" not in README]
    assert not missing, f"commands missing from README: {missing}"


def test_readme_is_built_from_current_docs() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_readme", Path(__file__).resolve().parents[1] / "docs"
                                                  / "build_readme.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert README == mod.render(), "README.md is stale: run .venv/bin/python docs/build_readme.py"
