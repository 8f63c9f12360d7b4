"""Article -> Hugo front-matter markdown, in exactly the shape of the reference document.

Pure functions (the one exception is :func:`load_layout`, which reads a TOML file):

* :func:`render_document` writes front matter + body. Every string is double-quoted
  with YAML escapes, so each value parses back (python-frontmatter, PyYAML SafeLoader)
  to exactly what was given, with one documented exception: a lone surrogate (which
  UTF-8 cannot encode) is written as U+FFFD, in values and in the body alike. The body
  is stripped with :meth:`str.strip`, as python-frontmatter strips it when it reads.
* :func:`render` builds the front matter of an :class:`~pipeline.items.Article`
  (:func:`front_matter`) and its body (:func:`clean_body` + the closing source link).
* :func:`clean_body` is the safety net for any markdown body; see its docstring.
* :func:`check_document` lists the ways a file breaks the contract (empty when fine).

Titles and summaries are one line: control characters are removed and every run of
whitespace (newlines included) becomes one space (:func:`one_line`).
"""

from __future__ import annotations

import difflib
import functools
import html
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import frontmatter
import yaml
from w3lib.url import safe_url_string

from pipeline.errors import BroadsheetError, Dropped
from pipeline.items import Article
from pipeline.tomlfile import read_toml

# Read through importlib.resources: under scrapyd the package runs from a zipped egg.
DEFAULT_LAYOUT = resources.files("pipeline.normalize") / "layout.toml"
ARTICLE_KEYS = (
    "title",
    "date",
    "summary",
    "categories",
    "lang",
    "translations",
    "tags",
)
SUMMARY_LIMIT = 300


class LayoutError(BroadsheetError):
    """The layout file is missing, malformed, or names an unknown key."""


# -- layout -------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """The keys every front matter ends with; defaults in the packaged layout.toml."""

    menu: str
    thumbnail: str
    lead: str
    comments: bool
    authorbox: bool
    pager: bool
    toc: bool
    mathjax: bool
    sidebar: str
    widgets: tuple[str, ...]

    def as_metadata(self) -> dict[str, str | bool | list[str]]:
        return {
            f.name: list(value)
            if isinstance(value := getattr(self, f.name), tuple)
            else value
            for f in fields(self)
        }


LAYOUT_KEYS = tuple(f.name for f in fields(Layout))
FRONT_MATTER_KEYS = ARTICLE_KEYS + LAYOUT_KEYS
_LAYOUT_TYPES = {f.name: f.type for f in fields(Layout)}


def _read_toml(path: Path | Traversable) -> dict[str, Any]:
    return read_toml(path, LayoutError, "layout file")


def _layout_values(path: Path | Traversable, data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _LAYOUT_TYPES:
            close = difflib.get_close_matches(key, LAYOUT_KEYS, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            known = ", ".join(LAYOUT_KEYS)
            raise LayoutError(
                f'{path}: unknown key "{key}"{hint}; layout keys: {known}'
            )
        kind = _LAYOUT_TYPES[key]
        if kind == "bool" and not isinstance(value, bool):
            raise LayoutError(f'{path}: key "{key}" must be true or false')
        if kind == "str" and not isinstance(value, str):
            raise LayoutError(f'{path}: key "{key}" must be a string')
        if kind.startswith("tuple"):
            if not isinstance(value, list) or not all(
                isinstance(v, str) for v in value
            ):
                raise LayoutError(f'{path}: key "{key}" must be a list of strings')
            value = tuple(value)
        values[key] = value
    return values


@functools.cache
def _default_layout() -> Layout:
    values = _layout_values(DEFAULT_LAYOUT, _read_toml(DEFAULT_LAYOUT))
    missing = [key for key in LAYOUT_KEYS if key not in values]
    if missing:
        raise LayoutError(f'{DEFAULT_LAYOUT}: key "{missing[0]}" is missing')
    return Layout(**values)


def load_layout(path: str | Path | None = None) -> Layout:
    """The packaged defaults, overlaid with the keys of the TOML file ``path`` (if any)."""
    defaults = _default_layout()
    if path is None:
        return defaults
    path = Path(path)
    overrides = _layout_values(path, _read_toml(path))
    return Layout(**{**{k: getattr(defaults, k) for k in LAYOUT_KEYS}, **overrides})


# -- the YAML emitter ---------------------------------------------------------

_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Plain words that YAML 1.1 (PyYAML) would read as booleans or null, not as keys.
_RESERVED_KEYS = {"yes", "no", "true", "false", "on", "off", "null"}
_SURROGATE = re.compile("[\ud800-\udfff]")
# Everything PyYAML's reader refuses or reads as a line break, plus `"` and `\`.
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]')
_NAMED_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\0": "\\0",
    "\a": "\\a",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\v": "\\v",
    "\f": "\\f",
    "\r": "\\r",
    "\x1b": "\\e",
    "\x85": "\\N",
    "\u2028": "\\L",
    "\u2029": "\\P",
}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}"


