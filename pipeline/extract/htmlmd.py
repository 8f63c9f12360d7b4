"""trafilatura's body tree -> markdown and plain text, block by block.

The tree uses trafilatura's vocabulary: ``p``, ``head`` (rend h1..h6), ``list``/``item``
(rend ul/ol), ``quote``, ``table``/``row``/``cell``, ``code``, ``graphic``, ``lb`` and the
inline ``hi`` (rend #b/#i/...) and ``ref`` (target). Markdown keeps paragraphs,
subheadings, bold, italics, lists, block quotes, tables and links; link targets are
resolved against the page URL and only http, https and mailto survive (any other
link becomes its text). No raw HTML passes: ``<`` is escaped. The plain text is the
same content without markup or link targets.

Some layouts put inline links between paragraphs (``<p>NEW DELHI: </p><ref>..</ref>
<p>'s army ...</p>``); such stray inline pieces are joined back into the paragraph they
interrupt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.etree import _Element

from pipeline.urls import absolute

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
CONTAINERS = {"div", "body", "section", "article", "main", "doc", "text"}
INLINE = {"hi", "ref", "span", "del", "lb", "b", "i", "em", "strong", "a", "sub", "sup"}
BOLD, ITALIC, CODE = {"#b", "#strong"}, {"#i", "#em"}, {"#t", "#code"}
# runs of spaces, tabs and no-break or thin spaces, each to become one space. A lone
# plain space, by far the commonest run, is not matched: replacing it by itself once a
# word cost more than half of the paragraphs' tidying.
SPACES = re.compile(
    r"(?: [ \t\u00a0\u2009\u200a\u202f]|[\t\u00a0\u2009\u200a\u202f])"
    r"[ \t\u00a0\u2009\u200a\u202f]*"
)
# zero-width spaces, soft hyphens, word joiners, byte-order marks (never the joiners
# U+200C/U+200D, which shape Indic, Persian and emoji text)
INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")
ESCAPE = re.compile(r"([\\`*\[\]<])")
UNDERSCORE = re.compile(r"(?<!\w)_|_(?!\w)")
MAY_NEED_ESCAPE = re.compile(r"[\\`*\[\]<_]")
BLOCK_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])(\s)")
CONTINUES = re.compile(r"^[\s\W]|^[a-z]")


@dataclass
class Block:
    """One paragraph-level piece of the body, as markdown and as plain text."""

    kind: str  # p, head, list, quote, table, code
    md: str
    text: str
    open: bool = False  # a paragraph that a stray inline piece may continue
    strayed: bool = False  # last extended by a stray inline piece


def escape(text: str) -> str:
    if not MAY_NEED_ESCAPE.search(text):  # most text: one scan instead of two
        return text
    return UNDERSCORE.sub(r"\\_", ESCAPE.sub(r"\\\1", text))


def link_target(target: str | None, base: str) -> str | None:
    """An absolute http(s)/mailto URL for a link, or None when it must become text."""
    url = absolute(target, base, LINK_SCHEMES)
    if url is None:
        return None
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _wrap(marker: str, md: str) -> str:
    core = md.strip()
    if not core:
        return md
    lead = md[: len(md) - len(md.lstrip())]
    trail = md[len(md.rstrip()) :]
    return f"{lead}{marker}{core}{marker}{trail}"


def inline(element: _Element, base: str, skip_lists: bool = False) -> tuple[str, str]:
    """Markdown and text of an element's content (its text and children, not its tail)."""
    md, text = [escape(element.text or "")], [element.text or ""]
    for child in element:
        if skip_lists and child.tag == "list":
            continue
        child_md, child_text = _child(child, base)
        md.append(child_md)
        text.append(child_text)
        md.append(escape(child.tail or ""))
        text.append(child.tail or "")
    return "".join(md), "".join(text)


def _child(child: _Element, base: str) -> tuple[str, str]:
    tag = child.tag
    if tag == "lb":
        return "\n", "\n"
    if tag == "graphic" or not isinstance(tag, str):
        return "", ""
    md, text = inline(child, base)
    if tag == "hi":
        rend = child.get("rend", "")
        if rend in BOLD:
            return _wrap("**", md), text
        if rend in ITALIC:
            return _wrap("*", md), text
        if rend in CODE and "`" not in text:
            return _wrap("`", text), text
        return md, text
    if tag == "ref":
        url = link_target(child.get("target"), base)
        if url and text.strip():
            label = md.strip()
            lead = md[: len(md) - len(md.lstrip())]
            trail = md[len(md.rstrip()) :]
            return f"{lead}[{label}]({url}){trail}", text
        return md, text
    if tag in {"p", "head", "quote", "item", "list"}:
        return f" {md} ", f" {text} "
    return md, text


