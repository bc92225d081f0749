"""Write the generated documentation pages: docs/reference.md from the code (every command with its help
line, every setting with its default and description, the import column names, filled into
docs/_reference.md) and docs/index.md, the site's home page, from README.md (links to ``docs/X.md`` become
``X.md``). ``tests/test_docs.py`` fails when either is stale."""

from __future__ import annotations

from pathlib import Path

import typer.main

from flows.cli import app
from labourwatch.settings import Settings
from scrapers.fileimport import COLUMN_ALIASES

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference.md"
INDEX = ROOT / "docs" / "index.md"


def _escape(text: str) -> str:
    """A table cell's text as Markdown shows it: ``<home>`` is text, not an HTML tag; a pipe does not split."""
    return text.replace("<", "&lt;").replace("|", "\\|")


def _commands(group, prefix: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    rows = []
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            rows += _commands(cmd, f"{prefix}{name} ")
        else:
            help_ = _escape(" ".join((cmd.help or "").split("\n\n")[0].split()))
            rows.append(f"| `labourwatch {prefix}{name}` | {help_} |")
    return rows


def render() -> str:
    """The reference page for the current code."""
    template = (ROOT / "docs" / "_reference.md").read_text(encoding="utf-8")
    settings = []
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else f"`{field.default}`"
        settings.append(f"| `LABOURWATCH_{name.upper()}` | {default} | {_escape(field.description or '')} |")
    columns = [f"| `{f}` | {', '.join(f'`{a}`' for a in aliases)} |" for f, aliases in COLUMN_ALIASES.items()]
    return (template.replace("@COMMANDS@", "\n".join(_commands(typer.main.get_command(app))))
            .replace("@SETTINGS@", "\n".join(settings)).replace("@COLUMNS@", "\n".join(columns)))


def render_index() -> str:
    """The site's home page: the README with its links made relative to docs/."""
    return (ROOT / "README.md").read_text(encoding="utf-8").replace("](docs/", "](")


def main() -> None:
    REFERENCE.write_text(render(), encoding="utf-8")
    INDEX.write_text(render_index(), encoding="utf-8")


if __name__ == "__main__":
    main()
