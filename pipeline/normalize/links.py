"""Markdown links read as CommonMark reads them, and made absolute and safe.

* :func:`resolve` turns a link target as written into its absolute, safe form, or
  None when its scheme is not allowed; :func:`safe_target` makes a URL safe as a
  target.
* :func:`events` lists what a paragraph holds (text, links, autolinks, what could
  open raw HTML or a link reference definition), for the cleaner and the checker.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from w3lib.url import safe_url_string

from pipeline.urls import join

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES = frozenset({"http", "https"})
# A backslash escape or a character reference, as CommonMark reads them in a link target.
UNESCAPE = re.compile(
    r"\\([!-/:-@\[-`{-~])|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
)
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\x00-\x20<>]*)>")
_TAG_START = re.compile(r"[A-Za-z/!?]")
# "[" ... "]:" with any "[" inside: wider than a definition label, on purpose.
_DEFINITION = re.compile(r"\[(?:[^\]\\]|\\.)*\]:", re.S)
# Where events and _bracket_pairs must look: everything else is plain text.
_EVENT_START = re.compile(r"[\\\[!<]")
_BRACKET_OR_ESCAPE = re.compile(r"\\.|[\[\]]", re.S)
LINK_CLOSE = re.compile(r"(\\*)\](?=\()")


_CONTROL_AND_SPACE = "".join(map(chr, range(0x21)))
# Characters percent-encoded in link targets: spaces, parentheses, <, >, controls, and
# the "&" of anything markdown would read as a character reference ("&amp;" -> "&").
_UNSAFE_IN_TARGET = re.compile(r"[\x00-\x20()<>\x7f]|&(?=#?[A-Za-z0-9]+;)")


def safe_target(url: str) -> str:
    """``url`` made safe as a markdown link target: no spaces, parentheses, <, >, controls
    or character references."""
    try:
        safe = safe_url_string(url)
    except ValueError:
        safe = url
    return _UNSAFE_IN_TARGET.sub(lambda m: f"%{ord(m.group()):02X}", safe)


def resolve(
    target: str, base_url: str, schemes: frozenset[str] = ALLOWED_SCHEMES
) -> str | None:
    """The absolute, safe form of a link target as written, or None when it is not allowed.

    The target is read as a browser would: backslash escapes and character
    references decoded, tabs and newlines removed, surrounding controls stripped.
    """
    plain = UNESCAPE.sub(unescape_one, target)
    plain = re.sub(r"[\t\n\r]", "", plain).strip(_CONTROL_AND_SPACE)
    if not plain:
        return None
    absolute = join(plain, base_url, schemes)
    if absolute is None:
        return None
    parts = urlsplit(absolute)
    scheme = parts.scheme
    if scheme != "mailto" and not parts.netloc:
        return None
    safe = safe_target(absolute)
    return safe if urlsplit(safe).scheme.lower() == scheme else None


def unescape_one(match: re.Match[str]) -> str:
    return match.group(1) or html.unescape(match.group())


@dataclass(frozen=True, eq=False)
class Link:
    """``[label](target)`` or ``![alt](target)`` found in a paragraph."""

    start: int  # the "[" (the "!" of an image)
    close: int  # the "]"
    end: int  # just after the ")"
    target: str  # as written
    image: bool


def _bracket_pairs(text: str) -> dict[int, int]:
    """Each unescaped "[" that has a matching "]", to that "]"."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for match in _BRACKET_OR_ESCAPE.finditer(text):
        char = match.group()[0]
        if char == "[":
            stack.append(match.start())
        elif char == "]" and stack:
            pairs[stack.pop()] = match.start()
    return pairs


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\n":
        i += 1
    return i


def _title_end(text: str, i: int) -> int | None:
    opener = text[i]
    closer = ")" if opener == "(" else opener
    i += 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == closer:
            return i + 1
        if opener == "(" and char == "(":
            return None
        i += 1
    return None


def _destination(text: str, i: int) -> tuple[str, int] | None:
    """The target of an inline link whose "(" is just before ``i``, and the end."""
    n = len(text)
    i = _skip_space(text, i)
    if i < n and text[i] == "<":
        j = i + 1
        while j < n and text[j] not in "<>\n":
            j += 2 if text[j] == "\\" else 1
        if j >= n or text[j] != ">":
            return None
        target, after = text[i + 1 : j], j + 1
    else:
        j, depth = i, 0
        while j < n and text[j] not in " \t\n":
            char = text[j]
            if char == "\\":
                j += 2
                continue
            if char == "(":
                depth += 1
            elif char == ")":
                if depth == 0:
                    break
                depth -= 1
            j += 1
        if depth:
            return None
        j = min(j, n)
        target, after = text[i:j], j
    j = _skip_space(text, after)
    if j > after and j < n and text[j] in "\"'(":
        title_end = _title_end(text, j)
        if title_end is None:
            return None
        j = _skip_space(text, title_end)
    if j < n and text[j] == ")":
        return target, j + 1
    return None


def _link_at(text: str, i: int, pairs: dict[int, int]) -> Link | None:
    image = text[i] == "!"
    close = pairs.get(i + 1 if image else i)
    if close is None or not text.startswith("(", close + 1):
        return None
    found = _destination(text, close + 2)
    if found is None:
        return None
    return Link(i, close, found[1], found[0], image)


def events(text: str) -> Iterator[tuple[str, Any]]:
    """What a paragraph holds, left to right, for the cleaner and the checker.

    ``("text", str)`` literal text (backslash escapes included), ``("link", Link)``
    at a link's opening and ``("close", Link)`` at its "]" (the target is skipped),
    ``("autolink", url)`` for ``<url>`` with an allowed scheme, ``("tag", snippet)``
    for a "<" that could open raw HTML, ``("definition", snippet)`` for a "[" that
    could open a link reference definition.
    """
    pairs = _bracket_pairs(text)
    pending: list[Link] = []  # open links, innermost last
    i = start = 0
    n = len(text)
    while i < n:
        limit = pending[-1].close if pending else n
        char = text[i]
        if char == "\\":
            i += 2
            continue
        event: tuple[str, Any] | None = None
        after = i + 1
        if pending and i == limit:
            link = pending.pop()
            event, after = ("close", link), link.end
        elif char == "[" or (char == "!" and text.startswith("[", i + 1)):
            link = _link_at(text, i, pairs)
            if link is not None and link.end <= limit:
                pending.append(link)
                event, after = ("link", link), i + (2 if link.image else 1)
            elif char == "[" and (definition := _DEFINITION.match(text, i)):
                event = ("definition", definition.group()[:40])
        elif char == "<":
            auto = _AUTOLINK.match(text, i)
            if auto and auto.end() <= limit and resolve(auto.group(1), "") is not None:
                event, after = ("autolink", auto.group(1)), auto.end()
            elif _TAG_START.match(text, i + 1):
                event = ("tag", text[i : i + 40])
        if event is None:
            special = _EVENT_START.search(text, i + 1, limit)
            i = special.start() if special else limit
            continue
        if start < i:
            yield "text", text[start:i]
        yield event
        i = start = after
    if start < n:
        yield "text", text[start:]
