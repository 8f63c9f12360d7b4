"""A Hugo site around the markdown tree: ``broadsheet site DIR``.

The site is one config file, ``DIR/hugo.toml``, that points Hugo's ``contentDir`` at the
output's ``content/`` folder (nothing is copied) and sets what the front matter needs
to show right with the Mainroad theme: ``timeZone``, because the front matter's
``date`` is the publisher's local time without an offset; ``mainSections``, the
top-level folders of the tree (one per source), so the home page lists every source;
Mainroad's parameters for the layout keys the front matter uses.

Hugo has one ``timeZone`` per site. Every story shows the clock time its publisher
wrote; the offset Hugo gives it (``datetime`` attributes, RSS ``pubDate``, the order of
stories from different zones) is the site's zone, so it is right for the sources in
that zone only. The zone chosen is the one most stories were written in, and the
sources of other zones are reported.

May import: the ground floor.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pipeline.errors import BroadsheetError
from pipeline.output import database_path
from pipeline.sources import Source, load_sources

CONFIG_NAME = "hugo.toml"
MARKER = "# Hugo site written by broadsheet site"
THEME = "mainroad"
THEME_REPOSITORY = "https://github.com/Vimux/Mainroad.git"
MAX_SECTIONS = 10_000  # top-level folders listed in mainSections


class SiteError(BroadsheetError):
    """The site cannot be written: no markdown tree, a foreign config, a bad zone."""


@dataclass
class SitePlan:
    """What ``hugo.toml`` will say, and what the user should know about it."""

    content_dir: str
    sections: list[str]
    time_zone: str | None
    stories: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def count_stories(content: Path) -> dict[str, int]:
    """Markdown files under each top-level folder of ``content`` (Hugo's sections)."""
    if not content.is_dir():
        raise SiteError(
            f"no markdown tree at {content}: run broadsheet crawl, replay or import first"
        )
    counts: dict[str, int] = {}
    for folder in sorted(content.iterdir()):
        if not folder.is_dir() or folder.name.startswith((".", "_")):
            continue
        found = sum(1 for _ in folder.rglob("*.md"))
        if found:
            counts[folder.name] = found
        if len(counts) >= MAX_SECTIONS:
            break
    if not counts:
        raise SiteError(f"no markdown files in a folder of {content}")
    return counts


def source_zones(
    stories: dict[str, int], sources: dict[str, Source], db_path: Path
) -> tuple[dict[str, str | None], set[str]]:
    """Each section's time zone: its source's, else one that fits its stored dates.

    A source without a ``timezone`` keeps each page's own offset in ``date``; a zone
    whose offset matches all of them (the names of the sources file first) stands in.
    Returns the zones and the names of the sections whose zone was inferred.
    """
    zones: dict[str, str | None] = {}
    for name in stories:
        source = sources.get(name)
        zones[name] = source.timezone if source else None
    missing = [name for name, zone in zones.items() if zone is None]
    samples = stored_offsets(db_path, missing) if missing else {}
    preferred = sorted({s.timezone for s in sources.values() if s.timezone})
    inferred = set()
    for name in missing:
        zones[name] = zone_for(samples.get(name, []), preferred)
        if zones[name]:
            inferred.add(name)
    return zones, inferred


def stored_offsets(db_path: Path, names: list[str]) -> dict[str, list[datetime]]:
    """The first and last dated story of each offset, per source, from the database."""
    if not db_path.is_file():
        return {}
    marks = ", ".join("?" for _ in names)
    sql = (
        "select source, min(date), max(date) from articles"
        f" where source in ({marks}) and length(date) > 19 group by source, substr(date, 20)"
    )
    samples: dict[str, list[datetime]] = {}
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute(sql, names).fetchall()
    except sqlite3.DatabaseError:
        return {}
    finally:
        conn.close()
    for source, *dates in rows:
        for value in dates:
            try:
                moment = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                continue
            if moment.tzinfo is not None:
                samples.setdefault(source, []).append(moment)
    return samples


def zone_for(samples: list[datetime], preferred: list[str]) -> str | None:
    """A zone whose offset is each sample's at its instant, ``preferred`` ones first."""
    if not samples:
        return None
    for name in [*preferred, *canonical_zones(), *sorted(available_timezones())]:
        if "/" not in name or name.startswith(("Etc/", "SystemV/", "US/")):
            continue
        zone = ZoneInfo(name)
        if all(s.astimezone(zone).utcoffset() == s.utcoffset() for s in samples):
            return name
    return None


def canonical_zones() -> list[str]:
    """The zones of the system's zone1970.tab (no old aliases such as Asia/Calcutta)."""
    for folder in TZPATH:
        table = Path(folder) / "zone1970.tab"
        if table.is_file():
            rows = table.read_text(errors="replace").splitlines()
            fields = [row.split("\t") for row in rows if not row.startswith("#")]
            return sorted(parts[2] for parts in fields if len(parts) > 2)
    return []


def choose_zone(
    stories: dict[str, int],
    zones: dict[str, str | None],
    chosen: str | None = None,
    inferred: set[str] | frozenset[str] = frozenset(),
) -> tuple[str | None, list[str]]:
    """The site's time zone (most stories') and a warning per section it misdates."""
    if chosen is not None:
        check_zone(chosen)
    else:
        weight = Counter[str]()
        for name, zone in zones.items():
            if zone:
                weight[zone] += stories[name]
        ranked = sorted(weight.items(), key=lambda item: (-item[1], item[0]))
        chosen = ranked[0][0] if ranked else None
    warnings = []
    shown = chosen or "UTC"
    for name in stories:
        zone = zones.get(name)
        if zone is None:
            warnings.append(
                f"{name}: no time zone in the sources file nor in its stored dates; "
                f"its times are shown as {shown}"
            )
        elif zone != chosen:
            warnings.append(
                f"{name}: its times are local to {zone} but shown as {shown} "
                "(Hugo has one time zone per site)"
            )
        elif name in inferred:
            warnings.append(
                f"{name}: no timezone in the sources file; {zone} fits its stored dates"
            )
    return chosen, warnings


def check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise SiteError(f"unknown time zone {name!r}: use an IANA name") from error


def plan_site(
    site_dir: Path,
    output_dir: Path,
    sources: dict[str, Source],
    time_zone: str | None = None,
) -> SitePlan:
    content = output_dir / "content"
    stories = count_stories(content)
    zones, inferred = source_zones(
        stories, sources, database_path(output_dir)
    )  # its offsets stand in for a missing zone
    zone, warnings = choose_zone(stories, zones, time_zone, inferred)
    relative = os.path.relpath(content.resolve(), site_dir.resolve())
    return SitePlan(relative, sorted(stories), zone, stories, warnings)


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(toml_string(value) for value in values) + "]"


def render_config(
    plan: SitePlan, title: str, base_url: str, language: str = "en"
) -> str:
    zone = (
        f"timeZone = {toml_string(plan.time_zone)}"
        if plan.time_zone
        else "# timeZone: no source states one; Hugo reads the dates as UTC"
    )
    return f"""{MARKER}; it is rewritten each time that runs.
#
# Theme: Mainroad. Add it once, then serve the site:
#   git clone --depth 1 {THEME_REPOSITORY} themes/{THEME}
#   (or, in a git repository: git submodule add {THEME_REPOSITORY} themes/{THEME})
#   hugo server -s .
#
# The front matter's dates are the publishers' local times without an offset: Hugo
# reads them in timeZone, one for the whole site.
baseURL = {toml_string(base_url)}
title = {toml_string(title)}
languageCode = {toml_string(language)}
theme = {toml_string(THEME)}
contentDir = {toml_string(plan.content_dir)}
{zone}

[taxonomies]
  category = "categories"
  tag = "tags"

[params]
  description = "News stories collected with broadsheet"
  mainSections = {toml_list(plan.sections)}
  post_meta = ["date", "categories", "translations"]
  dateformat = "2006-01-02 15:04"
  readmore = true
  authorbox = false
  comments = false
  pager = true
  toc = false
  mathjax = false
  opengraph = true
  schema = true
  twitter_cards = false

[params.logo]
  title = {toml_string(title)}
  subtitle = "News from {len(plan.sections)} source{"" if len(plan.sections) == 1 else "s"}"

[params.sidebar]
  home = "right"
  list = "right"
  single = "right"
  widgets = ["search", "recent", "categories", "taglist"]

[params.widgets]
  recent_num = 10
  categories_counter = true
  tags_counter = true
"""


def write_site(
    site_dir: Path,
    output_dir: Path,
    sources: dict[str, Source],
    *,
    title: str = "broadsheet",
    base_url: str = "/",
    time_zone: str | None = None,
) -> SitePlan:
    """Write ``site_dir/hugo.toml`` for the markdown tree of ``output_dir``."""
    config = site_dir / CONFIG_NAME
    if config.exists() and not config.read_text(errors="replace").startswith(MARKER):
        raise SiteError(f"{config} exists and was not written by broadsheet site")
    plan = plan_site(site_dir, output_dir, sources, time_zone)
    site_dir.mkdir(parents=True, exist_ok=True)
    partial = config.with_name(f".{CONFIG_NAME}.tmp")
    partial.write_text(render_config(plan, title, base_url), encoding="utf-8")
    partial.replace(config)
    return plan


def make_site(
    site_dir: Path,
    output_dir: Path,
    sources_file: Path | None = None,
    **options: str | None,
) -> list[str]:
    """Write the site, then say what was written, what is next, and any warnings."""
    plan = write_site(site_dir, output_dir, load_sources(sources_file), **options)
    theme = site_dir / "themes" / THEME
    lines = [
        f"wrote {site_dir / CONFIG_NAME}: {sum(plan.stories.values())} stories in "
        f"{len(plan.sections)} sections, time zone {plan.time_zone or 'UTC'}",
    ]
    if not theme.is_dir():
        lines.append(f"add the theme: git clone --depth 1 {THEME_REPOSITORY} {theme}")
    lines.append(f"then:          hugo server -s {site_dir}")
    return lines + [f"warning: {warning}" for warning in plan.warnings]
