"""Demo board commands: serve it, export its ground truth, show sample postings."""

from __future__ import annotations

import json
import random
from pathlib import Path

import typer
from rich.console import Console

console = Console(soft_wrap=True)
app = typer.Typer()


def format_posting(p: object) -> str:
    """A posting as a reader would see it on the board, followed by its true labels."""
    from demoboard.generator import DemoPosting

    assert isinstance(p, DemoPosting)
    fields = [("style", f"{p.style} {p.path}"), ("title", p.title), ("company", p.company),
              ("city", p.city), ("salary", p.salary_text), ("experience field", p.experience_text),
              ("education", p.education_text), ("posted", f"{p.posted_at} {p.posted_time}")]
    head = "\n".join(f"{k:>16}: {v if v is not None else '—'}" for k, v in fields)
    exp = "unstated" if p.experience_min_years is None else (
        f"{p.experience_min_years}" + (f"-{p.experience_max_years}" if p.experience_max_years is not None else "+"))
    labels = (f"TRUE LABELS: role={p.role_category} experience={exp} years (bucket {p.experience_bucket}, "
              f"3+={p.requires_3plus_years}) ai={p.ai_level}"
              + (" DUPLICATE" if p.is_duplicate else "") + (" MALFORMED" if p.malformed else ""))
    return f"{head}\n{p.description}\n{labels}"



@app.command("demo-board")
def demo_board(
    port: int | None = typer.Option(None, "--port", help="Port; default LABOURWATCH_DEMO_BOARD_PORT (8765); "
                                    "0 picks a free one."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    postings: int | None = typer.Option(None, "--postings", help="Postings to generate; default "
                                        "LABOURWATCH_DEMO_POSTINGS (20000)."),
    seed: int | None = typer.Option(None, "--seed", help="Generator seed; default LABOURWATCH_DEMO_SEED."),
    faults: str = typer.Option("", "--faults", help='Fault injection, e.g. "500=0.05,429=0.05,slow=0.01,'
                               'truncate=0.01,encoding=0.01,burst=3,seed=1".'),
    truth_dir: Path | None = typer.Option(None, "--truth-dir", help="Also write the ground truth CSVs here."),
    ai_share_group: str = typer.Option("all", "--ai-share-group", help="Population whose AI share follows "
                                       "22% (2025) → 34% (2026): all or new_economy."),
) -> None:
    """Serve the demo job board on HOST:PORT in the foreground (Ctrl-C stops it)."""
    from demoboard.generator import generate
    from demoboard.server import DemoBoard, FaultConfig
    from demoboard.truth import write_truth
    from labourwatch.settings import get_settings

    settings = get_settings()
    try:
        fault_cfg = FaultConfig.parse(faults)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from None
    n = postings if postings is not None else settings.demo_postings
    s = seed if seed is not None else settings.demo_seed
    with console.status(f"generating {n:,} postings (seed {s})"):
        try:
            dataset = generate(n, s, ai_share_group=ai_share_group)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    if truth_dir is not None:
        files = write_truth(dataset, truth_dir)
        console.print(f"ground truth: {files.postings}, {files.monthly}, {files.headline}")
    board = DemoBoard(dataset, host=host, port=settings.demo_board_port if port is None else port,
                      faults=fault_cfg)
    board.start()
    console.print(f"demo board on [bold]{board.url}[/bold]: {len(board.html_postings):,} HTML pages "
                  f"(/sitemap.xml, /jobs), {len(board.api_postings):,} API postings (/api/positions)"
                  + (f"; faults {fault_cfg.spec()}" if fault_cfg.active else ""))
    try:
        assert board._thread is not None
        while board._thread.is_alive():
            board._thread.join(timeout=0.5)
    except KeyboardInterrupt:
        console.print(f"stopping; requests served: {dict(board.requests)}")
    finally:
        board.stop()



@app.command("demo-truth")
def demo_truth(
    out: Path = typer.Argument(..., help="Directory for truth_postings.csv, truth_monthly.csv and "
                               "truth_headline.json."),
    postings: int | None = typer.Option(None, "--postings", help="Default LABOURWATCH_DEMO_POSTINGS."),
    seed: int | None = typer.Option(None, "--seed", help="Default LABOURWATCH_DEMO_SEED."),
    ai_share_group: str = typer.Option("all", "--ai-share-group", help="Population whose AI share follows "
                                       "22% (2025) → 34% (2026): all or new_economy."),
) -> None:
    """Write the demo board's ground truth (streamed: flat memory even for a million postings)."""
    from demoboard.generator import iter_postings
    from demoboard.truth import write_truth
    from labourwatch.settings import get_settings

    settings = get_settings()
    n = postings if postings is not None else settings.demo_postings
    s = seed if seed is not None else settings.demo_seed
    try:
        files = write_truth(iter_postings(n, s, ai_share_group=ai_share_group), out)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    console.print(f"wrote {files.postings}, {files.monthly}, {files.headline}")
    h = json.loads(files.headline.read_text(encoding="utf-8"))
    yoy, ai, ne = h["yoy_2026_03_vs_2025_03"], h["ai_share_by_year"], h["ai_share_new_economy_by_year"]

    def pct(x: float | None, sign: str = "") -> str:
        return "n/a" if x is None else f"{x:{sign}.1%}"

    console.print(f"2026-03 vs 2025-03: software_dev {pct(yoy['software_dev'], '+')}, design_basic "
                  f"{pct(yoy['design_basic'], '+')}, supply_chain_repetitive "
                  f"{pct(yoy['supply_chain_repetitive'], '+')}; AI share 2025 → 2026: all {pct(ai['2025'])} → "
                  f"{pct(ai['2026'])}, new economy {pct(ne['2025'])} → {pct(ne['2026'])}; 3+ years in the "
                  f"newest months {pct(h['share_3plus_newest_months'])}")



@app.command("demo-sample")
def demo_sample(
    zh: int = typer.Option(5, "--zh", help="Chinese postings to show."),
    en: int = typer.Option(5, "--en", help="English postings to show."),
    postings: int = typer.Option(20000, "--postings", help="Size of the generated board."),
    seed: int | None = typer.Option(None, "--seed", help="Default LABOURWATCH_DEMO_SEED."),
    pick: int = typer.Option(1, "--pick", help="Seed of the random pick."),
) -> None:
    """Print sample postings with their true labels, to judge the text."""
    from demoboard.generator import generate
    from labourwatch.settings import get_settings

    dataset = generate(postings, get_settings().demo_seed if seed is None else seed)
    rng = random.Random(pick)
    chosen = []
    for lang, k in (("zh", zh), ("en", en)):
        pool = [p for p in dataset.postings if p.lang == lang and not p.malformed and not p.is_duplicate]
        chosen += rng.sample(pool, min(k, len(pool)))
    for i, p in enumerate(chosen, 1):
        console.rule(f"sample {i}")
        console.print(format_posting(p), markup=False, highlight=False)
