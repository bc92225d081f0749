"""Labelled postings → update_trends (SQL) → brief: page 1 prints what `labourwatch findings` prints."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine

from brief.render import MAX_PAGES, MIN_PAGES, render_brief
from tests.brief.test_render import pdftotext, squash

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")]


@pytest.fixture
def computed_trends(engine: Engine) -> Engine:
    from db.bulk import bulk_insert_labelled
    from db.synthetic import synthetic_postings
    from db.trends import update_trends
    from models.taxonomy import load_taxonomy

    bulk_insert_labelled(engine, synthetic_postings(60_000))
    update_trends(engine, load_taxonomy().groups)
    return engine


def test_brief_from_computed_trends_prints_the_findings_command(computed_trends: Engine, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    for lang in ("zh", "en"):
        result = render_brief(computed_trends, "2026-03", lang, tmp_path / f"brief-{lang}.pdf")
        assert MIN_PAGES <= result.pages <= MAX_PAGES
        cli = CliRunner().invoke(app, ["findings", "--month", "2026-03", "--lang", lang, "--format", "json"])
        assert cli.exit_code == 0, cli.output
        printed = json.loads(cli.stdout)
        assert len(printed) >= 5
        page1 = squash(pdftotext(result.path, 1, 1))
        for f in printed:
            assert squash(f["text"]) in page1, f["text"]
        fonts = subprocess.run(["pdffonts", str(result.path)], capture_output=True, text=True, check=True).stdout
        assert all("LW-Brief" in ln for ln in fonts.splitlines()[2:] if ln.strip()), fonts