def _tidy(value: str) -> str:
    if INVISIBLE.search(value):
        value = INVISIBLE.sub("", value)
    value = SPACES.sub(" ", value)
    if "\n" not in value:
        return value.strip()
    return "\n".join(
        line for line in (part.strip() for part in value.split("\n")) if line
    )


def _para(md: str, text: str, kind: str = "p") -> Block | None:
    md, text = _tidy(md), _tidy(text)
    if not text:
        return None
    return Block(kind, BLOCK_START.sub(r"\1\\\2\3", md), text)


class _Builder:
    def __init__(self, base: str) -> None:
        self.base = base
        self.blocks: list[Block] = []

    def stray(self, md: str, text: str) -> None:
        """Inline content found between blocks: continue the open paragraph or start one."""
        if not text.strip():
            return
        last = self.blocks[-1] if self.blocks else None
        if last is not None and last.kind == "p" and (last.open or last.strayed):
            last.md = _tidy(f"{last.md} {md}" if last.open else f"{last.md}{md}")
            last.text = _tidy(
                f"{last.text} {text}" if last.open else f"{last.text}{text}"
            )
            last.open, last.strayed = text[-1:].isspace(), True
            return
        block = _para(md, text)
        if block:
            block.strayed = True
            self.blocks.append(block)

    def paragraph(self, element: _Element) -> None:
        md, text = inline(element, self.base)
        last = self.blocks[-1] if self.blocks else None
        if last is not None and last.strayed and text.strip() and CONTINUES.match(text):
            joiner = " " if text[:1].isspace() else ""
            last.md = _tidy(last.md + joiner + md)
            last.text = _tidy(last.text + joiner + text)
            last.strayed, last.open = False, text[-1:] in {" ", "\u00a0"}
            return
        block = _para(md, text)
        if block:
            block.open = text[-1:] in {" ", "\u00a0"}
            self.blocks.append(block)

    def heading(self, element: _Element) -> None:
        md, text = inline(element, self.base)
        level = element.get("rend", "h2")[-1:]
        hashes = "#" * max(2, min(6, int(level) if level.isdigit() else 2))
        block = _para(md.replace("\n", " "), text.replace("\n", " "), "head")
        if block:
            block.md = f"{hashes} {block.md}"
            self.blocks.append(block)

    def listing(self, element: _Element, depth: int = 0) -> tuple[list[str], list[str]]:
        md_lines, text_lines = [], []
        ordered = element.get("rend") == "ol"
        number = 0
        for item in element.iterchildren("item"):
            md, text = inline(item, self.base, skip_lists=True)
            md, text = _tidy(md).replace("\n", " "), _tidy(text).replace("\n", " ")
            if text:
                number += 1
                marker = f"{number}." if ordered else "-"
                md_lines.append(f"{'   ' * depth}{marker} {md}")
                text_lines.append(text)
            for sub in item.iterchildren("list"):
                sub_md, sub_text = self.listing(sub, depth + 1)
                md_lines += sub_md
                text_lines += sub_text
        return md_lines, text_lines

    def table(self, element: _Element) -> Block | None:
        rows = []
        for row in element.iter("row"):
            cells = [inline(cell, self.base) for cell in row.iterchildren("cell")]
            cells = [
                (_tidy(m).replace("\n", " "), _tidy(t).replace("\n", " "))
                for m, t in cells
            ]
            if any(t for _, t in cells):
                rows.append(cells)
        if not rows:
            return None
        width = max(len(r) for r in rows)
        md = []
        for index, row in enumerate(rows):
            cells = [m.replace("|", "\\|") for m, _ in row] + [""] * (width - len(row))
            md.append("| " + " | ".join(cells) + " |")
            if index == 0:
                md.append("|" + " --- |" * width)
        text = "\n".join(" | ".join(t for _, t in row if t) for row in rows)
        return Block("table", "\n".join(md), text)

    def walk(self, element: _Element) -> None:
        if element.text and element.text.strip():
            self.stray(escape(element.text), element.text)
        for child in element:
            self.block(child)
            if child.tail and child.tail.strip():
                self.stray(escape(child.tail), child.tail)

    def block(self, child: _Element) -> None:
        tag = child.tag
        if tag == "p":
            self.paragraph(child)
        elif tag == "head":
            self.heading(child)
        elif tag == "list":
            md_lines, text_lines = self.listing(child)
            if md_lines:
                self.blocks.append(
                    Block("list", "\n".join(md_lines), "\n".join(text_lines))
                )
        elif tag == "quote":
            self.quote(child)
        elif tag == "table":
            table = self.table(child)
            if table:
                self.blocks.append(table)
        elif tag == "code":
            code = (child.xpath("string()") or "").strip("\n")
            if code.strip():
                fence = "````" if "```" in code else "```"
                self.blocks.append(Block("code", f"{fence}\n{code}\n{fence}", code))
        elif tag in CONTAINERS or tag == "quote":
            self.walk(child)
        elif tag == "graphic" or not isinstance(tag, str):
            return
        else:
            md, text = _child(child, self.base)
            self.stray(md, text)

    def quote(self, element: _Element) -> None:
        inner = _Builder(self.base)
        if (len(element) and all(c.tag in INLINE for c in element)) or not len(element):
            inner.paragraph(element)
        else:
            inner.walk(element)
        if not inner.blocks:
            return
        md = "\n>\n".join(
            "\n".join(f"> {line}" for line in b.md.split("\n")) for b in inner.blocks
        )
        self.blocks.append(
            Block("quote", md, "\n\n".join(b.text for b in inner.blocks))
        )


