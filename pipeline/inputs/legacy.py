"""Legacy plain-text dumps -> Articles.

A dump holds one or more records, each starting with `` date YYYY-MM-DD `` and followed
by the body (paragraphs separated by blank lines). Such dumps carry no title and no
URL, so they are derived, always the same way for the same text:

* the **title** is the first sentence of the body, cut at a word boundary to at most
  :data:`TITLE_LIMIT` characters (with ``...`` when cut);
* the **URL** is the first ``http(s)://`` URL standing alone on a line of the record
  when there is one; otherwise ``<url prefix><yyyy-mm-dd>-<slug of the title>``, where
  the prefix defaults to ``https://<first domain of the source>/imported/``. Such a URL
  is a stable identifier for deduplication and the markdown link, not a live address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from pipeline.errors import BroadsheetError
from pipeline.items import Article
from pipeline.normalize.front_matter import derive_title
from pipeline.slugs import slugify

RECORD = re.compile(r"^[ \t]*date[ \t]+(\d{4}-\d{2}-\d{2})\b[ \t]*", re.MULTILINE)
URL_LINE = re.compile(r"^[ \t]*(https?://\S+)[ \t]*$", re.MULTILINE)


class DumpError(BroadsheetError):
    """A file is not a legacy text dump."""


def paragraphs(body: str) -> list[str]:
    blocks = re.split(r"\n\s*\n", body.strip())
    return [" ".join(block.split()) for block in blocks if block.strip()]


def parse_dump(text: str, source: str, url_prefix: str) -> Iterator[Article]:
    starts = list(RECORD.finditer(text))
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        chunk = text[match.end() : end]
        url_match = URL_LINE.search(chunk)
        if url_match:
            chunk = chunk[: url_match.start()] + chunk[url_match.end() :]
        paras = paragraphs(chunk)
        if not paras:
            continue
        body = "\n\n".join(paras)
        title = derive_title(body)
        day = match.group(1)
        url = (
            url_match.group(1)
            if url_match
            else f"{url_prefix}{day}-{slugify(title) or 'article'}"
        )
        yield Article(
            url=url,
            source=source,
            title=title,
            body_md=body,
            text=body,
            date=day,
            date_local=day,
            fetched_url=url,
        )


def read_dump(path: Path, source: str, url_prefix: str) -> list[Article]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_bytes().decode("cp1252", errors="replace")
    except OSError as error:
        raise DumpError(f"{path}: cannot read: {error.strerror}") from None
    articles = list(parse_dump(text, source, url_prefix))
    if not articles:
        raise DumpError(f"{path}: no record starting with ' date YYYY-MM-DD ' found")
    return articles
