"""Failure labels: what happened to a request that brought no usable answer.

One short stable label per failure (``http-404``, ``timeout``, ``dns``,
``connection-refused``, ``too-large``, ``redirect-not-followed`` ...), the same in the
spider's counts, the run summary and the ``crawls`` table.
"""

from __future__ import annotations

import re

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectError,
    ConnectionRefusedError,
    DNSLookupError,
    NoRouteError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

# Failures meaning "the host cannot be reached at all", as opposed to an answer.
NETWORK_FAILURES = {
    "dns",
    "connection-refused",
    "connection-timeout",
    "no-route",
    "connection-failed",
}
# Failures a later request would meet again; every other one may pass.
LASTING_FAILURES = {
    "robots",
    "redirect-loop",
    "redirect-not-followed",
    "too-large",
    "offsite",
    "ignored",
}


def may_pass(reason: str) -> bool:
    """Whether a failure might not happen again: a timeout, a 5xx, a 429 may pass; a
    404, a robots.txt refusal or a redirect loop will not."""
    if reason in LASTING_FAILURES:
        return False
    if reason.startswith("http-4"):
        return reason in {"http-408", "http-429"}
    return True


def failure_reason(failure: Failure) -> str:
    """A short stable label for a failed request: http-404, timeout, dns, too-large ..."""
    error = failure.value
    if isinstance(error, HttpError):
        status = error.response.status
        return "redirect-not-followed" if 300 <= status < 400 else f"http-{status}"
    if isinstance(error, IgnoreRequest):
        message = str(error).lower()
        for words, slug in (
            ("robots", "robots"),
            ("redirect", "redirect-loop"),
            ("offsite", "offsite"),
        ):
            if words in message:
                return slug
        return "ignored"
    if isinstance(error, DownloadCancelledError) and "max size" in str(error):
        return "too-large"
    for kind, slug in (
        ((CannotResolveHostError, DNSLookupError), "dns"),
        (
            (DownloadConnectionRefusedError, ConnectionRefusedError),
            "connection-refused",
        ),
        (TCPTimedOutError, "connection-timeout"),
        ((DownloadTimeoutError, TimeoutError), "timeout"),
        (NoRouteError, "no-route"),
        (ConnectError, "connection-failed"),
        (ResponseDataLossError, "data-loss"),
    ):
        if isinstance(error, kind):
            return slug
    return re.sub(r"(?<!^)(?=[A-Z])", "-", type(error).__name__).lower()
