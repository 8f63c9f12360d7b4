"""The story's HTML when the page carries it only as data for its scripts.

Client-rendered pages (Next.js's ``self.__next_f.push([1, "..."])``, ``__NEXT_DATA__``,
React Query caches ...) serve an empty shell and the article as an escaped HTML string
inside a ``<script>``. :func:`article_html` finds the string literal, decoded as JSON,
that holds the most paragraphs (at least :data:`MIN_PARAGRAPHS`); strings are decoded
again inside decoded ones, since these payloads nest JSON in JSON. It is only asked for
pages whose markup gave no story, so its cost is paid by those alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

SCRIPT_START = re.compile(r"<script\b[^>]*>", re.I)
SCRIPT_END = re.compile(r"</script", re.I)
# a double-quoted literal; short ones are read too, so that a match never starts at
# the closing quote of the string before it
STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
MIN_LENGTH = 200
PARAGRAPH = re.compile(r"<p[\s>]", re.I)
MIN_PARAGRAPHS = 3
DEPTH = 3  # an RSC line inside a pushed string inside a script


def _literals(text: str) -> Iterator[str]:
    """Each double-quoted literal of ``text``, left to right, in one pass: after a
    quote that is never closed there is no complete literal left to find."""
    start = text.find('"')
    while start != -1:
        found = STRING.match(text, start)
        if found is None:
            return
        yield found.group(0)
        start = text.find('"', found.end())


def _strings(text: str, depth: int) -> Iterator[str]:
    """JSON string literals of 200 characters or more in ``text``, decoded, and those
    inside them, down to ``depth`` levels."""
    for literal in _literals(text):
        if len(literal) < MIN_LENGTH:
            continue
        if "<p" not in literal and "\\u003cp" not in literal.lower():
            continue  # no paragraph at any depth: not worth decoding
        try:
            value = json.loads(literal)
        except ValueError:
            continue  # a JavaScript escape JSON does not have
        if not isinstance(value, str):
            continue
        yield value
        if depth > 1 and '"' in value:
            yield from _strings(value, depth - 1)


def _scripts(html: str) -> Iterator[str]:
    """The text of each ``<script>`` element, in one pass over the page."""
    opening = SCRIPT_START.search(html)
    while opening:
        closing = SCRIPT_END.search(html, opening.end())
        if closing is None:
            return  # never closed: what follows is no script's text
        yield html[opening.end() : closing.start()]
        opening = SCRIPT_START.search(html, closing.end())


def article_html(html: str) -> str | None:
    """The HTML fragment with the most paragraphs among the page's script strings (the
    shortest of those that hold as many), or None when none holds
    :data:`MIN_PARAGRAPHS`."""
    best, most = None, MIN_PARAGRAPHS - 1
    for script in _scripts(html):
        for value in _strings(script, DEPTH):
            paragraphs = len(PARAGRAPH.findall(value))
            if paragraphs > most or (
                paragraphs == most and best is not None and len(value) < len(best)
            ):  # the same paragraphs without the JSON around them
                best, most = value, paragraphs
    return best
