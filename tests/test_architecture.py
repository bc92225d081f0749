"""The walls of the house (docs/architecture.md): who may import whom, and SQL only in db/."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("labourwatch", "models", "scrapers", "flows", "brief", "dashboard", "demoboard", "evaluation")
# A statement in SQL's capitals, not an English sentence that happens to hold "select" or "update".
SQL = re.compile(r"\bSELECT\s+[\w*(].*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b|"
                 r"\b(CREATE|DROP)\s+(TABLE|INDEX|VIEW|TRIGGER)\b|\bALTER\s+TABLE\b|\bWITH\s+\w+\s+AS\s*\(")


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a dev dependency (make setup installs it)"
    proc = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert re.search(r"Contracts: [1-9]\d* kept, 0 broken", proc.stdout), proc.stdout[-2000:]


def test_no_sql_outside_db() -> None:
    found = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if SQL.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{no}: {line.strip()}")
    assert not found, "SQL belongs in db/:\n" + "\n".join(found)


def test_no_package_outside_db_opens_a_session() -> None:
    """Callers hand db an engine and records; transactions are db's business (one per db function)."""
    found = [f"{path.relative_to(ROOT)}:{no}: {line.strip()}"
             for pkg in PACKAGES for path in sorted((ROOT / pkg).rglob("*.py"))
             for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"\bsession_scope\b|\bSession\(|\.begin\(\)|\.connect\(\)", line)]
    assert not found, "open transactions inside db/:\n" + "\n".join(found)


def test_the_sql_pattern_finds_statements_not_prose() -> None:
    assert SQL.search('conn.execute(text("SELECT id FROM postings"))')
    assert SQL.search("    UPDATE labels SET x = 1")
    assert SQL.search('"WITH recent AS (SELECT 1)"')
    assert not SQL.search('help="Select the month to update"')
    assert not SQL.search('"update the trend tables"')
    assert not SQL.search('help="one SELECT/WITH statement on the views"')
