"""What a message from Redis must look like before it becomes an Article, a Page or a row.

Each check takes the ``data`` of a decoded JSON message and returns it unchanged, or
raises QueueError naming the first field that is missing, unknown or of the wrong type.
The expected types are read from the dataclasses' annotations, so the checks follow
the records.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, fields
from typing import Any

from pipeline.items import Article, Hints, Page
from pipeline.runstats import RunStats
from pipeline.scale.connection import QueueError

TEXT_LIST = "tuple[str, ...]"
CHECKS: dict[str, Any] = {
    "str": lambda v: isinstance(v, str),
    "str | None": lambda v: v is None or isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "bytes": lambda v: isinstance(v, str),  # base64 in the message
    TEXT_LIST: lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "dict[str, str]": lambda v: (
        isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
    ),
}
CRAWL_COLUMNS = frozenset(RunStats("-").as_row("-"))


def check_record(cls: type, data: dict[str, Any], what: str) -> dict[str, Any]:
    """``data`` if it has every required field of dataclass ``cls``, no other, each of
    its annotated type (nested Hints checked too)."""
    known = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise QueueError(f"{what} message with unknown fields {sorted(unknown)[:5]}")
    for name, spec in known.items():
        required = spec.default is MISSING and spec.default_factory is MISSING
        if name not in data:
            if required:
                raise QueueError(f"{what} message without {name}")
            continue
        kind = str(spec.type)
        value = data[name]
        if kind == "Hints":
            if not isinstance(value, dict):
                raise QueueError(f"{what} message: hints must be an object")
            check_record(Hints, value, f"{what} hints")
            continue
        check = CHECKS.get(kind)
        if check is None or not check(value):
            raise QueueError(f"{what} message: {name} is not {kind}")
    return data


def check_article(data: dict[str, Any]) -> dict[str, Any]:
    return check_record(Article, data, "article")


def check_page(data: dict[str, Any]) -> dict[str, Any]:
    return check_record(Page, data, "page")


def check_crawl_row(data: dict[str, Any]) -> dict[str, Any]:
    """The columns of a ``crawls`` row that ``data`` holds, each a number, text or null."""
    row = {key: value for key, value in data.items() if key in CRAWL_COLUMNS}
    for key, value in row.items():
        if not (value is None or isinstance(value, (str, int, float))):
            raise QueueError(f"crawl message: {key} is not a number or text")
    if not isinstance(row.get("source"), str):
        raise QueueError("crawl message without a source")
    return row


def json_object(
    raw: bytes | str, limit: int, error: type[QueueError], what: str
) -> dict[str, Any]:
    """The JSON object in ``raw``, or ``error`` when it is over ``limit`` bytes, not
    JSON, nested too deeply or not an object. ``what`` names it in the message."""
    if len(raw) > limit:
        raise error(f"a message of {len(raw)} bytes (at most {limit})")
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as problem:
        raise error(
            f"not a JSON {what} ({str(problem)[:80]}): {bytes(raw[:40])!r}"
        ) from None
    if not isinstance(value, dict):
        raise error(f"not a JSON object: {bytes(raw[:40])!r}")
    return value