def to_blocks(body: _Element, base_url: str) -> list[Block]:
    """The body tree as a list of markdown/text blocks."""
    builder = _Builder(base_url)
    builder.walk(body)
    return bold_subheadings(builder.blocks)


SUBHEADING_WORDS = 15
NOT_A_HEADING = re.compile(r"[.!?:;,…]\W*$")
# "**New Delhi:**", "**WASHINGTON —**": a place in bold, alone, before the story
DATELINE = re.compile(r"^\*\*[^*\n]{2,40}[:—–-]\s*\*\*$")


def _is_subheading(md: str, text: str) -> bool:
    return (
        md.startswith("**")
        and md == f"**{escape(text)}**"
        and 0 < len(text.split()) <= SUBHEADING_WORDS
        and not NOT_A_HEADING.search(text)
    )


def bold_subheadings(blocks: list[Block]) -> list[Block]:
    """A paragraph (or a paragraph's first line) that is all bold, short, without a
    sentence's end, and followed by text is a subheading (``### ...``): templates
    write them that way. A bold dateline alone ("**New Delhi:**") joins the
    paragraph after it."""
    out: list[Block] = []
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if block.kind != "p":
            out.append(block)
            continue
        md_lines, text_lines = block.md.split("\n"), block.text.split("\n")
        head_md, head_text = md_lines[0], text_lines[0].strip()
        if len(md_lines) > 1 and len(md_lines) == len(text_lines):
            if _is_subheading(head_md, head_text):
                out.append(Block("head", f"### {escape(head_text)}", head_text))
                rest_md, rest_text = "\n".join(md_lines[1:]), "\n".join(text_lines[1:])
                out.append(Block("p", rest_md, rest_text))
                continue
        if following is not None and following.kind == "p" and "\n" not in block.text:
            if _is_subheading(block.md, head_text):
                block.kind, block.md = "head", f"### {escape(head_text)}"
            elif DATELINE.match(block.md) and all(b.kind == "head" for b in out):
                following.md = f"{block.md} {following.md}"
                following.text = f"{block.text} {following.text}"
                continue
        out.append(block)
    return out


def blocks_text(blocks: list[Block]) -> str:
    """The blocks' text, separated by one blank line: the Article's ``text``. The same
    string wherever the words of these blocks are counted, so that
    :func:`~pipeline.wordcount.count_words` counts them once."""
    return "\n\n".join(b.text for b in blocks)


def join_blocks(blocks: list[Block]) -> tuple[str, str]:
    """(markdown, text): blocks separated by one blank line."""
    return "\n\n".join(b.md for b in blocks), blocks_text(blocks)
