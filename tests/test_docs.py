"""The documentation: every setting and command a user can meet is documented, the generated pages are
current, the README stays a short front door with the two set-up commands, and the site builds strictly."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import typer.main

from flows.cli import app
from labourwatch.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# The area pages (the generated reference and home page list everything by construction, so they do not count).
AREAS = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md"))
                  if p.name not in ("reference.md", "index.md", "_reference.md"))


def _builder():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("build_reference", ROOT / "docs" / "build_reference.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_setting_is_documented() -> None:
    missing = [f"LABOURWATCH_{name.upper()}" for name in Settings.model_fields
               if f"LABOURWATCH_{name.upper()}" not in AREAS]
    assert not missing, f"settings explained on no docs/ page: {missing}"


def _commands(group, prefix: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for name, cmd in group.commands.items():
        full = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            out += _commands(cmd, full + " ")
        else:
            out.append(full)
    return out


def test_every_command_is_documented_in_an_area_page() -> None:
    commands = _commands(typer.main.get_command(app))
    assert "import" in commands and "db upgrade" in commands
    missing = [c for c in commands if f"labourwatch {c}" not in AREAS]
    assert not missing, f"commands described on no docs/ page: {missing}"


def test_generated_pages_are_current() -> None:
    mod = _builder()
    assert (ROOT / "docs" / "reference.md").read_text(encoding="utf-8") == mod.render(), \
        "docs/reference.md is stale: run .venv/bin/python docs/build_reference.py"
    assert (ROOT / "docs" / "index.md").read_text(encoding="utf-8") == mod.render_index(), \
        "docs/index.md is stale: run .venv/bin/python docs/build_reference.py"


def test_readme_is_a_short_front_door() -> None:
    lines = README.splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines; the reference belongs in docs/"
    # the first code block holds the two commands that set everything up: the demo, then the tests
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    assert [ln.split()[0:2] for ln in first_block.strip().splitlines()] == [["make", "demo"], ["make", "test"]]
    for target in re.findall(r"\]\((docs/[^)#]+)", README):
        assert (ROOT / target).exists(), f"README links to missing {target}"


def test_site_builds_strictly(tmp_path: Path) -> None:
    """MkDocs Material, offline, strict: a broken link or an unlisted page fails."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(tmp_path / "site")], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    page = (tmp_path / "site" / "reference.html").read_text(encoding="utf-8")
    assert "LABOURWATCH_DB_URL" in page and "labourwatch db upgrade" in page
    assert "fonts.googleapis" not in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
