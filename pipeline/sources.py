"""Sources are data: one ``[[source]]`` table per site in a TOML file.

The packaged ``pipeline/sources.toml`` holds the defaults; ``--sources FILE`` (or the
``BROADSHEET_SOURCES`` setting) names another. Every error names the file, the source
and the key, and suggests the key that was probably meant.

Patterns (``article_pattern``, a section's ``pattern``) run on RE2, whose matching
time grows linearly with the URL: no pattern can make the crawl backtrack for
minutes. RE2 refuses the few constructs that need backtracking (look-around,
back-references); the error says which.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

import re2

from pipeline.errors import BroadsheetError
from pipeline.tomlfile import read_toml

# Read through importlib.resources: under scrapyd the package runs from a zipped egg.
DEFAULT_SOURCES = resources.files("pipeline") / "sources.toml"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class SourceError(BroadsheetError):
    """The sources file is missing, malformed or names an unknown source."""


@dataclass(frozen=True)
class Section:
    """A listing page whose links matching ``pattern`` (a regex) are articles."""

    url: str
    pattern: str


@dataclass(frozen=True)
class Source:
    name: str
    domains: tuple[str, ...]
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    lang: str = "en"
    # Extraction overrides, for when the generic result is wrong on a site.
    prune_xpaths: tuple[str, ...] = ()  # elements removed before extraction
    body_xpath: str | None = None  # the element holding the article body
    # Article URLs must match this regex (when set); others found in feeds are skipped.
    article_pattern: str | None = None
    timezone: str | None = None  # IANA name, for pages that state a time without offset
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def allows(self, host: str) -> bool:
        """True when ``host`` is one of the source's domains or a subdomain of one."""
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.domains)


_LIST_KEYS = {"domains", "feeds", "sitemaps", "prune_xpaths"}
_STR_KEYS = {"name", "lang", "body_xpath", "article_pattern", "timezone"}
_KEYS = {f.name for f in fields(Source)} - {"extra"}


def _fail(path: Path, where: str, message: str) -> SourceError:
    return SourceError(f"{path}: {where}{message}")


def _source_from_table(path: Path, index: int, table: dict[str, Any]) -> Source:
    name = table.get("name")
    where = f'source "{name}": ' if isinstance(name, str) else f"source #{index + 1}: "
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _fail(
            path,
            where,
            'key "name" must be a lower-case slug such as "business-standard"',
        )
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            close = difflib.get_close_matches(key, sorted(_KEYS), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise _fail(path, where, f'unknown key "{key}"{hint}')
        if key in _LIST_KEYS:
            if not isinstance(value, list) or not all(
                isinstance(v, str) for v in value
            ):
                raise _fail(path, where, f'key "{key}" must be a list of strings')
            value = tuple(value)
        elif key in _STR_KEYS:
            if not isinstance(value, str):
                raise _fail(path, where, f'key "{key}" must be a string')
        elif key == "sections":
            value = _sections(path, where, value)
        values[key] = value
    if not values.get("domains"):
        raise _fail(path, where, 'key "domains" is required (a list of host names)')
    values["domains"] = tuple(d.lower().strip(".") for d in values["domains"])
    for key in ("article_pattern",):
        if values.get(key):
            _check_regex(path, where, key, values[key])
    if not (values.get("feeds") or values.get("sitemaps") or values.get("sections")):
        raise _fail(
            path, where, 'needs at least one of "feeds", "sitemaps" or "sections"'
        )
    return Source(**values)


def _sections(path: Path, where: str, value: Any) -> tuple[Section, ...]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _fail(
            path, where, 'key "sections" must be a list of {url, pattern} tables'
        )
    sections = []
    for entry in value:
        if set(entry) != {"url", "pattern"} or not all(
            isinstance(v, str) for v in entry.values()
        ):
            raise _fail(
                path,
                where,
                'each entry of "sections" needs exactly "url" and "pattern"',
            )
        _check_regex(path, where, "sections.pattern", entry["pattern"])
        sections.append(Section(entry["url"], entry["pattern"]))
    return tuple(sections)


def _check_regex(path: Path, where: str, key: str, pattern: str) -> None:
    try:
        compile_pattern(pattern)
    except SourceError as error:
        raise _fail(path, where, f'key "{key}" {error}') from None


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the error is raised, and said once, by us


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Any:
    """``pattern`` compiled by RE2 (linear-time matching), or SourceError saying why not."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else "refused"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        try:
            re.compile(pattern)
        except re.error:
            return _raise(f"is not a valid regular expression: {reason}")
        return _raise(
            f"uses a construct the linear-time pattern engine (RE2) refuses: {reason} "
            "(look-around and back-references are not supported)"
        )


def _raise(message: str) -> Any:
    raise SourceError(message)


def load_sources(path: str | Path | None = None) -> dict[str, Source]:
    """Read a sources file (the packaged default when ``path`` is None), by name."""
    path = Path(path) if path else DEFAULT_SOURCES  # a Traversable reads like a Path
    data = read_toml(path, SourceError, "sources file")
    tables = data.get("source")
    unknown = set(data) - {"source"}
    if unknown:
        raise SourceError(
            f'{path}: unknown top-level key "{sorted(unknown)[0]}" (sources are [[source]] tables)'
        )
    if not isinstance(tables, list) or not tables:
        raise SourceError(f"{path}: no [[source]] tables")
    sources: dict[str, Source] = {}
    for index, table in enumerate(tables):
        source = _source_from_table(path, index, table)
        if source.name in sources:
            raise _fail(path, f'source "{source.name}": ', "defined twice")
        sources[source.name] = source
    return sources


def select(
    sources: dict[str, Source], names: list[str] | tuple[str, ...]
) -> list[Source]:
    """The sources named (all of them when ``names`` is empty), or SourceError."""
    if not names:
        return list(sources.values())
    chosen = []
    for name in names:
        if name not in sources:
            close = difflib.get_close_matches(name, list(sources), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            known = ", ".join(sources)
            raise SourceError(f'unknown source "{name}"{hint}; known sources: {known}')
        chosen.append(sources[name])
    return chosen


def adhoc_source(name: str, lang: str = "en") -> Source:
    """A source that is not in any sources file, for replaying or importing pages."""
    if not NAME_RE.match(name):
        raise SourceError(
            f'source name "{name}" must be a lower-case slug such as "business-standard"'
        )
    return Source(name=name, domains=(), lang=lang)
