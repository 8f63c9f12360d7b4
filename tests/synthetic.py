"""Small synthetic pages for the extraction tests: a whole HTML document around a body."""

from __future__ import annotations

from pipeline.items import Page


def html_page(url: str, title: str, body: str) -> Page:
    """A UTF-8 HTML page at ``url`` with ``title`` in its head and ``body`` as its body."""
    document = (
        f"<html lang='en'><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body>{body}</body></html>"
    )
    return Page(
        url=url,
        body=document.encode("utf-8"),
        source="example",
        headers={"content-type": "text/html; charset=utf-8"},
    )


def paragraphs(lines: list[str]) -> str:
    """Each line as a ``<p>``."""
    return "".join(f"<p>{line}</p>" for line in lines)
