"""Scrapy settings of the labourwatch crawlers; per-source values come from the sources config."""

from __future__ import annotations

BOT_NAME = "labourwatch"
SPIDER_MODULES = ["scrapers.spiders"]
NEWSPIDER_MODULE = "scrapers.spiders"

# A good citizen: robots.txt, a named user agent (set from settings.user_agent by scrapers.crawl_process),
# adaptive throttling, bounded concurrency.
ROBOTSTXT_OBEY = True
USER_AGENT = "labourwatch/0.1 (+https://github.com/labourwatch/labourwatch)"
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_DELAY = 0.25
DOWNLOAD_TIMEOUT = 30
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

# Retries with backoff on 429/5xx and network errors; Retry-After honoured (scrapers.middlewares).
RETRY_ENABLED = True
RETRY_TIMES = 6
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
DOWNLOADER_MIDDLEWARES = {
    "scrapers.middlewares.RequestBudgetMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "scrapers.middlewares.BackoffRetryMiddleware": 550,
    "scrapers.middlewares.BlockedPageMiddleware": 560,
}
# A page cut short (Content-Length not reached) is an error to retry, never a silently short body.
DOWNLOAD_FAIL_ON_DATALOSS = True

# A source crawled by several processes (LABOURWATCH_CRAWL_SHARDS, `labourwatch crawl --shards`): each keeps its
# own part of the detail pages and postings (scrapers.sharding); off with one shard.
SPIDER_MIDDLEWARES = {"scrapers.sharding.ShardMiddleware": 50}
LW_SHARD = 0  # this process's shard, 0 … LW_SHARDS-1 (set per process by scrapers.crawl_process)
LW_SHARDS = 1

ITEM_PIPELINES = {
    "scrapers.pipelines.normalise.NormalisePipeline": 300,
    "scrapers.pipelines.validate.ValidatePipeline": 400,
    "scrapers.pipelines.dedupe.DedupePipeline": 500,
    "scrapers.pipelines.store.StorePipeline": 900,
}

# Resumable crawls keep their queue on disk (JOBDIR is set per source by scrapers.crawl_process); FIFO order keeps
# list/sitemap pages ahead of details without a huge pending set.
SCHEDULER_DISK_QUEUE = "scrapers.queues.FastPickleFifoDiskQueue"  # scrapy's format, cheaper callback lookup
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

LOG_LEVEL = "INFO"
# Scrapy parses the source of every generator callback to warn about `return value` in it; the bound
# methods it caches by die at once, so that costs an ast.parse per response. Our spiders are tested instead.
WARN_ON_GENERATOR_RETURN_VALUE = False
LOGSTATS_INTERVAL = 30.0
# A live display's counters (scrapers.progress): written only when LW_PROGRESS_FILE is set (scrapers.crawl.crawl
# sets it when its caller passes a progress callback).
EXTENSIONS = {"scrapers.progress.ProgressFile": 500}
LW_PROGRESS_FILE = ""
LW_PROGRESS_INTERVAL = 2.0  # seconds between two snapshots

# labourwatch settings (LW_*), overridable per source (`settings:` in sources.yaml) or per run.
LW_MAX_REQUESTS = 0  # request budget per run; 0 = unlimited
LW_MAX_DROP_RATE = 0.25  # fail the run when more than this share of pages/items is dropped
LW_DROP_RATE_MIN_ITEMS = 20
LW_PARSE_RETRIES = 2  # refetches of a page that did not parse (truncated, wrong encoding) before dropping
LW_RETRY_BACKOFF_BASE = 0.5
LW_RETRY_MAX_DELAY = 60.0
LW_STORE_BATCH = 1000  # postings per store transaction (and at least every LW_STORE_INTERVAL s)
LW_STORE_INTERVAL = 5.0
LW_INCREMENTAL = True  # skip detail pages stored and unchanged since (lastmod / updateTime)
LOG_FORMATTER = "scrapers.logformatter.QuietDropLogFormatter"
CONCURRENT_ITEMS = 16  # fewer idle item workers per response: less asyncio overhead
# uvloop's event loop under the asyncio reactor: 11–13% less CPU per page than asyncio's own loop
# (`labourwatch bench crawl`, side by side), the same pages and postings.
ASYNCIO_EVENT_LOOP = "uvloop.Loop"
