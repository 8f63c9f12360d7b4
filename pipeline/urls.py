"""URLs: one form for every variant of an article URL, absolute links.

* :func:`canonical_url` maps every variant of an article URL (scheme and host case,
  default ports, tracking parameters, fragments, AMP pages, trailing slashes,
  ``index.html``) to one form; :func:`url_variants` adds the other scheme and the
  ``www.`` form.
* :func:`absolute` makes the URL of a link absolute (HTML attribute values, feed and
  sitemap entries), :func:`join` is the same for a target already trimmed by the
  caller's own rule (markdown link targets).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

WEB_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
TRACKING_PARAMS = re.compile(
    r"^(utm_\w*|fbclid|gclid|gclsrc|dclid|msclkid|yclid|igshid|mc_cid|mc_eid|_ga|_gl|"
    r"ref|ref_src|ref_url|referrer|source|cmpid|cmp|ito|s_cid|icid|ocid|"
    r"__twitter_impression|_hsenc|_hsmi|mkt_tok|vero_id|oly_anon_id|oly_enc_id|"
    r"rss|from|share|sharetype|amp|outputtype|amp_js_v|usqp|at_medium|at_campaign)$",
    re.IGNORECASE,
)
AMP_SUFFIX = re.compile(r"(?:_amp|\.amp|-amp)(\.html?|\.cms)?$", re.IGNORECASE)
INDEX_FILE = re.compile(r"/index\.(?:html?|php|aspx?)$", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def canonical_url(url: str) -> str:
    """One form for every variant of an http(s) URL; other URLs come back stripped.

    Cached: a store looks the same URLs up several times per article.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.rstrip(".")
    if host.startswith("amp."):
        host = "www." + host[4:]
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _strip_amp_path(parts.path)
    path = INDEX_FILE.sub("/", path)
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(key)
    ]
    rebuilt = urlunsplit((scheme, netloc, path or "/", urlencode(query), ""))
    return canonicalize_url(rebuilt)


def _strip_amp_path(path: str) -> str:
    segments = [s for s in path.split("/") if s.lower() != "amp"]
    path = "/".join(segments)
    if segments and segments[-1]:
        last = AMP_SUFFIX.sub(lambda m: m.group(1) or "", segments[-1])
        path = "/".join([*segments[:-1], last])
    return path


def url_variants(url: str) -> set[str]:
    """The canonical URL with either scheme and with or without ``www.``: one story."""
    canonical = canonical_url(url)
    scheme, sep, rest = canonical.partition("://")
    if not sep or scheme not in DEFAULT_PORTS:
        return {canonical}
    bare = rest[4:] if rest.startswith("www.") else rest
    return {f"{s}://{h}{bare}" for s in DEFAULT_PORTS for h in ("", "www.")}


def join(url: str, base: str, schemes: frozenset[str] = WEB_SCHEMES) -> str | None:
    """``url`` joined to ``base`` as a browser joins a link; None when it is empty,
    does not parse, or its scheme (lower-cased) is not one of ``schemes``."""
    if not url:
        return None
    try:
        joined = urljoin(base, url)
        scheme = urlsplit(joined).scheme
    except ValueError:
        return None
    return joined if scheme in schemes else None


def absolute(
    url: str | None, base: str, schemes: frozenset[str] = WEB_SCHEMES
) -> str | None:
    """:func:`join` of ``url`` without its surrounding whitespace (None: no URL)."""
    return join((url or "").strip(), base, schemes)
