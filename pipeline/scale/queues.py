"""Reliable Redis lists between machines: what crawlers and workers hand to the loader.

Keys (all under ``broadsheet:``, or the prefix of ``BROADSHEET_REDIS_PREFIX``)::

    broadsheet:<source>:requests    scrapy-redis request queue of one source (frontier.py)
    broadsheet:<source>:seen        fingerprints of the article URLs requested (frontier.py)
    broadsheet:items                messages for ``broadsheet load``: articles, drops, run rows
    broadsheet:items:processing     taken by the loader, not yet committed
    broadsheet:pages                saved pages fanned out by ``broadsheet replay --redis``
    broadsheet:pages:processing:<name>  taken by the ``broadsheet work`` named so, not done
    broadsheet:<list>:rejected      messages that could not be read (kept for a look)

A message is one JSON object with a ``kind``: ``article`` (``Article.to_dict()``),
``page`` (``Page.to_dict()``, its body base64), ``dropped`` (a page not stored: URL,
source, reason, detail, and the run that dropped it) or
``crawl`` (a ``crawls`` row written by a crawler). :class:`ReliableList` takes a message
by moving it (LMOVE/BLMOVE) to the processing list and removes it (LREM) only once
it has been handled; :meth:`ReliableList.recover` puts whatever a killed consumer
left there back at the head of the list. Delivery is at-least-once: a consumer must
be idempotent (``Store.add`` is).

A message is data only: :func:`decode` checks the JSON against the fields and types of
the record it names (nothing is unpickled or imported) and raises QueueError for
anything else, which the consumer moves to the ``:rejected`` list. Every Redis call of
a :class:`ReliableList` waits out a Redis that went away for a bounded time
(:class:`~pipeline.scale.connection.Patience`), then raises RedisGone.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

import redis

from pipeline.items import Article, Page
from pipeline.runstats import utc_now
from pipeline.scale.connection import (  # noqa: F401 (the queue's public names)
    DEFAULT_PREFIX,
    Keys,
    Patience,
    QueueError,
    RedisGone,
    connect,
)
from pipeline.scale.schema import (
    check_article,
    check_crawl_row,
    check_page,
    json_object,
)
from pipeline.store.drops import Drop

PREFIX = DEFAULT_PREFIX
ITEMS = Keys().items
PAGES = Keys().pages
KINDS = ("article", "page", "dropped", "crawl")
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a page of DOWNLOAD_MAXSIZE, base64, with room
DROP_FIELDS = ("url", "source", "reason", "detail", "run_id", "command")
MAX_DROP_FIELD = 8192  # characters: a URL, a reason, a detail cut at 500


# -- messages -----------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    kind: str
    data: dict[str, Any]

    def article(self) -> Article:
        return Article.from_dict(check_article(self.data))

    def page(self) -> Page:
        data = dict(check_page(self.data))
        try:
            data["body"] = base64.b64decode(data["body"], validate=True)
        except binascii.Error as error:
            raise QueueError(f"page body is not base64: {error}") from None
        return Page.from_dict(data)

    def dropped(self) -> tuple[Drop, bool]:
        """The page a ``dropped`` message is about, and whether the run that sent it
        counts it in its own ``crawls`` row (a crawler does; a replay worker does not)."""
        data = self.data
        fields = {name: data.get(name, "") for name in DROP_FIELDS}
        if not all(isinstance(value, str) for value in fields.values()):
            raise QueueError("a dropped message's fields are strings")
        if not fields["source"] or not fields["reason"]:
            raise QueueError("a dropped message needs a source and a reason")
        if any(len(value) > MAX_DROP_FIELD for value in fields.values()):
            raise QueueError(
                f"a dropped message's field is over {MAX_DROP_FIELD} chars"
            )
        when = data.get("when")
        if when is not None and not isinstance(when, str):
            raise QueueError("a dropped message's time is a string")
        drop = Drop(**fields, when=when[:40] if when else utc_now())
        return drop, data.get("counted") is True

    def crawl_row(self) -> dict[str, Any]:
        return check_crawl_row(self.data)


def article_message(article: Article) -> bytes:
    return _encode("article", article.to_dict())


def page_message(page: Page) -> bytes:
    data = page.to_dict()
    data["body"] = base64.b64encode(page.body).decode("ascii")
    return _encode("page", data)


def dropped_message(
    source: str,
    reason: str,
    url: str,
    detail: str = "",
    run_id: str = "",
    command: str = "",
    counted: bool = False,
) -> bytes:
    """A page not stored; ``counted`` when the sender's own run row counts it."""
    data = {"source": source, "reason": reason, "url": url, "detail": detail[:500]}
    data |= {"run_id": run_id, "command": command, "when": utc_now()}
    return _encode("dropped", {**data, "counted": counted})


def crawl_message(row: dict[str, Any]) -> bytes:
    return _encode("crawl", row)


def _encode(kind: str, data: dict[str, Any]) -> bytes:
    return json.dumps({"kind": kind, "data": data}, ensure_ascii=False).encode()


def decode(raw: bytes) -> Message:
    """The message in ``raw``, or QueueError saying what is wrong with it."""
    value = json_object(raw, MAX_MESSAGE_BYTES, QueueError, "message")
    if value.get("kind") not in KINDS:
        raise QueueError(f"not a broadsheet message: {raw[:80]!r}")
    if not isinstance(value.get("data"), dict):
        raise QueueError(f"{value['kind']} message without data")
    return Message(value["kind"], value["data"])


# -- the list -----------------------------------------------------------------


class ReliableList:
    """A Redis list with a processing list beside it: take, then ack once done."""

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        consumer: str | None = None,
        patience: Patience | None = None,
    ) -> None:
        self.client = client
        self.call = patience or Patience()
        self.key = key
        # One processing list per consumer: a restarted consumer takes back its own.
        self.processing = f"{key}:processing" + (f":{consumer}" if consumer else "")
        self.rejected = f"{key}:rejected"

    def push(self, *raw: bytes) -> None:
        if raw:
            self.call(self.client.rpush, self.key, *raw)

    def take(self, timeout: float = 0) -> bytes | None:
        """The oldest message, now in the processing list; None when there is none
        (after waiting up to ``timeout`` seconds; 0: do not wait)."""
        if timeout > 0:
            return self.call(
                self.client.blmove, self.key, self.processing, timeout, "LEFT", "RIGHT"
            )
        return self.call(self.client.lmove, self.key, self.processing, "LEFT", "RIGHT")

    def ack(self, raw: bytes) -> None:
        """Forget a message that has been handled."""
        self.call(self.client.lrem, self.processing, 1, raw)

    def reject(self, raw: bytes) -> None:
        """Set aside a message that cannot be handled, so that it blocks nothing."""

        def move() -> None:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.rpush(self.rejected, raw)
                pipe.lrem(self.processing, 1, raw)
                pipe.execute()

        self.call(move)

    def recover(self) -> int:
        """Put back, in their order, the messages a killed consumer had taken."""
        moved = 0
        while self.call(self.client.lmove, self.processing, self.key, "RIGHT", "LEFT"):
            moved += 1
        return moved

    def __len__(self) -> int:
        return self.call(self.client.llen, self.key)

    def pending(self) -> int:
        return self.call(self.client.llen, self.processing)
