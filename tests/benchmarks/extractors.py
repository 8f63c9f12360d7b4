"""The extractors the quality harness compares broadsheet with, on the same bytes:
plain ``trafilatura.extract`` (defaults), trafilatura with ``favor_precision=True``,
newspaper4k and readability-lxml (each skipped with a note when it cannot be
imported). Each runner takes the page's bytes and URL and returns ``{"text", ...}``;
the flag says whether it reads title, date and authors too."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import trafilatura
from lxml.html import fromstring
from rich.console import Console

Runner = Callable[[bytes, str], dict]


def run_trafilatura(body: bytes, url: str) -> dict:
    return {"text": trafilatura.extract(body, url=url or None) or ""}


def run_trafilatura_precision(body: bytes, url: str) -> dict:
    return {
        "text": trafilatura.extract(body, url=url or None, favor_precision=True) or ""
    }


def other_systems(console: Console) -> dict[str, tuple[Runner, bool]]:
    systems: dict[str, tuple[Runner, bool]] = {
        "trafilatura": (run_trafilatura, False),
        "trafilatura-precision": (run_trafilatura_precision, False),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from newspaper import Article as NewsArticle
            from newspaper import Config
        except ImportError as error:
            console.print(f"[yellow]newspaper4k skipped: {error}[/]")
        else:
            config = Config()
            config.fetch_images = False

            def run_newspaper(body: bytes, url: str) -> dict:
                article = NewsArticle(url or "https://example.com/", config=config)
                article.download(input_html=trafilatura.utils.decode_file(body))
                article.parse()
                date = (
                    article.publish_date.isoformat() if article.publish_date else None
                )
                return {
                    "text": article.text,
                    "title": article.title,
                    "date": date,
                    "authors": article.authors,
                }

            systems["newspaper4k"] = (run_newspaper, True)
    try:
        from readability import Document
    except ImportError as error:
        console.print(f"[yellow]readability-lxml skipped: {error}[/]")
    else:

        def run_readability(body: bytes, url: str) -> dict:
            document = Document(trafilatura.utils.decode_file(body), url=url or None)
            tree = fromstring(document.summary(html_partial=True))
            for block in tree.iter(
                "p", "div", "li", "h1", "h2", "h3", "h4", "br", "tr"
            ):
                block.tail = "\n\n" + (block.tail or "")
            return {"text": tree.text_content(), "title": document.short_title()}

        systems["readability"] = (run_readability, False)
    return systems
