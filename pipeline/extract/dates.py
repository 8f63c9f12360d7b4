"""Publication dates as the publisher states them, in ISO 8601 and in local wall time.

A page's date strings come in many shapes (ISO 8601 with or without offset, RFC 2822
from feeds, ``2024-09-02 17:07:00``, bare dates). :func:`parse_when` reads one;
:func:`published` turns it into the two values an Article carries:

* ``date``: ISO 8601 with the offset the page gave (``2024-09-02T17:07:00+05:30``);
  when the page gives a time without an offset, the source's ``timezone`` supplies
  one; without either it stays naive. A page that gives only a day yields
  ``YYYY-MM-DD``: a time is never invented.
* ``date_local``: ``YYYY-MM-DD HH:MM:SS`` in the publisher's local time with the
  offset dropped (converted to the source's timezone when it has one), or the day.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateutil_parser

DAY_ONLY = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
COMPACT_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
FRACTION = re.compile(r"(\.\d+)")
HAS_TIME = re.compile(r"\d{1,2}:\d{2}")
HAS_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2}|\b(GMT|UTC|UT|[A-Z]{2,4}T))\s*$")
ZONE_MINUTES = {
    "IST": 330, "GMT": 0, "UTC": 0, "UT": 0, "BST": 60, "CET": 60, "CEST": 120,
    "EET": 120, "EEST": 180, "MSK": 180, "PKT": 300, "NPT": 345, "SGT": 480,
    "HKT": 480, "JST": 540, "KST": 540, "AEST": 600, "AEDT": 660, "EST": -300,
    "EDT": -240, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480,
    "PDT": -420,
}  # fmt: skip
TZ_NAMES = {name: timezone(timedelta(minutes=m)) for name, m in ZONE_MINUTES.items()}
EARLIEST, LATEST = 1990, 2100
# 2019年4月21日 12時00分 (Japanese, Chinese; Korean uses 년/월/일)
CJK_DATE = re.compile(
    r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]"
    r"(?:\D{0,6}?(\d{1,2})\s*[時시:：]\s*(\d{1,2}))?"
)
# 03.02.2022 and 3. 2. 2022 are always day first (German, Czech, Russian ...)
DOTTED_DATE = re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})\b")
# "April 5, 2018 | 6:00 PM", "Mar 12, 2020 @ 10:42 am": a separator before the time
TIME_SEPARATOR = re.compile(r"\s*[|@·•]\s*(?=\d{1,2}[:.]\d{2})")
MERIDIEM = re.compile(r"\d\s*[ap]\.?m\b\.?", re.I)


@dataclass(frozen=True)
class When:
    """A parsed date: a day, optionally a wall time, optionally an offset."""

    day: date
    moment: datetime | None = None  # wall time; tz-aware when the offset is known

    @property
    def has_offset(self) -> bool:
        return self.moment is not None and self.moment.tzinfo is not None


def _sane(value: datetime | date) -> bool:
    return EARLIEST <= value.year <= LATEST


def _iso(text: str) -> datetime | None:
    text = text.strip().replace(" ", "T", 1) if "T" not in text else text.strip()
    text = text.replace("Z", "+00:00").replace("z", "+00:00")
    text = COMPACT_OFFSET.sub(r"\1:\2", text)
    match = FRACTION.search(text)
    if match and len(match.group(1)) > 7:  # fromisoformat takes at most 6 digits
        text = text.replace(match.group(1), match.group(1)[:7])
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_when(value: str | None, dayfirst: bool = False) -> When | None:
    """Parse one date string from a page or feed, or None when it is not a date.

    ``dayfirst`` reads an ambiguous ``02/10/2020`` as the 2nd of October (see
    :func:`day_first`); unambiguous forms are read the same either way.
    """
    if not value or not isinstance(value, str) or len(value) > 80:
        return None
    value = value.strip()
    match = DAY_ONLY.match(value)
    if match:
        try:
            day = date(*(int(g) for g in match.groups()))
        except ValueError:
            return None
        return When(day) if _sane(day) else None
    value = _normalise(value)
    moment = _iso(value)
    if moment is None and not MERIDIEM.search(value):  # RFC 2822 ignores "PM"
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            moment = None
    if moment is None:
        moment = _fuzzy(value, dayfirst)
    if moment is None or not _sane(moment):
        return None
    if not HAS_TIME.search(value):
        return When(moment.date())
    if moment.tzinfo is not None and not HAS_OFFSET.search(value):
        moment = moment.replace(tzinfo=None)
    if moment.tzinfo is None:
        zone = TZ_NAMES.get(value.rsplit(None, 1)[-1].upper())
        moment = moment.replace(tzinfo=zone) if zone else moment
    return When(moment.date(), moment.replace(microsecond=0))


def _normalise(value: str) -> str:
    """CJK and day-first dotted dates rewritten as ISO; separators before times removed."""
    match = CJK_DATE.search(value) or DOTTED_DATE.search(value)
    if match:
        if match.re is CJK_DATE:
            year, month, day, hour, minute = match.groups()
        else:
            day, month, year = match.groups()
            hour = minute = None
        iso = f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
        if hour is not None:
            return f"{iso}T{int(hour):02d}:{int(minute):02d}:00"
        rest = value[match.end() :]
        return f"{iso} {rest.strip()}".strip() if HAS_TIME.search(rest) else iso
    return TIME_SEPARATOR.sub(" ", value)


# dateutil fills a field the string leaves out (the day of "Jul 2012", the day and
# month of "2012") from its default, today unless told: a date that changed with the
# day of the run. Parsed with the first default, a result that shares its year, month
# or day is parsed again with the second: if that moves, the string did not give it.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))


def _fuzzy(value: str, dayfirst: bool = False) -> datetime | None:
    """A date and time read by dateutil, or None when ``value`` gives no full date."""
    if not re.search(r"\d{4}", value):
        return None
    with warnings.catch_warnings():  # unknown zone names ("EET") give a naive time
        warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)
        try:
            first, second = _DEFAULTS
            moment = _dateutil(value, first, dayfirst)
            if (
                moment.year == first.year
                or moment.month == first.month
                or moment.day == first.day
            ):
                again = _dateutil(value, second, dayfirst)
                if again.date() != moment.date():
                    return None
            return moment
        except (ValueError, OverflowError, TypeError):
            return None


def _dateutil(value: str, default: datetime, dayfirst: bool) -> datetime:
    return dateutil_parser.parse(
        value, default=default, tzinfos=TZ_NAMES, dayfirst=dayfirst
    )


# UTC-12 to UTC+14 in whole and half hours, and the three :45 zones; never UTC itself
REAL_OFFSETS = {
    *(m * 60 for m in range(-720, 841, 30) if m),
    *(m * 60 for m in (345, 525, 765)),
}


def day_first(lang_tag: str | None, tz_name: str | None = None) -> bool:
    """Whether a page writes 02/10/2020 for the 2nd of October: everywhere but in the
    United States, going by its language tag (``en-GB``, ``hi-IN``, ``de``) or, for a bare
    ``en``, by its source's time zone."""
    tag = (lang_tag or "").strip().replace("_", "-").lower()
    american = (tz_name or "").startswith("America/")
    if tag.endswith("-us") or american:
        return False
    if tag in {"", "en"}:
        return tz_name is not None
    return True