def quote(value: str) -> str:
    """``value`` as a YAML double-quoted scalar (lone surrogates become U+FFFD)."""
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, _SURROGATE.sub("\ufffd", value)) + '"'


def _emit(key: str, value: str | bool | Sequence[str]) -> str:
    if not _KEY_RE.fullmatch(key) or key.lower() in _RESERVED_KEYS:
        raise ValueError(f"front-matter key {key!r} is not a plain YAML name")
    if isinstance(value, bool):
        return f"{key}: {'true' if value else 'false'}"
    if isinstance(value, str):
        return f"{key}: {quote(value)}"
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        if not value:
            return f"{key}: []"
        return "\n".join([f"{key}:", *(f"  - {quote(v)}" for v in value)])
    raise TypeError(
        f"front-matter key {key!r}: a string, a boolean or a list of strings, not {value!r}"
    )


def render_document(
    metadata: Mapping[str, str | bool | Sequence[str]], body: str
) -> str:
    """``---`` fences around the front matter, a blank line, the stripped body, a newline.

    The body is read as python-frontmatter reads it back: CRLF becomes LF, and it is
    stripped. An empty body leaves the document ending at the closing fence.
    """
    lines = ["---", *(_emit(key, value) for key, value in metadata.items()), "---"]
    body = _SURROGATE.sub("\ufffd", body).replace("\r\n", "\n").strip()
    if body:
        lines += ["", body]
    return "\n".join(lines) + "\n"


# -- front matter of an article -----------------------------------------------

_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}:\d{2})?")


def one_line(text: str) -> str:
    """``text`` without control characters, every whitespace run one space, stripped."""
    return " ".join(_CONTROL.sub("", _SURROGATE.sub("\ufffd", text)).split())


TITLE_LIMIT = 120
_SENTENCE_END = re.compile(r"(?<=[.!?\u0964\u3002])[\"'\u2019\u201d]?\s")


def derive_title(body: str) -> str:
    """A headline for text that has none: its first sentence, cut at a word boundary."""
    first = " ".join(body.strip().split("\n\n", 1)[0].split())
    match = _SENTENCE_END.search(first)
    sentence = first[: match.start()].rstrip() if match else first
    if len(sentence) <= TITLE_LIMIT:
        return sentence
    cut = sentence[:TITLE_LIMIT].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "..."


