"""The monthly brief flow: on the first of the month, the PDF brief for the month before, recorded in the DB."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.tasks import pipeline
from flows.tasks.runstate import previous_month
from labourwatch.contract import check_month
from labourwatch.settings import get_settings


@dataclass(frozen=True, slots=True)
class BriefSummary:
    """Where a month's brief was written and the findings it leads with."""

    month: str
    lang: str
    path: str
    pages: int
    sha256: str
    seconds: float
    findings: list[str]  # headline findings (cells large enough to publish)
    withheld: list[str]  # findings on cells under the minimum size (the brief flags them)


def default_month(now: datetime | None = None) -> str:
    """The month before today in the configured timezone (the 1st of July in Shanghai → 2026-06)."""
    tz = ZoneInfo(get_settings().timezone)
    return previous_month(now.astimezone(tz) if now else datetime.now(tz))


@flow(name="monthly-brief", timeout_seconds=3600)
def monthly_brief(month: str | None = None, lang: str = "zh", output: str | None = None,
                  country: str | None = None) -> BriefSummary:
    """Render the brief of ``month`` (default: last month) in ``lang`` for ``country`` (default the largest
    market; ``all`` pools countries); the brief records itself in ``briefs``.

    Re-running it for the same month and language replaces that brief (one row per month and language).
    """
    month = month or default_month()
    check_month(month)  # a clear error for anything but YYYY-MM
    pipeline.migrate_db()
    result = pipeline.render_brief(month, lang=lang, output=output, country=country)
    findings, withheld = pipeline.headline_findings(month, lang=lang, country=country)
    summary = BriefSummary(month=month, lang=lang, path=str(result.path), pages=int(result.pages),
                           sha256=result.sha256, seconds=float(result.seconds), findings=findings,
                           withheld=withheld)
    md = [f"# Brief {month} ({lang})", "", f"- file: `{summary.path}` ({summary.pages} pages, "
          f"sha256 {summary.sha256[:12]}…, {summary.seconds:.1f} s)", "", "## Headline findings", ""]
    md += [f"{i}. {text}" for i, text in enumerate(findings, 1)]
    if withheld:
        md += ["", "## Withheld (cells under the minimum size)", ""] + [f"- {text}" for text in withheld]
    create_markdown_artifact("\n".join(md), key="monthly-brief", description=f"brief {month} {lang}")
    get_run_logger().info("brief %s (%s) written to %s", month, lang, summary.path)
    return summary
