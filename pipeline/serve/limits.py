"""A budget of errors per client, for a Datasette served in public.

Every answer of 400 or more (a 404, a refused ``?sql=``, a query that ran out of time)
spends one token of its client's bucket; the bucket holds :data:`ERROR_BURST` tokens
and refills at :data:`ERRORS_PER_SECOND`. A client whose bucket is empty is answered
``429 Too Many Requests`` with ``Retry-After`` for every request, without Datasette
seeing it, until a token comes back; the answer is held until then (at most
:data:`HOLD_SECONDS`, for at most :data:`MAX_HELD` requests at once), so that a client
that asks again as soon as it is answered asks about once a second rather than as fast
as the server can refuse.

A visitor who reads pages spends nothing; a client flooding errors gets a few at full
price and then one a second. Memory is bounded: only clients with tokens spent are
remembered, at most :data:`MAX_CLIENTS` (the least recently charged are forgotten),
and IPv6 clients are counted by their /64 network.

May import: the standard library.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

ERROR_BURST = 20
ERRORS_PER_SECOND = 1.0
MAX_CLIENTS = 10_000
MAX_HELD = 256
HOLD_SECONDS = 1.0

ASGIApp = Callable[..., Awaitable[None]]
log = logging.getLogger("uvicorn.error")  # Datasette's server logs there, to stderr


@dataclass
class Bucket:
    tokens: float
    stamp: float
    noted: bool = False  # its running out was logged


class ErrorBudget:
    """Token buckets of errors, one per client, at most ``max_clients`` of them."""

    def __init__(
        self,
        burst: int = ERROR_BURST,
        per_second: float = ERRORS_PER_SECOND,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst, self.per_second = float(burst), per_second
        self.max_clients, self.clock = max_clients, clock
        self.buckets: OrderedDict[str, Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self.buckets)

    def _refill(self, client: str) -> Bucket | None:
        bucket = self.buckets.get(client)
        if bucket is None:
            return None
        now = self.clock()
        bucket.tokens = min(
            self.burst, bucket.tokens + (now - bucket.stamp) * self.per_second
        )
        bucket.stamp = now
        if bucket.tokens >= self.burst:  # as good as new: forget it
            del self.buckets[client]
            return None
        return bucket

    def wait(self, client: str) -> float:
        """Seconds until ``client`` may be served again; 0 when it may now."""
        bucket = self._refill(client)
        if bucket is None or bucket.tokens >= 1:
            return 0.0
        return (1 - bucket.tokens) / self.per_second

    def charge(self, client: str) -> bool:
        """Spend a token of ``client`` for an error; True when it has just run out."""
        bucket = self._refill(client)
        if bucket is None:
            bucket = Bucket(self.burst, self.clock())
            self.buckets[client] = bucket
            while len(self.buckets) > self.max_clients:
                self.buckets.popitem(last=False)
        self.buckets.move_to_end(client)
        bucket.tokens = max(0.0, bucket.tokens - 1)
        if bucket.tokens < 1 and not bucket.noted:
            bucket.noted = True
            return True
        return False


def client_key(scope: dict[str, Any]) -> str:
    """The client's address (its /64 network for IPv6); '' when there is none."""
    client = scope.get("client")
    if not client:
        return ""
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return str(client[0])
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class ErrorLimit:
    """ASGI middleware: ``app`` behind an :class:`ErrorBudget`."""

    def __init__(self, app: ASGIApp, budget: ErrorBudget | None = None) -> None:
        self.app = app
        self.budget = budget or ErrorBudget()
        self.held = 0

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        client = client_key(scope)
        wait = self.budget.wait(client)
        if wait > 0:
            await self.refuse(send, wait)
            return
        status = 0

        async def watch(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if (status == 0 or status >= 400) and self.budget.charge(client):
                log.info(
                    "%s spent %d errors: answered 429 until it slows down",
                    client or "a client",
                    int(self.budget.burst),
                )

    async def refuse(self, send: Any, wait: float) -> None:
        """429 with Retry-After, held for ``wait`` seconds when few are held."""
        retry = str(max(1, math.ceil(wait)))
        if self.held < MAX_HELD:
            self.held += 1
            try:
                await asyncio.sleep(min(wait, HOLD_SECONDS))
            finally:
                self.held -= 1
        body = f"Too many errors from your address: retry in {retry} s\n".encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"retry-after", retry.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
