"""The records that flow through broadsheet: a fetched Page, an extracted Article.

A spider (or replay) builds a :class:`Page`; :func:`pipeline.extract.article.extract` turns it
into an :class:`Article`; :func:`pipeline.normalize.stage.normalize` turns that into the
article as stored and its markdown;
:class:`pipeline.store.writer.Store` decides whether it is new, an update or a duplicate and
writes it. Both records are plain, picklable dataclasses so that they can cross a
process boundary (the extraction pool) or a Redis list unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Hints:
    """What a feed or news sitemap said about a page: a fallback for extraction."""

    title: str | None = None
    date: str | None = None  # as the feed gives it, ISO 8601 when it could be parsed
    keywords: tuple[str, ...] = ()
    lang: str | None = None


@dataclass(frozen=True)
class Page:
    """One fetched (or saved) response, before any parsing of its body."""

    url: str  # the URL the body was fetched from (after redirects) or the manifest URL
    body: bytes
    source: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    fetched_at: str = ""  # ISO 8601, UTC
    status: int = 200
    seen_urls: tuple[str, ...] = ()  # other URLs that led here: requested, redirects
    hints: Hints = field(default_factory=Hints)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Page:
        data = dict(data)
        data["hints"] = Hints(
            **{
                **data.get("hints", {}),
                "keywords": tuple(data.get("hints", {}).get("keywords", ())),
            }
        )
        data["seen_urls"] = tuple(data.get("seen_urls", ()))
        return cls(**data)


@dataclass(frozen=True)
class Article:
    """One extracted story, everything the markdown file and the database row need."""

    url: str  # canonical URL (rel=canonical / og:url, else the page URL), normalised
    source: str
    title: str
    body_md: str  # markdown body, links absolute, without the closing source link
    text: str  # plain text body: no markup, no link targets
    date: str | None = None  # ISO 8601 with offset as published, or YYYY-MM-DD
    date_local: str | None = (
        None  # "YYYY-MM-DD HH:MM:SS" publisher local time, or date only
    )
    modified: str | None = None  # ISO 8601, when the page states it
    summary: str = ""
    lang: str = "en"
    authors: tuple[str, ...] = ()
    image: str | None = None
    section: str | None = None
    keywords: tuple[str, ...] = ()
    description: str | None = None  # the page's description meta, if any
    fetched_url: str = ""  # the URL the page was fetched from
    seen_urls: tuple[str, ...] = ()  # every other URL this story was seen under
    fetched_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        data = dict(data)
        for key in ("authors", "keywords", "seen_urls"):
            data[key] = tuple(data.get(key, ()))
        return cls(**data)
