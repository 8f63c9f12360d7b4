"""Scrapy settings for broadsheet (scrapy.cfg: ``default = pipeline.settings``).

Polite by default: robots.txt obeyed, AutoThrottle, two requests at a time per domain,
an honest User-Agent with a contact URL, retries with backoff that honour Retry-After,
download size and time limits. broadsheet's own knobs carry a ``BROADSHEET_`` prefix;
every one can be overridden with ``-s NAME=VALUE`` (``scrapy crawl`` and
``broadsheet crawl`` alike) and some by options of ``broadsheet crawl``.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("broadsheet")
except PackageNotFoundError:  # running from a checkout that was never installed
    VERSION = "0.0.0"

BOT_NAME = "broadsheet"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "pipeline.crawl.commands"  # scrapy crawl: source checked, exit status

USER_AGENT = f"broadsheet/{VERSION} (+https://github.com/broadsheet-news/broadsheet)"
ROBOTSTXT_OBEY = True

# Politeness: few parallel requests per site, delays that follow the site's latency.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Items a response's output may have in the item pipelines at once. The news spider
# yields one item an article page (and requests only from a listing), so 1 loses no
# parallelism: pages of different responses still go through the pipelines together.
# Scrapy starts that many asyncio tasks for every response; its default of 100 cost
# the crawling process about 0.8 ms of CPU a page.
CONCURRENT_ITEMS = 1
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Limits: a page is never that big, and a site that does not answer is not waited for.
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30
REDIRECT_MAX_TIMES = 5
DNS_TIMEOUT = 15

# Retries: Scrapy's RetryMiddleware replaced by one that waits (Retry-After, backoff).
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
RETRY_GIVE_UP_LOG_LEVEL = "DEBUG"  # the spider logs the failure, once
BROADSHEET_RETRY_BACKOFF = 2.0  # seconds before the first retry, doubled each time
BROADSHEET_RETRY_AFTER_MAX = 120.0  # a longer Retry-After gives up instead of waiting

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "pipeline.crawl.middlewares.PoliteRetry": 550,
    "pipeline.crawl.middlewares.Incremental": 60,  # before robots.txt (100): a skip fetches nothing
    "pipeline.crawl.middlewares.ConditionalListings": 70,
    "pipeline.crawl.record.WarcRecorder": 950,  # next to the wire: raw bytes, every response
    # just before HttpCompressionMiddleware (590) on a response's way in
    "pipeline.crawl.middlewares.PlainWhileCompressed": 595,
    # Scrapy's meta-refresh redirects, with a refresh ruled out in the bytes first
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "pipeline.crawl.middlewares.MetaRefresh": 580,
}

# HTTP(S) downloads whose timeout is capped by the time left in the source's budget
DOWNLOAD_HANDLERS = {
    "http": "pipeline.crawl.budget.BudgetedHTTP",
    "https": "pipeline.crawl.budget.BudgetedHTTP",
}

ITEM_PIPELINES = {
    "pipeline.crawl.pipelines.Extract": 100,
    "pipeline.crawl.pipelines.Normalize": 200,
    "pipeline.crawl.pipelines.Store": 300,
}

EXTENSIONS = {
    "pipeline.crawl.middlewares.QuietLogs": 0,
    "pipeline.crawl.progress.LiveProgress": 10,  # with BROADSHEET_PROGRESS only
}

# With BROADSHEET_REDIS_URL set, crawlers share a Redis frontier and push articles to
# Redis for `broadsheet load` (pipeline/scale/frontier.py); otherwise this add-on does
# nothing and imports nothing more (pipeline/scale/addon.py).
ADDONS = {
    "pipeline.scale.addon.RedisFrontier": 0,
}

LOG_LEVEL = (
    "WARNING"  # -v: INFO, -vv: DEBUG (broadsheet crawl); -L LEVEL (scrapy crawl)
)
LOG_FORMATTER = "pipeline.crawl.pipelines.LogFormatter"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
# A crawler opens no listening port: Scrapy's telnet console and remote control are
# off, and left out of the extensions Scrapy loads, since Scrapy imports every
# extension it lists, even one switched off (the remote control's aiohttp costs every
# crawl 0.1-0.2 s of start-up). EXTENSIONS_BASE is Scrapy's own without those two
# (tests/test_crawl.py checks it still is); written out, as a replay imports this
# module and must not import Scrapy for it.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
EXTENSIONS_BASE = {
    "scrapy.extensions.corestats.CoreStats": 0,
    "scrapy.extensions.logcount.LogCount": 0,
    "scrapy.extensions.memusage.MemoryUsage": 0,
    "scrapy.extensions.memdebug.MemoryDebugger": 0,
    "scrapy.extensions.closespider.CloseSpider": 0,
    "scrapy.extensions.feedexport.FeedExporter": 0,
    "scrapy.extensions.logstats.LogStats": 0,
    "scrapy.extensions.spiderstate.SpiderState": 0,
    "scrapy.extensions.throttle.AutoThrottle": 0,
}
STATS_DUMP = (
    False  # the run summary (pipeline.runstats) says what matters; -s STATS_DUMP=1
)

# broadsheet's own settings.
BROADSHEET_OUTPUT = "output"  # markdown tree + broadsheet.db
BROADSHEET_SOURCES = (
    ""  # a sources TOML file; empty: the packaged pipeline/sources.toml
)
BROADSHEET_LIMIT = 0  # at most N article requests per source; 0: no limit
BROADSHEET_REFRESH = False  # fetch stored and dropped articles again, ignore feed ETags
BROADSHEET_DROP_MEMORY = (
    7.0  # days a URL dropped for a lasting reason is not asked again
)
BROADSHEET_PROGRESS = (
    False  # a live display per source (broadsheet crawl on a terminal)
)
BROADSHEET_LAYOUT = ""  # a layout TOML file; empty: the one the database records
BROADSHEET_RECORD = ""  # a folder: write every response as WARC there
BROADSHEET_SITEMAP_MAX_AGE = 3.0  # days: older sitemap entries (by lastmod) are skipped
BROADSHEET_FEED_MAX_AGE = 0.0  # days: older feed entries (by date) are skipped; 0: none
# Bounds of one source's run; the summary and the crawls row name the one reached.
BROADSHEET_SOURCE_BUDGET = 1800.0  # seconds a source may crawl per run; 0: no budget
BROADSHEET_MAX_SITEMAPS = 200  # child sitemaps followed per source per run
BROADSHEET_SITEMAP_DEPTH = 3  # sitemap indexes nested deeper than this are not followed
BROADSHEET_SITEMAP_MAX_URLS = 50_000  # entries read per sitemap (the protocol's limit)
BROADSHEET_COMMAND = "scrapy crawl"  # what the crawls table says started the run
BROADSHEET_RUN_ID = ""  # groups the sources of one run; empty: one is made up
BROADSHEET_LOCK_HELD = False  # the caller holds the output lock already
BROADSHEET_REDIS_URL = (
    ""  # redis[s]://[USER:PASSWORD@]HOST:PORT/DB: shared frontier, items to Redis
)
# The password (BROADSHEET_REDIS_PASSWORD) and a CA bundle for rediss:// (BROADSHEET_REDIS_CA)
# are read from the environment only, so that no setting or command line shows them.
BROADSHEET_REDIS_PREFIX = os.environ.get("BROADSHEET_REDIS_PREFIX", "broadsheet")
BROADSHEET_REDIS_GIVE_UP = 60.0  # seconds of retries when Redis goes away, then stop
try:
    BROADSHEET_REDIS_GIVE_UP = float(os.environ.get("BROADSHEET_REDIS_GIVE_UP") or 60)
except ValueError:  # broadsheet load, work and replay say what is wrong with it
    pass
# Queued requests are JSON, checked when read back; never pickle (pipeline/scale/serializer.py).
SCHEDULER_SERIALIZER = "pipeline.scale.serializer"