def localise(published: When, wall_times: list[When], instants: list[When]) -> When:
    """``published`` (an instant given in UTC) in the publisher's own offset, when the
    page shows one of its instants (``instants``, e.g. published and modified) as a
    local wall time: "February 24, 2020 | 9:25pm" beside 2020-02-25T02:25Z is UTC-5."""
    if not published.has_offset or published.moment.utcoffset() != timedelta(0):
        return published
    for wall in wall_times:
        if wall.moment is None or wall.moment.tzinfo is not None:
            continue
        for instant in instants:
            if not instant.has_offset:
                continue
            utc = instant.moment.astimezone(UTC).replace(tzinfo=None)
            seconds = (wall.moment - utc.replace(second=0)).total_seconds()
            offset = round(seconds / 900) * 900
            if abs(seconds - offset) < 60 and offset in REAL_OFFSETS:
                moment = published.moment.astimezone(
                    timezone(timedelta(seconds=offset))
                )
                return When(moment.date(), moment)
    return published


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def published(when: When, tz_name: str | None = None) -> tuple[str, str]:
    """``(date, date_local)`` for an Article, as the module docstring describes."""
    if when.moment is None:
        day = when.day.isoformat()
        return day, day
    zone = _zone(tz_name)
    moment = when.moment
    if moment.tzinfo is None:
        if zone is None:
            return moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M:%S")
        moment = moment.replace(tzinfo=zone)
    local = moment.astimezone(zone) if zone is not None else moment
    return moment.isoformat(), local.strftime("%Y-%m-%d %H:%M:%S")


def iso(when: When, tz_name: str | None = None) -> str:
    """One ISO 8601 value (with offset when known) for a date such as ``modified``."""
    return published(when, tz_name)[0]
