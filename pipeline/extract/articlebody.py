"""JSON-LD ``articleBody``: a check on the extracted body, and a repair when it fails.

The rule (applied by ``extract``):

* ``articleBody`` counts only with at least 40 words (shorter ones are teasers). Its
  HTML entities are decoded, twice when the site escaped them twice.
* coverage = share of the articleBody's word 3-gram shingles found in the extracted
  text. At >= 0.6 the extraction stands: it keeps structure and links that
  articleBody (plain text) lacks.
* Below that, extraction is retried once with trafilatura's recall settings; the
  retry is taken when its coverage reaches 0.8.
* Otherwise the body is rebuilt from articleBody itself: its paragraphs (newlines),
  or groups of sentences when it has none.
"""

from __future__ import annotations

import html
import re

from pipeline.extract.htmlmd import Block, escape
from pipeline.wordcount import count_words

MIN_WORDS = 40
GOOD_COVERAGE = 0.6
RETRY_COVERAGE = 0.8
TAGS = re.compile(r"<[^>]{0,500}>")
WORD = re.compile(r"\w+")
SENTENCE_END = re.compile(r"(?<=[.!?。！？।])\s+(?=\S)")
PARAGRAPHS = re.compile(r"\s*\n\s*")
ENTITY = re.compile(r"&(#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8}\d{0,2});")


def article_body(value: object) -> str | None:
    """The articleBody as plain text when it is long enough to judge by, else None."""
    if isinstance(value, list):
        value = " ".join(v for v in value if isinstance(v, str))
    if not isinstance(value, str):
        return None
    text = (
        html.unescape(TAGS.sub("\n", value)) if "<" in value else html.unescape(value)
    )
    if ENTITY.search(text):  # escaped twice ("&amp;ccedil;")
        text = html.unescape(text)
    text = text.replace("\r", "\n").strip()
    return text if count_words(text) >= MIN_WORDS else None


def shingles(text: str, size: int = 3) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    if len(words) < size:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def coverage(reference: str, text: str) -> float:
    """Share of the reference's shingles that ``text`` contains."""
    wanted = shingles(reference)
    if not wanted:
        return 1.0
    return len(wanted & shingles(text)) / len(wanted)


def blocks_from_text(text: str) -> list[Block]:
    """Paragraph blocks from plain text: its lines, or groups of three sentences."""
    paragraphs = [p for p in PARAGRAPHS.split(text) if p.strip()]
    if len(paragraphs) == 1 and count_words(text) > 120:
        sentences = SENTENCE_END.split(paragraphs[0])
        paragraphs = [
            " ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)
        ]
    blocks = []
    for paragraph in paragraphs:
        clean = re.sub(r"\s+", " ", paragraph).strip()
        blocks.append(Block("p", escape(clean), clean))
    return blocks
