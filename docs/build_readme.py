"""Assemble README.md from docs/_top.md, the command and settings tables, and the area sections."""

from __future__ import annotations

from pathlib import Path

import typer.main

from flows.cli import app
from labourwatch.settings import Settings
from scrapers.fileimport import COLUMN_ALIASES

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ["demoboard", "scrapers", "classifiers", "trends", "brief", "dashboard", "flows", "scaling"]


def _commands(group, prefix: str = "") -> list[str]:
    rows = []
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            rows += _commands(cmd, f"{prefix}{name} ")
        else:
            help_ = " ".join((cmd.help or "").split("\n\n")[0].split())
            rows.append(f"| `labourwatch {prefix}{name}` | {help_} |")
    return rows


def render() -> str:
    """The README text for the current code and docs."""
    top = (ROOT / "docs" / "_top.md").read_text(encoding="utf-8")
    settings = []
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else f"`{field.default}`"
        settings.append(f"| `LABOURWATCH_{name.upper()}` | {default} | {field.description} |")
    columns = [f"| `{f}` | {', '.join(f'`{a}`' for a in aliases)} |" for f, aliases in COLUMN_ALIASES.items()]
    text = (top.replace("@COMMANDS@", "\n".join(_commands(typer.main.get_command(app))))
               .replace("@SETTINGS@", "\n".join(settings)).replace("@COLUMNS@", "\n".join(columns)))
    parts = [text.rstrip() + "\n"]
    for s in SECTIONS:
        parts.append((ROOT / "docs" / f"{s}.md").read_text(encoding="utf-8").rstrip() + "\n")
    parts.append((ROOT / "docs" / "_bottom.md").read_text(encoding="utf-8").rstrip() + "\n")
    return "\n".join(parts)


def main() -> None:
    (ROOT / "README.md").write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