def summarize(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """About ``limit`` characters of ``text`` as one line, cut at a word, then ``...``.

    The cut comes after ``limit // 6`` words (50 for the default 300: an English
    word and its space average six characters; the reference document's summary is
    its body's first 50 words), or at the last space within ``2 * limit`` characters
    when those words are longer (scripts written without spaces are cut inside a
    word). Text that fits is returned whole, without ``...``.
    """
    flat = one_line(text)
    cap = 2 * limit
    count = max(1, limit // 6)
    head = " ".join(flat.split(" ", count)[:count])
    if len(head) > cap:
        space = flat.rfind(" ", 0, cap + 1)
        head = flat[:space] if space > 0 else flat[:cap]
    return flat if head == flat else head + "..."


def _escape_html(text: str) -> str:
    """Summaries are rendered as markdown by themes: a ``<`` that opens a tag is escaped."""
    return re.sub(r"(?<!\\)<(?=[A-Za-z/!?])", r"\\<", text)


def summary_for(article: Article) -> str:
    """The page's description (``article.summary``, else ``description``) or the cut text."""
    given = one_line(article.summary or article.description or "")
    return _escape_html(given or summarize(article.text))


def _local_time(value: str | None) -> str | None:
    """``YYYY-MM-DD HH:MM:SS`` (or ``YYYY-MM-DD``) from an ISO value, offset dropped."""
    value = (value or "").strip()
    if _DATE_RE.fullmatch(value):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (
        parsed.strftime("%Y-%m-%d")
        if len(value) == 10
        else parsed.strftime("%Y-%m-%d %H:%M:%S")
    )


def publication_date(article: Article) -> str | None:
    """The publisher's local time (``date_local``, else ``date``), or None."""
    for value in (article.date_local, article.date):
        local = _local_time(value)
        if local:
            return local
    return None


def date_for(article: Article) -> str:
    """The publisher's local time (``date_local``, else ``date``), else the fetch day.

    A time is never invented: with no publication date the front matter holds the
    date of ``fetched_at`` alone. With neither, the article is ``Dropped("no-date")``.
    """
    published = publication_date(article)
    if published:
        return published
    fetched = _local_time(article.fetched_at)
    if fetched:
        return fetched[:10]
    raise Dropped("no-date", f"no publication date and no fetch time: {article.url}")


def _language(lang: str) -> list[str]:
    primary = re.split(r"[-_]", lang.strip(), maxsplit=1)[0].lower()
    return [primary] if primary else []


def front_matter(article: Article, layout: Layout) -> dict[str, str | bool | list[str]]:
    """The article's front matter, in the reference document's key order."""
    lang = _language(article.lang)
    return {
        "title": one_line(article.title),
        "date": date_for(article),
        "summary": summary_for(article),
        "categories": [article.source],
        "lang": lang,
        "translations": list(lang),
        "tags": [article.source],
        **layout.as_metadata(),
    }


def render(article: Article, layout: Layout | None = None) -> str:
    """The whole markdown file of ``article``."""
    body = clean_body(article.body_md, article.url)
    return render_prepared(replace(article, body_md=body), layout or load_layout())


def render_prepared(article: Article, layout: Layout) -> str:
    """The markdown file of an article whose body is clean already (``clean_body``)."""
    body = article.body_md
    closing = source_line(article.source, article.url)
    return render_document(
        front_matter(article, layout), f"{body}\n\n{closing}" if body else closing
    )


def link_label(source: str) -> str:
    """``source`` as the text of the closing link: one line, markdown syntax escaped."""
    return re.sub(r"([\\\[\]<>`*_])", r"\\\1", one_line(source)) or "source"


def source_line(source: str, url: str) -> str:
    """The closing paragraph ``[<source>](<article url>)``."""
    return f"[{link_label(source)}]({safe_target(url)})"


# -- the body -----------------------------------------------------------------

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES = frozenset({"http", "https"})
_BODY_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_FENCE_OPEN = re.compile(r"(`{3,})([^`]*)|(~{3,})(.*)")
# A backslash escape or a character reference, as CommonMark reads them in a link target.
_UNESCAPE = re.compile(
    r"\\([!-/:-@\[-`{-~])|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
)
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\x00-\x20<>]*)>")
_TAG_START = re.compile(r"[A-Za-z/!?]")
# "[" ... "]:" with any "[" inside: wider than a definition label, on purpose.
_DEFINITION = re.compile(r"\[(?:[^\]\\]|\\.)*\]:", re.S)
_MAX_PASSES = 16
# Where _events and _bracket_pairs must look: everything else is plain text.
_EVENT_START = re.compile(r"[\\\[!<]")
# A paragraph without any of these holds no link, tag, definition or fence line:
# cleaning leaves it as it is (most paragraphs).
_MAY_NEED_CLEANING = re.compile(r"[\[\]<`~]")
_BRACKET_OR_ESCAPE = re.compile(r"\\.|[\[\]]", re.S)
_LINK_CLOSE = re.compile(r"(\\*)\](?=\()")


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
    plain = _UNESCAPE.sub(_unescape_one, target)
    plain = re.sub(r"[\t\n\r]", "", plain).strip(_CONTROL_AND_SPACE)
    if not plain:
        return None
    try:
        absolute = urljoin(base_url, plain)
        parts = urlsplit(absolute)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in schemes or (scheme != "mailto" and not parts.netloc):
        return None
    safe = safe_target(absolute)
    return safe if urlsplit(safe).scheme.lower() == scheme else None


