"""Classify, dedupe, trend and brief tasks: each idempotent, so a retry or a re-run changes nothing twice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from db.session import get_engine

if TYPE_CHECKING:
    from brief.render import BriefResult
    from db.dedupe import DedupeReport
    from db.trends import TrendReport
    from flows.classify import ClassifyReport


@task(name="migrate-db", retries=2, retry_delay_seconds=[2, 5], cache_policy=NO_CACHE)
def migrate_db() -> str:
    """Bring the database schema to the latest revision; returns the URL (password hidden). Called once, at the
    entry of each flow."""
    from db.migrate import upgrade

    engine = get_engine()
    upgrade(engine)
    return engine.url.render_as_string(hide_password=True)


@task(name="prepare-classifier", retries=1, retry_delay_seconds=[5], cache_policy=NO_CACHE)
def prepare_classifier() -> str:
    """Load the configured classifier once (building the embedding model and training the head on a fresh
    install) so classification can start at once; runs while the crawls do. Returns its version."""
    from models import load_classifier

    return load_classifier().model_version


@task(name="classify-pending", retries=2, retry_delay_seconds=[5, 30], timeout_seconds=6 * 3600,
      cache_policy=NO_CACHE)
def classify_pending(model_version: str | None = None) -> ClassifyReport:
    """Label every posting that has no label from classifier ``model_version`` (default: the configured one)."""
    from flows import progress
    from flows.classify import classify_pending as _classify

    classifier = None
    if model_version:
        from labourwatch.settings import get_settings
        from models import load_classifier

        classifier = load_classifier(get_settings().model_copy(update={"classifier_version": model_version}))
    on_batch = (lambda done, total: progress.advance("classify", done, total)) if progress.active() else None
    return _classify(engine=get_engine(), classifier=classifier, on_batch=on_batch)


@task(name="link-duplicates", retries=2, retry_delay_seconds=[5, 30], timeout_seconds=3600,
      cache_policy=NO_CACHE)
def link_duplicates(since_month: str | None = None) -> DedupeReport:
    """Link cross-source duplicates of postings from ``since_month`` on to their canonical posting."""
    from db.dedupe import link_duplicates as _link

    return _link(get_engine(), since_month=since_month)


@task(name="update-trends", retries=2, retry_delay_seconds=[5, 30], timeout_seconds=3600, cache_policy=NO_CACHE)
def update_trends(since: str | None = None, full: bool = False,
                  model_version: str | None = None) -> TrendReport:
    """Recompute the trend tables from month ``since`` on (or all of them when ``full``)."""
    from db.trends import update_trends as _update
    from models.taxonomy import load_taxonomy

    groups = {name: list(codes) for name, codes in load_taxonomy().groups.items()}
    return _update(get_engine(), groups, model_version=model_version, since=since, full=full)


def _not_a_brief_error(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a brief only for unexpected errors: a bad month, missing data or font will fail again."""
    from brief.render import BriefError

    try:
        state.result()
    except BriefError:
        return False
    except Exception:
        return True
    return False


@task(name="render-brief", task_run_name="render-brief-{month}-{lang}", retries=1, retry_delay_seconds=[10],
      retry_condition_fn=_not_a_brief_error, timeout_seconds=900, cache_policy=NO_CACHE)
def render_brief(month: str, lang: str = "zh", output: str | None = None,
                 country: str | None = None) -> BriefResult:
    """Render (or re-render) the PDF brief of ``month`` for ``country`` (default the largest market); it
    records itself in the ``briefs`` table."""
    from pathlib import Path

    from brief.render import render_brief as _render

    return _render(get_engine(), month, lang=lang, output=Path(output) if output else None, country=country)


@task(name="headline-findings", cache_policy=NO_CACHE)
def headline_findings(month: str, lang: str = "zh", country: str | None = None) -> tuple[list[str], list[str]]:
    """The month's findings as sentences (the text the brief prints): (headlines, withheld).

    Withheld findings rest on a cell under the minimum size; the brief says so, headlines must not use them.
    """
    from brief.data import findings_arguments
    from brief.findings import headline_findings as _findings

    # The taxonomy's names and groups, exactly as the brief and `labourwatch findings` pass them.
    found = _findings(get_engine(), month, lang, country=country, **findings_arguments())
    return [f.text for f in found if not f.suppressed], [f.text for f in found if f.suppressed]
