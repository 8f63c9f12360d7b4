"""Schema.org JSON-LD in a page: the article node and the types the page declares.

Publishers embed ``<script type="application/ld+json">`` blocks, often several, with
``@graph`` lists, nested ``mainEntity`` objects and the odd syntax error. This module
reads them all and picks the node that describes the article itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "reviewnewsarticle",
    "backgroundnewsarticle",
    "askpublicnewsarticle",
    "blogposting",
    "liveblogposting",
    "socialmediaposting",
    "scholarlyarticle",
    "techarticle",
    "report",
}
SITE_TYPES = {"website", "newsmediaorganization", "organization"}
CONTROL_CHARS = re.compile(r"[\x00-\x1f]")
TRAILING_COMMA = re.compile(r",\s*([}\]])")


@dataclass
class LinkedData:
    """What the JSON-LD of a page says: the article node (if any) and all types seen."""

    article: dict[str, Any] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)  # lower-case @type values
    publisher: str | None = None  # name of the publisher or WebSite

    def get(self, key: str) -> Any:
        return self.article.get(key)


def _loads(text: str) -> Any:
    text = text.strip().removeprefix("<!--").removesuffix("-->").strip()
    text = text.removeprefix("//<![CDATA[").removesuffix("//]]>").strip()
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        pass
    repaired = TRAILING_COMMA.sub(r"\1", CONTROL_CHARS.sub(" ", text))
    try:
        return json.loads(repaired)
    except (json.JSONDecodeError, RecursionError):
        return None


def _nodes(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every object in a JSON-LD document, depth first, down to a sane depth."""
    if depth > 8:
        return
    if isinstance(data, list):
        for item in data:
            yield from _nodes(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement"):
            if key in data:
                yield from _nodes(data[key], depth + 1)


def node_types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type", ())
    values = value if isinstance(value, list) else [value]
    return {v.lower().rsplit("/", 1)[-1] for v in values if isinstance(v, str)}


def _name(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return value.strip() if isinstance(value, str) and value.strip() else None


def read_linked_data(tree: HtmlElement) -> LinkedData:
    """Parse every JSON-LD block of the page; the first article-typed node wins."""
    found = LinkedData()
    candidates: list[dict[str, Any]] = []
    for script in tree.iterfind('.//script[@type="application/ld+json"]'):
        data = _loads(script.text or "")
        for node in _nodes(data):
            types = node_types(node)
            found.types |= types
            if types & ARTICLE_TYPES:
                candidates.append(node)
            if found.publisher is None and types & SITE_TYPES:
                found.publisher = _name(node)
    if candidates:
        # prefer a node with a headline and body, the page's own article over teasers
        candidates.sort(
            key=lambda n: (not n.get("articleBody"), not n.get("headline")),
        )
        found.article = candidates[0]
        found.publisher = _name(found.article.get("publisher")) or found.publisher
    return found


def text_value(value: Any) -> str | None:
    """A JSON-LD value as one string: first of a list, ``name``/``url``/``@id`` of an object."""
    if isinstance(value, list):
        for item in value:
            text = text_value(item)
            if text:
                return text
        return None
    if isinstance(value, dict):
        return text_value(value.get("url") or value.get("name") or value.get("@id"))
    if isinstance(value, str | int | float) and str(value).strip():
        return str(value).strip()
    return None


def names(value: Any) -> list[str]:
    """Person names from an ``author`` value: strings, objects or lists of either."""
    if isinstance(value, list):
        return [name for item in value for name in names(item)]
    if isinstance(value, dict):
        value = value.get("name")
        if isinstance(value, list):
            return names(value)
    if isinstance(value, str) and value.strip():
        return [value.strip()]
    return []