def _unescape_one(match: re.Match[str]) -> str:
    return match.group(1) or html.unescape(match.group())


@dataclass(frozen=True, eq=False)
class _Link:
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


def _link_at(text: str, i: int, pairs: dict[int, int]) -> _Link | None:
    image = text[i] == "!"
    close = pairs.get(i + 1 if image else i)
    if close is None or not text.startswith("(", close + 1):
        return None
    found = _destination(text, close + 2)
    if found is None:
        return None
    return _Link(i, close, found[1], found[0], image)


def _events(text: str) -> Iterator[tuple[str, Any]]:
    """What a paragraph holds, left to right, for the cleaner and the checker.

    ``("text", str)`` literal text (backslash escapes included), ``("link", _Link)``
    at a link's opening and ``("close", _Link)`` at its "]" (the target is skipped),
    ``("autolink", url)`` for ``<url>`` with an allowed scheme, ``("tag", snippet)``
    for a "<" that could open raw HTML, ``("definition", snippet)`` for a "[" that
    could open a link reference definition.
    """
    pairs = _bracket_pairs(text)
    pending: list[_Link] = []  # open links, innermost last
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


def _escape_link_close(match: re.Match[str]) -> str:
    slashes = match.group(1)
    return slashes + ("\\]" if len(slashes) % 2 == 0 else "]")


def _clean_paragraph(text: str, base_url: str) -> str:
    """One paragraph cleaned until it is stable.

    Dropping a link or escaping a character can make a new construct of what is
    left (``[a[x](javascript:y)[b]:`` becomes ``[ax\\[b]:``), so the pass is repeated
    until it changes nothing; each pass only removes link syntax or adds escapes.
    """
    if not _MAY_NEED_CLEANING.search(text):
        return text
    for _ in range(_MAX_PASSES):
        cleaned = _clean_paragraph_once(text, base_url)
        if cleaned == text:
            break
        text = cleaned
    return text


def _clean_paragraph_once(text: str, base_url: str) -> str:
    pieces: list[tuple[bool, str]] = []  # (literal, text)
    targets: dict[_Link, str | None] = {}
    skipping: _Link | None = None
    for kind, value in _events(text):
        if skipping is not None:
            if kind == "close" and value is skipping:
                skipping = None
            continue
        if kind == "text":
            pieces.append((True, value))
        elif kind == "tag":
            pieces.append((True, "\\<"))
        elif kind == "definition":
            pieces.append((True, "\\["))
        elif kind == "autolink":
            pieces.append((False, f"<{resolve(value, '')}>"))
        elif kind == "link":
            schemes = IMAGE_SCHEMES if value.image else ALLOWED_SCHEMES
            targets[value] = target = resolve(value.target, base_url, schemes)
            if target is not None:
                pieces.append((False, "![" if value.image else "["))
            elif value.image:
                skipping = value
        elif kind == "close" and (target := targets.pop(value)) is not None:
            pieces.append((False, f"]({target})"))
    out: list[str] = []
    run: list[str] = []
    for literal, piece in pieces:
        if literal:
            run.append(piece)
            continue
        out += [_LINK_CLOSE.sub(_escape_link_close, "".join(run)), piece]
        run = []
    out.append(_LINK_CLOSE.sub(_escape_link_close, "".join(run)))
    return "\n".join(
        _tidy_line(line) for line in "".join(out).split("\n") if line.strip(" \t")
    )


def _tidy_line(line: str) -> str:
    """A paragraph line that now looks like a code fence gets its marker escaped."""
    if line[:1] not in (" ", "\t") and _FENCE_OPEN.fullmatch(stripped := line.lstrip()):
        return line[: len(line) - len(stripped)] + "\\" + stripped
    return line


def _fence_marker(line: str) -> str:
    opening = _FENCE_OPEN.fullmatch(line)
    return (opening.group(1) or opening.group(3)) if opening else ""


