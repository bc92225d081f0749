"""The benchmark tables stay readable at 80 columns: no line is wider, and a row is one line."""

from __future__ import annotations

from types import SimpleNamespace

from rich.console import Console

from flows.cli_bench import crawl_tables, trends_tables


def _render(tables: list) -> list[str]:  # type: ignore[type-arg]
    console = Console(width=80, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    for t in tables:
        console.print(t)
    return console.export_text().splitlines()


def test_crawl_tables_fit_80_columns_one_line_a_row() -> None:
    rows = [SimpleNamespace(source=s, status="succeeded", pages=12_345, seconds=123.4, pages_per_s=100.1,
                            peak_rss_mb=812.0, expected=10_000, stored=10_000, missing=0, duplicates=0, extra=0,
                            dropped=123) for s in ("demo_html", "demo_api", "demo_html (again)")]
    lines = _render(crawl_tables(rows, "crawl benchmark: 20000 postings, seed 2026, faults"))
    assert max(map(len, lines)) <= 80
    for header in ("peak MB", "pages/s", "expected", "missing", "dropped"):
        assert sum(header in line for line in lines) == 1, header
    assert sum("demo_html (again)" in line for line in lines) == 2  # one row in each table, unwrapped
    assert any("demo_html (again)" in line and "12345" in line and "100.1" in line for line in lines)


def test_trends_tables_fit_80_columns_with_steps_on_one_line() -> None:
    steps = [SimpleNamespace(label=label, seconds=1234.56, peak_rss_mb=1024.0, result=result) for label, result in (
        ("load (Python generator)", "10,000,000 postings + labels; +512 MB"),
        ("full recompute", "27 months, 117 weeks; 466,560 rows changed; +20 MB"),
        ("repeat (nothing changed)", "0 months, 0 weeks; 0 rows changed; +0 MB"),
        ("one night: load +11,111", "11,111 postings + labels; +3 MB"),
        ("update after the night", "1 months, 1 weeks; 1,234 rows changed; +1 MB"))]
    queries = [("demand_by_role", 1_234, [0.1234, 0.01, 0.009]), ("ai_share_by_group", 99, [0.5, 0.4, 0.3])]
    lines = _render(trends_tables("bench trends — sqlite, 10,000,000 postings, 54,432 demand rows, 381,024 "
                                  "share rows", steps, queries))
    assert max(map(len, lines)) <= 80
    for step in steps:  # the label, its time and its memory on one line (only the result wraps)
        assert any(step.label in line and "1234.56" in line and "1024" in line for line in lines), step.label
    assert any("demand_by_role" in line and "1,234" in line and "0.009" in line for line in lines)


def test_train_tables_fit_80_columns_a_column_per_run() -> None:
    from flows.cli_bench import train_tables

    stages = (("training examples", 0.2), ("segmenter and embedding engine", 3.5),
              ("role head: tokens and tf-idf", 2.4), ("role head: title embeddings", 15.9),
              ("role head: solver", 6.1), ("writing the artifact", 0.4))
    runs = [SimpleNamespace(seconds=28.5 + i, process_seconds=34.0 + i, peak_rss_mb=1051.0, stages=stages)
            for i in range(6)]
    lines = _render(train_tables(runs))
    assert max(map(len, lines)) <= 80
    assert sum("run 4" in line for line in lines) == 1 and not any("run 5" in line for line in lines)
    assert any("role head: title embeddings" in line and "15.9" in line for line in lines)
    assert any(line.split()[:3] == ["6", "33.5", "39.0"] for line in lines)  # every run in the first table


def test_train_tables_line_stages_up_by_name() -> None:
    """A run whose stages come in another order, or without one, still puts each figure in its stage's row."""
    from flows.cli_bench import train_tables

    first = SimpleNamespace(seconds=30.0, process_seconds=35.0, peak_rss_mb=1000.0,
                            stages=(("examples", 0.2), ("embeddings", 16.0), ("solver", 6.0)))
    other = SimpleNamespace(seconds=31.0, process_seconds=36.0, peak_rss_mb=1000.0,
                            stages=(("solver", 7.5), ("examples", 0.3), ("writing", 0.4)))
    lines = _render(train_tables([first, other])[1:])
    header = next(line for line in lines if "run 2" in line)
    ends = [header.index("run 1") + 5, header.index("run 2") + 5]  # the figures are right-aligned under these

    def cells(stage: str) -> list[str]:
        line = next(line.ljust(ends[1]) for line in lines if line.split()[:1] == [stage])
        return [line[end - 5 : end].strip() for end in ends]

    assert [cells(s) for s in ("examples", "embeddings", "solver", "writing")] == [
        ["0.2", "0.3"], ["16.0", ""], ["6.0", "7.5"], ["", "0.4"]]
