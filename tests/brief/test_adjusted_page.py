"""Page 7 of the brief prints the market's role-category shares corrected for the audit's measured error, and
briefs of two countries for one month and language are both recorded (SQLite and PostgreSQL)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from brief.render import fmt_ci, fmt_int, fmt_pct, render_brief
from db import schema
from db.audit import MIN_CATEGORY_AUDIT, category_adjustment
from tests.brief.test_render import pdftotext, squash
from tests.db.test_audit_adjusted import CN, MONTH, _audit, _load

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def test_measured_error_page_prints_adjusted_shares_per_country(engine: Engine, tmp_path: Path) -> None:
    from models.taxonomy import load_taxonomy

    _audit(engine, _load(engine))
    cn = render_brief(engine, MONTH, "en", tmp_path / "cn.pdf", country="CN")
    gb = render_brief(engine, MONTH, "en", tmp_path / "gb.pdf", country="GB")
    assert cn.pages == gb.pages == 8  # page 8: methods and the base of each finding

    adj = category_adjustment(engine, MONTH, "CN", exclude=load_taxonomy().groups)
    assert adj.adjusted and adj.n_audit == 90
    names = {c.code: c.en for c in load_taxonomy().categories}
    page = squash(pdftotext(cn.path, 7, 7))
    assert squash("Role-category shares adjusted for the measured error") in page
    for r in adj.rows:  # largest first, observed vs adjusted with its interval and the audited count
        assert r.adjusted is not None
        line = (f"{names[r.code]} {fmt_int(r.n)} {fmt_pct(r.observed)} {fmt_pct(r.adjusted)} "
                f"{fmt_ci(r.ci_low, r.ci_high, signed=False)} {fmt_int(r.audited)}")
        assert squash(line) in page, line
    at = [page.index(squash(names[c])) for c in ("software_dev", "marketing", "design_basic")]
    assert at == sorted(at)
    assert squash(f"{fmt_int(sum(CN.values()))} postings, corrected with the confusion matrix of 90 audited "
                  "postings of this market") in page
    assert squash("The same table: labourwatch audit report --month 2026-03 --country CN") in page

    # GB's audit is too small: the page says so, with the count and the minimum.
    page = squash(pdftotext(gb.path, 7, 7))
    assert squash(f"the audit holds 10 role-category labels with a true value for the United Kingdom; at least "
                  f"{MIN_CATEGORY_AUDIT} are needed") in page
    assert squash("Adjusted share") not in page

    with engine.connect() as c:
        rows = c.execute(select(schema.Brief.country, schema.Brief.path, schema.Brief.sha256)
                         .where(schema.Brief.month == MONTH, schema.Brief.lang == "en")
                         .order_by(schema.Brief.country)).all()
    assert [(r.country, Path(r.path).name, r.sha256) for r in rows] == [("CN", "cn.pdf", cn.sha256),
                                                                      ("GB", "gb.pdf", gb.sha256)]