def _blocks(lines: list[str]) -> Iterator[tuple[str, list[str]]]:
    """``("para", lines)``, ``("blank", [])``, ``("fence", lines)`` or ``("open-fence", lines)``.

    Only a fence at column 0 counts: it cannot sit inside a list item or quote, so
    it always runs to its closing fence (or to the end of the text).
    """
    para: list[str] = []
    fence: list[str] | None = None
    closing = re.compile("")
    for line in lines:
        if fence is not None:
            fence.append(line)
            if closing.fullmatch(line):
                yield "fence", fence
                fence = None
            continue
        opening = _FENCE_OPEN.fullmatch(line)
        if opening or not line.strip(" \t"):
            if para:
                yield "para", para
                para = []
        if opening:
            marker = _fence_marker(line)
            closing = re.compile(
                rf" {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}[ \t]*"
            )
            fence = [line]
        elif not line.strip(" \t"):
            yield "blank", []
        else:
            para.append(line)
    if para:
        yield "para", para
    if fence is not None:
        yield "open-fence", fence


def clean_body(body_md: str, base_url: str) -> str:
    """Any markdown body made safe and tidy; stripped at both ends.

    * lone surrogates become U+FFFD; CR and CRLF become LF; control characters
      other than LF and TAB are removed;
    * paragraphs are separated by exactly one blank line (a line of spaces and
      tabs is blank); other lines are kept as they are;
    * link and image targets are resolved against ``base_url`` (``urljoin``) and
      written in a safe form (w3lib ``safe_url_string``, with spaces, parentheses,
      ``<``, ``>`` and controls percent-encoded); link titles are dropped;
    * a link whose target is not http, https or mailto (read as a browser reads it:
      character references decoded, tabs and newlines removed) becomes its plain
      text; an image whose target is not http or https is removed;
    * raw HTML cannot pass: a ``<`` that could open a tag, comment, declaration or
      processing instruction is backslash-escaped (``\\<``); ``<url>`` autolinks are
      kept only with an allowed scheme;
    * ``](`` that is not part of a link we kept, and ``[label]:`` (a link reference
      definition) are backslash-escaped, so no link escapes the checks above;
    * fenced code blocks (fences at column 0) are kept verbatim; one left open at
      the end is closed.

    ``---`` and ``+++`` lines are kept: python-frontmatter splits at the first two
    fences only, so they cannot end the front matter.
    """
    text = _SURROGATE.sub("\ufffd", body_md).replace("\r\n", "\n").replace("\r", "\n")
    text = _BODY_CONTROL.sub("", text)
    out: list[str] = []
    for kind, lines in _blocks(text.split("\n")):
        if kind == "blank":
            if out and out[-1] != "":
                out.append("")
        elif kind == "para":
            cleaned = _clean_paragraph("\n".join(lines), base_url)
            if cleaned:
                out.append(cleaned)
        else:
            out += lines
            if kind == "open-fence":
                out.append(_fence_marker(lines[0]))
    text = "\n".join(out).strip()
    if not text or _fence_marker(out[0]):
        return text
    # Stripping can bring a paragraph's first line to column 0: it must not open a fence.
    first, newline, rest = text.partition("\n")
    return _tidy_line(first) + newline + rest


# -- checking a rendered file -------------------------------------------------

_STRING = r'"(?:[^"\\]|\\.)*"'
_SCALAR_LINE = re.compile(rf"([A-Za-z_][A-Za-z0-9_]*): (?:{_STRING}|true|false|\[\])")
_LIST_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):")
_ITEM_LINE = re.compile(rf"  - {_STRING}")
_BOOL_KEYS = {"comments", "authorbox", "pager", "toc", "mathjax"}
_LIST_KEYS = {"categories", "lang", "translations", "tags", "widgets"}
_CHECK_BASE = "http://base.invalid/"


def _line_problems(lines: list[str]) -> list[str]:
    problems = []
    list_open = False
    for number, line in enumerate(lines, start=2):
        if _SCALAR_LINE.fullmatch(line):
            list_open = False
        elif _LIST_KEY_LINE.fullmatch(line):
            list_open = True
        elif not (list_open and _ITEM_LINE.fullmatch(line)):
            problems.append(
                f"line {number}: not a double-quoted string, boolean or list item: {line[:60]!r}"
            )
    return problems


