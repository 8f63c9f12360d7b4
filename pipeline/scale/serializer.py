"""Scrapy requests as JSON in the shared Redis queue: data only, checked when read back.

scrapy-redis stores each queued request as ``serializer.dumps(request.to_dict())`` and
rebuilds it with ``request_from_dict(serializer.loads(raw))``; its default serializer is
pickle, which runs whatever code a message names. This module is broadsheet's
``SCHEDULER_SERIALIZER``: a request becomes a JSON object, bytes as base64, a feed's
:class:`~pipeline.items.Hints` tagged, and :func:`loads` accepts only what broadsheet's
spider writes: an http(s) URL, a known callback, GET or HEAD, no request class
(``_class`` would import and instantiate any class), bounded size. Anything else raises
:class:`BadRequestMessage`, which the queue counts and sets aside (frontier.py).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import asdict, fields
from typing import Any

from pipeline.items import Hints
from pipeline.scale.queues import QueueError
from pipeline.scale.schema import json_object

log = logging.getLogger(__name__)
MAX_BYTES = 1024 * 1024  # a GET request with its meta is a few KB
CALLBACKS = frozenset(
    {"parse", "parse_listing", "parse_section", "parse_article", "failed"}
)
METHODS = frozenset({"GET", "HEAD"})
FIELDS = frozenset(
    {
        "url",
        "callback",
        "errback",
        "headers",
        "method",
        "body",
        "cookies",
        "meta",
        "encoding",
        "priority",
        "dont_filter",
        "flags",
        "cb_kwargs",
    }
)
# What broadsheet's spider and Scrapy's middlewares put in a request's meta before it is
# queued; anything else is left out when a request is read back (``proxy``,
# ``download_maxsize`` or ``dont_obey_robotstxt`` from a stranger would be obeyed).
META_KEYS = frozenset(
    {
        "broadsheet",
        "broadsheet_listings",
        "broadsheet_counted",
        "broadsheet_skipped",
        "hints",
        "pattern",
        "handle_httpstatus_list",
        "redirect_urls",
        "redirect_reasons",
        "redirect_times",
        "redirect_ttl",
        "retry_times",
        "depth",
    }
)
COUNTS = ("redirect_times", "redirect_ttl", "retry_times", "depth")
BYTES_TAG = "$bytes"
HINTS_TAG = "$hints"
HINT_FIELDS = frozenset(f.name for f in fields(Hints))
HINT_TEXT = HINT_FIELDS - {"keywords"}


class BadRequestMessage(QueueError):
    """A message in a request queue that is not a request broadsheet wrote."""


class Unencodable(ValueError):
    """A meta value that has no JSON form (it is left out of the message)."""


# -- writing ------------------------------------------------------------------


def dumps(request: dict[str, Any]) -> bytes:
    """JSON for the dict of ``Request.to_dict(spider=...)``."""
    for name in ("callback", "errback"):
        if request.get(name) not in (None, *CALLBACKS):
            raise BadRequestMessage(f"{name} {request[name]!r} cannot be queued")
    if "_class" in request:
        raise BadRequestMessage(f"a {request['_class']} cannot be queued")
    data = {key: value for key, value in request.items() if key in FIELDS}
    data["headers"] = {
        _text(name): [_text(value) for value in values]
        for name, values in (request.get("headers") or {}).items()
    }
    data["body"] = base64.b64encode(request.get("body") or b"").decode("ascii")
    data["meta"] = _meta(request.get("meta") or {}, request.get("url", ""))
    data["cb_kwargs"] = _meta(request.get("cb_kwargs") or {}, request.get("url", ""))
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _meta(meta: dict[str, Any], url: str) -> dict[str, Any]:
    kept = {}
    for key, value in meta.items():
        try:
            kept[str(key)] = _encode(value)
        except Unencodable as error:
            log.debug("meta %s of %s left out of the queue: %s", key, url, error)
    return kept


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return {BYTES_TAG: base64.b64encode(value).decode("ascii")}
    if isinstance(value, Hints):
        return {HINTS_TAG: _encode(asdict(value))}
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        if any(not isinstance(k, str) or k.startswith("$") for k in value):
            raise Unencodable("keys must be text not starting with $")
        return {key: _encode(item) for key, item in value.items()}
    raise Unencodable(f"a {type(value).__name__}")


# -- reading ------------------------------------------------------------------


def loads(raw: bytes | str) -> dict[str, Any]:
    """The request dict in ``raw``, for ``request_from_dict``; BadRequestMessage if it
    is not a request that :func:`dumps` could have written."""
    data = json_object(raw, MAX_BYTES, BadRequestMessage, "request")
    try:
        return _checked(data)
    except (TypeError, ValueError, binascii.Error, RecursionError) as error:
        raise BadRequestMessage(f"not a broadsheet request: {error}") from None


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - FIELDS
    if unknown:
        raise ValueError(f"unexpected fields {sorted(unknown)}")
    url = _typed(data, "url", str, required=True)
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url[:80]!r}")
    for name in ("callback", "errback"):
        if data.get(name) not in (None, *CALLBACKS):
            raise ValueError(f"unknown {name} {str(data[name])[:40]!r}")
    method = _typed(data, "method", str) or "GET"
    if method not in METHODS:
        raise ValueError(f"method {method[:10]!r}")
    headers = _typed(data, "headers", dict) or {}
    for values in headers.values():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise TypeError("header values must be lists of text")
    checked = dict(data)
    checked["headers"] = {
        name.encode("latin-1"): [v.encode("latin-1") for v in values]
        for name, values in headers.items()
    }
    checked["body"] = base64.b64decode(_typed(data, "body", str) or "", validate=True)
    checked["meta"] = _meta_read(_decode(_typed(data, "meta", dict) or {}))
    checked["cb_kwargs"] = _decode(_typed(data, "cb_kwargs", dict) or {})
    for name, kind in (
        ("priority", int),
        ("dont_filter", bool),
        ("flags", list),
        ("encoding", str),
    ):
        _typed(data, name, kind)
    if not isinstance(data.get("cookies", {}), (dict, list)):
        raise TypeError("cookies must be an object or a list")
    return checked


def _meta_read(meta: dict[str, Any]) -> dict[str, Any]:
    """The keys of META_KEYS, their values checked where they steer the crawler."""
    kept = {key: value for key, value in meta.items() if key in META_KEYS}
    for key in COUNTS:
        _typed(kept, key, int)
    statuses = kept.get("handle_httpstatus_list", [])
    if not isinstance(statuses, list) or not all(isinstance(s, int) for s in statuses):
        raise TypeError("handle_httpstatus_list must be a list of numbers")
    _typed(kept, "pattern", str)
    return kept


def _typed(data: dict[str, Any], name: str, kind: type, required: bool = False) -> Any:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{name} must be {kind.__name__}")
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {BYTES_TAG}:
        return base64.b64decode(value[BYTES_TAG], validate=True)
    if set(value) == {HINTS_TAG}:
        hints = value[HINTS_TAG]
        if not isinstance(hints, dict) or not set(hints) <= HINT_FIELDS:
            raise ValueError("malformed hints")
        keywords = hints.get("keywords") or []
        if not all(isinstance(hints.get(k), (str, type(None))) for k in HINT_TEXT):
            raise TypeError("hints must be text")
        if not all(isinstance(k, str) for k in keywords):
            raise TypeError("hint keywords must be text")
        return Hints(**{**hints, "keywords": tuple(keywords)})
    if any(key.startswith("$") for key in value):
        raise ValueError(f"unknown tag in {sorted(value)[:3]}")
    return {key: _decode(item) for key, item in value.items()}
