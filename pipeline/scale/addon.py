"""The Redis add-on of ``ADDONS``, light enough for every crawl to load.

Without a Redis URL it changes nothing and imports nothing more: a crawl that does
not use Redis does not pay for importing redis-py and scrapy-redis (about 0.05 s of
start-up). With one, it switches the crawl over to the shared frontier of
:mod:`pipeline.scale.frontier`.
"""

from __future__ import annotations

from scrapy.settings import BaseSettings


def redis_url(settings: BaseSettings) -> str:
    """The Redis URL the crawl is to use, or ``""`` for none."""
    return settings.get("BROADSHEET_REDIS_URL") or settings.get("REDIS_URL") or ""


class RedisFrontier:
    """Scrapy add-on (``ADDONS``): with a Redis URL set, share the frontier, push items."""

    def update_settings(self, settings: BaseSettings) -> None:
        url = redis_url(settings)
        if not url:
            return
        # imported only now: they import redis-py
        from pipeline.scale.connection import mask_passwords_in
        from pipeline.scale.outage import keys_of

        mask_passwords_in("scrapy.crawler")  # its "Overridden settings" line
        keys = keys_of(settings)
        for name, value in {
            "REDIS_URL": url,
            "REDIS_PARAMS": {"redis_cls": "pipeline.scale.connection.EnvRedis"},
            "SCHEDULER": "pipeline.scale.scheduler.SourceScheduler",
            "SCHEDULER_QUEUE_CLASS": "pipeline.scale.scheduler.JsonQueue",
            "SCHEDULER_SERIALIZER": "pipeline.scale.serializer",
            "DUPEFILTER_CLASS": "pipeline.scale.frontier.ArticleDupeFilter",
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_KEY": keys.queue_template,
            "SCHEDULER_DUPEFILTER_KEY": keys.seen_template,
        }.items():
            settings.set(name, value, priority="addon")
        # the loader normalizes what it takes from Redis (it trusts no message)
        settings["ITEM_PIPELINES"]["pipeline.crawl.pipelines.Normalize"] = None
        settings["ITEM_PIPELINES"]["pipeline.crawl.pipelines.Store"] = None
        settings["ITEM_PIPELINES"]["pipeline.scale.frontier.PushItems"] = 300
        # feed_state lives in the loader's database: listings are fetched in full.
        middlewares = settings["DOWNLOADER_MIDDLEWARES"]
        middlewares["pipeline.crawl.middlewares.ConditionalListings"] = None
        middlewares["pipeline.scale.frontier.ForgetFailed"] = 50
