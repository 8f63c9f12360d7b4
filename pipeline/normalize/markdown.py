"""The markdown safety net: :func:`clean_body` makes any markdown body safe and tidy."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.normalize.emitter import SURROGATE
from pipeline.normalize.links import (
    ALLOWED_SCHEMES,
    IMAGE_SCHEMES,
    LINK_CLOSE,
    Link,
    events,
    resolve,
)

BODY_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
FENCE_OPEN = re.compile(r"(`{3,})([^`]*)|(~{3,})(.*)")
MAX_PASSES = 16
# A paragraph without any of these holds no link, tag, definition or fence line:
# cleaning leaves it as it is (most paragraphs).
MAY_NEED_CLEANING = re.compile(r"[\[\]<`~]")


def _escape_link_close(match: re.Match[str]) -> str:
    slashes = match.group(1)
    return slashes + ("\\]" if len(slashes) % 2 == 0 else "]")


def _clean_paragraph(text: str, base_url: str) -> str:
    """One paragraph cleaned until it is stable.

    Dropping a link or escaping a character can make a new construct of what is
    left (``[a[x](javascript:y)[b]:`` becomes ``[ax\\[b]:``), so the pass is repeated
    until it changes nothing; each pass only removes link syntax or adds escapes.
    """
    if not MAY_NEED_CLEANING.search(text):
        return text
    for _ in range(MAX_PASSES):
        cleaned = _clean_paragraph_once(text, base_url)
        if cleaned == text:
            break
        text = cleaned
    return text


def _clean_paragraph_once(text: str, base_url: str) -> str:
    pieces: list[tuple[bool, str]] = []  # (literal, text)
    targets: dict[Link, str | None] = {}
    skipping: Link | None = None
    for kind, value in events(text):
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
        out += [LINK_CLOSE.sub(_escape_link_close, "".join(run)), piece]
        run = []
    out.append(LINK_CLOSE.sub(_escape_link_close, "".join(run)))
    return "\n".join(
        _tidy_line(line) for line in "".join(out).split("\n") if line.strip(" \t")
    )


def _tidy_line(line: str) -> str:
    """A paragraph line that now looks like a code fence gets its marker escaped."""
    if line[:1] not in (" ", "\t") and FENCE_OPEN.fullmatch(stripped := line.lstrip()):
        return line[: len(line) - len(stripped)] + "\\" + stripped
    return line


def _fence_marker(line: str) -> str:
    opening = FENCE_OPEN.fullmatch(line)
    return (opening.group(1) or opening.group(3)) if opening else ""


def blocks(lines: list[str]) -> Iterator[tuple[str, list[str]]]:
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
        opening = FENCE_OPEN.fullmatch(line)
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
      tabs is blank); a paragraph of nothing but white space of any kind is dropped;
      other lines are kept as they are;
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
    text = SURROGATE.sub("\ufffd", body_md).replace("\r\n", "\n").replace("\r", "\n")
    text = BODY_CONTROL.sub("", text)
    out: list[str] = []
    for kind, lines in blocks(text.split("\n")):
        if kind == "blank":
            if out and out[-1] != "":
                out.append("")
        elif kind == "para":
            cleaned = _clean_paragraph("\n".join(lines), base_url)
            # white space of any kind only (U+2028, U+3000...): nothing to keep, and
            # the final strip would take it away from the start, leaving a fence
            # below it at the head of the body unrecognised
            if cleaned.strip():
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