def _value_problems(metadata: dict[str, Any]) -> list[str]:
    problems = []
    if list(metadata) != list(FRONT_MATTER_KEYS):
        problems.append(
            f"keys {list(metadata)} are not, in order, {list(FRONT_MATTER_KEYS)}"
        )
    for key, value in metadata.items():
        if key in _BOOL_KEYS and not isinstance(value, bool):
            problems.append(f'key "{key}" must be true or false')
        elif key in _LIST_KEYS and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            problems.append(f'key "{key}" must be a list of strings')
        elif key not in _BOOL_KEYS | _LIST_KEYS and not isinstance(value, str):
            problems.append(f'key "{key}" must be a string')
    for key in ("title", "summary"):
        value = metadata.get(key)
        if isinstance(value, str) and value != one_line(value):
            problems.append(f'key "{key}" must be one line with single spaces')
    if not metadata.get("title"):
        problems.append('key "title" is empty')
    if isinstance(metadata.get("date"), str) and not _DATE_RE.fullmatch(
        metadata["date"]
    ):
        problems.append(
            f'key "date" is not YYYY-MM-DD or YYYY-MM-DD HH:MM:SS: {metadata["date"]!r}'
        )
    return problems


def _scheme(target: str) -> str:
    plain = re.sub(r"[\t\n\r]", "", _UNESCAPE.sub(_unescape_one, target)).strip(
        "\x00- "
    )
    found = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", plain)
    return found.group(1).lower() if found else ""


def _paragraph_problems(text: str) -> list[str]:
    problems = []
    literal: list[str] = []
    for kind, value in [*_events(text), ("end", None)]:
        if kind == "text":
            literal.append(value)
            continue
        run = "".join(literal)
        literal = []
        if any(len(m.group(1)) % 2 == 0 for m in _LINK_CLOSE.finditer(run)):
            problems.append(f"link syntax that is not a link: {run[:60]!r}")
        if kind == "tag":
            problems.append(f"raw HTML: {value!r}")
        elif kind == "definition":
            problems.append(f"link reference definition: {value!r}")
        elif kind == "link":
            schemes = IMAGE_SCHEMES if value.image else ALLOWED_SCHEMES
            if resolve(value.target, "", schemes) is None:
                scheme = _scheme(value.target)
                what = f"forbidden scheme {scheme}:" if scheme else "relative target"
                problems.append(
                    f"{'image' if value.image else 'link'} with a {what} {value.target[:80]!r}"
                )
    return problems


def _body_problems(body: str, label: str) -> list[str]:
    blocks = list(_blocks(body.split("\n")))
    problems = []
    kind, lines = blocks[-1] if blocks else ("blank", [])
    last = "\n".join(lines)
    closing = re.fullmatch(rf"\[{re.escape(label)}\]\((https?://[^\s()<>]+)\)", last)
    if (
        kind != "para"
        or not closing
        or resolve(closing.group(1), "") != closing.group(1)
    ):
        problems.append(
            f"the last paragraph is not [{label}](<http(s) article URL>): {last[:80]!r}"
        )
    for kind, lines in blocks:
        if kind == "para":
            problems += _paragraph_problems("\n".join(lines))
        elif kind == "open-fence":
            problems.append("a code fence is never closed")
    if not problems and clean_body(body, _CHECK_BASE) != body:
        problems.append("the body is not in clean form (clean_body would change it)")
    return problems


def check_document(text: str) -> list[str]:
    """Every way ``text`` breaks the markdown contract; an empty list when it keeps it."""
    if not text.startswith("---\n"):
        return ["the file does not start with a --- line"]
    end = text.find("\n---\n", 3)
    if end < 0:
        return ["no closing --- line after the front matter"]
    problems = _line_problems(text[4:end].split("\n") if end > 3 else [])
    if not text[end + 5 :].startswith("\n"):
        problems.append("no blank line after the closing ---")
    if not text.endswith("\n") or text.endswith("\n\n"):
        problems.append("the file must end with exactly one newline")
    try:
        post = frontmatter.loads(text)
    except (yaml.YAMLError, ValueError, TypeError) as error:
        return [*problems, f"the front matter does not parse: {error}"]
    metadata = dict(post.metadata)
    problems += _value_problems(metadata)
    try:
        again = render_document(metadata, post.content)
    except (TypeError, ValueError) as error:
        again = f"cannot be written again: {error}"
    if again != text:
        problems.append("parse -> render_document does not give the same bytes")
    categories = metadata.get("categories")
    source = (
        categories[0]
        if isinstance(categories, list)
        and categories
        and isinstance(categories[0], str)
        else ""
    )
    return problems + _body_problems(post.content, link_label(source))
