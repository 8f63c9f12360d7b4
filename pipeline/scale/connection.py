"""Reaching Redis: URL, credentials, TLS, key prefix, and how long to wait for it.

``redis://[user:password@]host:port/db`` or ``rediss://...`` (TLS). The environment
supplies what should not appear on a command line (where ``ps`` shows it):

* ``BROADSHEET_REDIS_PASSWORD``: the password, when the URL carries none;
* ``BROADSHEET_REDIS_CA``: a CA bundle (PEM) to verify a ``rediss://`` server with,
  e.g. a self-signed certificate (default: the system's CAs);
* ``BROADSHEET_REDIS_PREFIX``: the first part of every key (default ``broadsheet``),
  so that two deployments can share one Redis;
* ``BROADSHEET_REDIS_GIVE_UP``: seconds of retries before a command stops when Redis
  has gone away (default 60).

Crawlers read the same from Scrapy settings of those names (the environment first
for the password and CA).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from pipeline.errors import BroadsheetError

log = logging.getLogger(__name__)
T = TypeVar("T")

PASSWORD_ENV = "BROADSHEET_REDIS_PASSWORD"
CA_ENV = "BROADSHEET_REDIS_CA"
PREFIX_ENV = "BROADSHEET_REDIS_PREFIX"
GIVE_UP_ENV = "BROADSHEET_REDIS_GIVE_UP"
DEFAULT_PREFIX = "broadsheet"
GIVE_UP_SECONDS = 60.0
LOST = (redis.ConnectionError, redis.TimeoutError)


class QueueError(BroadsheetError):
    """Redis cannot be reached, or a message cannot be read."""


class RedisGone(QueueError):
    """Redis stopped answering for longer than the give-up time."""


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


# the password of a URL inside a log line: scheme://[user]:PASSWORD@
PASSWORD_IN_URL = re.compile(
    r"([A-Za-z][A-Za-z0-9+.-]{0,20}://[^\s:/@'\"]{0,200}:)[^\s@'\"/]{1,500}@"
)


class MaskPasswords(logging.Filter):
    """A log filter: the password of any URL in a record shows as ``***`` (Scrapy logs
    its overridden settings, ``BROADSHEET_REDIS_URL`` and ``REDIS_URL`` among them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = PASSWORD_IN_URL.sub(r"\1***@", message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def mask_passwords_in(*names: str) -> None:
    """Put :class:`MaskPasswords` on these loggers, once."""
    for name in names:
        target = logging.getLogger(name)
        if not any(isinstance(f, MaskPasswords) for f in target.filters):
            target.addFilter(MaskPasswords())


def client_options(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments for ``redis.Redis.from_url``: timeouts, one quick retry, and
    the password and CA bundle of the environment."""
    environ = os.environ if environ is None else environ
    options: dict[str, Any] = {
        "socket_connect_timeout": 10,
        "socket_timeout": 30,
        "retry": Retry(ExponentialBackoff(cap=1.0, base=0.2), 1),
    }
    if environ.get(PASSWORD_ENV):
        options["password"] = environ[PASSWORD_ENV]
    if environ.get(CA_ENV):
        options["ssl_ca_certs"] = environ[CA_ENV]
    return options


class EnvRedis(redis.Redis):
    """A Redis client class for scrapy-redis (``REDIS_PARAMS['redis_cls']``): the
    password and CA come from the environment, never from the logged settings."""

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> EnvRedis:
        options = client_options()
        if urlsplit(url).password:
            options.pop("password", None)
        return super().from_url(url, **{**options, **kwargs})


def make_client(url: str) -> redis.Redis:
    """A client for ``url`` (not yet connected); QueueError for a malformed URL."""
    try:
        return EnvRedis.from_url(url)
    except ValueError as error:
        raise QueueError(
            f'invalid Redis URL "{redact(url)}": {error} (e.g. redis://localhost:6379/0)'
        ) from None


def connect(url: str) -> redis.Redis:
    """A client for ``url``, checked with a PING."""
    client = make_client(url)
    try:
        client.ping()
    except redis.AuthenticationError as error:
        raise QueueError(
            f"Redis at {redact(url)} refused the credentials: {error} "
            f"(user:password in the URL, or {PASSWORD_ENV})"
        ) from None
    except redis.RedisError as error:
        raise QueueError(f"cannot reach Redis at {redact(url)}: {error}") from None
    return client


def env_float(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    try:
        return float(text) if text else default
    except ValueError:
        raise QueueError(f"{name}={text!r} is not a number of seconds") from None


def patience_for(url: str) -> Patience:
    """How long commands wait for the Redis at ``url``: ``BROADSHEET_REDIS_GIVE_UP``."""
    return Patience(env_float(GIVE_UP_ENV, GIVE_UP_SECONDS), f"Redis at {redact(url)}")


# -- keys ---------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """Every key broadsheet uses, under one prefix."""

    prefix: str = DEFAULT_PREFIX

    @classmethod
    def from_env(cls) -> Keys:
        return cls(os.environ.get(PREFIX_ENV) or DEFAULT_PREFIX)

    @property
    def items(self) -> str:
        return f"{self.prefix}:items"

    @property
    def pages(self) -> str:
        return f"{self.prefix}:pages"

    @property
    def claim(self) -> str:
        return f"{self.prefix}:loader"

    @property
    def queue_template(self) -> str:
        """scrapy-redis's ``SCHEDULER_QUEUE_KEY``: one request queue per source."""
        return f"{self.escaped}:%(spider)s:requests"

    @property
    def seen_template(self) -> str:
        """scrapy-redis's ``SCHEDULER_DUPEFILTER_KEY``: one seen-set per source."""
        return f"{self.escaped}:%(spider)s:seen"

    @property
    def escaped(self) -> str:
        return self.prefix.replace("%", "%%")


# -- going away ---------------------------------------------------------------


class Patience:
    """Runs Redis calls, retrying while Redis is unreachable for up to ``give_up``
    seconds (one log line when it goes away, one when it is back), then RedisGone."""

    def __init__(self, give_up: float = GIVE_UP_SECONDS, where: str = "Redis") -> None:
        self.give_up = give_up
        self.where = where

    def __call__(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        since: float | None = None
        delay = 0.2
        while True:
            try:
                result = call(*args, **kwargs)
            except redis.AuthenticationError as error:
                raise QueueError(
                    f"{self.where} refused the credentials: {error}"
                ) from None
            except LOST as error:
                now = time.monotonic()
                if since is None:
                    since = now
                    log.warning(
                        "lost %s (%s): retrying for up to %g s",
                        self.where,
                        error,
                        self.give_up,
                    )
                waited = now - since
                if waited >= self.give_up:
                    raise RedisGone(
                        f"{self.where} unreachable for {waited:.0f} s ({error})"
                    ) from None
                time.sleep(min(delay, self.give_up - waited))
                delay = min(delay * 2, 5.0)
                continue
            if since is not None:
                log.warning("%s is back", self.where)
            return result
