"""Slugs: ASCII ``[a-z0-9-]`` words of any text, for file names and byline URLs."""

from __future__ import annotations

import re
import unicodedata

MAX_SLUG = 80
NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, limit: int = MAX_SLUG) -> str:
    """ASCII words joined by hyphens, cut at a hyphen to at most ``limit`` characters."""
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    )
    slug = NON_SLUG.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0] if "-" in slug[:limit] else slug[:limit]
    return slug
