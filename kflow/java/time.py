"""Java's ``java.time`` for Kestra's date filters: ``DateTimeFormatter`` patterns, zones,
locales, ``ZonedDateTime`` parsing, printing and arithmetic.

Kestra's ``date``, ``dateAdd``, ``timestamp*`` filters and the ``now()`` function go through
``AbstractDate`` (``K:runners/pebble/AbstractDate.java``), which speaks
``java.time.format.DateTimeFormatter`` patterns (``yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX``), named
formats (``iso``, ``iso_sec``, ``sql``, ``rfc_1123_date_time``, ``full``…) and ``ZoneId``
strings. ``strftime`` cannot express those (``YYYY`` is a locale week-based year, ``S…S`` a
truncated fraction, ``XXX`` prints ``Z`` for a zero offset), so this module carries a small
translator: a Java pattern is compiled once into tokens that are then formatted or parsed
field by field.

Values are :class:`JavaDateTime`: an aware ``datetime`` plus the nano-of-second (Kestra
dates may carry 9 fraction digits, ``datetime`` only keeps 6) and the Java zone it is in.

kflow's default zone is **UTC** (Kestra uses the JVM default zone, which is UTC on Kestra's
images); pass ``timeZone`` for anything else. Supported locales: English (any region) plus
``fr``, ``de``, ``es``, ``it``, ``pt``, ``nl`` for month/day names; localized styles
(``full``, ``long``, ``medium``, ``short``) are English only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kflow.errors import ExpressionError
from kflow.java.exceptions import DateTimeParseError
from kflow.java.isotime import (
    Instant,
    invalid_date,
    iso_local_date,
    iso_local_time,
    iso_year,
    month_length,
    offset_id,
    parse_local_date,
)

DEFAULT_ZONE = "UTC"
"""kflow's default time zone when a filter gets no ``timeZone`` (Kestra: the JVM's zone)."""

_UTC = UTC
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_OUT_OF_RANGE = "date is out of the range kflow supports (years 1-9999)"

# ---------------------------------------------------------------------------------------------
# zones


@dataclass(frozen=True)
class Zone:
    """A Java ``ZoneId``: its id as Java prints it, a ``tzinfo``, and whether it is an offset.

    ``is_offset`` matters for ``iso_date_time``/``iso_zoned_date_time``, which print
    ``[id]`` after the offset only for region zones (``UTC`` is a region, ``Z`` is not).
    """

    id: str
    tz: tzinfo
    is_offset: bool = False


_OFFSET_RE = re.compile(r"([+-])(\d{1,2})(?::?(\d{2})(?::?(\d{2}))?)?\Z")


def _parse_offset(text: str) -> int | None:
    """``ZoneOffset.of``: ``+h``, ``+hh``, ``+hh:mm``, ``+hhmm``, ``+hh:mm:ss``, ``+hhmmss``."""
    m = _OFFSET_RE.match(text)
    if not m:
        return None
    sign, h, mi, s = m.groups()
    if len(h) == 1 and mi is not None:
        return None
    total = int(h) * 3600 + int(mi or 0) * 60 + int(s or 0)
    if int(h) > 18 or int(mi or 0) > 59 or int(s or 0) > 59 or total > 18 * 3600:
        return None
    return -total if sign == "-" else total


def _fixed(seconds: int) -> timezone:
    return _UTC if seconds == 0 else timezone(timedelta(seconds=seconds))


def offset_zone(seconds: int) -> Zone:
    """A ``ZoneOffset`` zone."""
    return Zone(offset_id(seconds), _fixed(seconds), is_offset=True)


# Region ids Java accepts without a slash (its tzdb has them); ZoneInfo also has others
# (EST, MST, HST…) that Java's ZoneId.of refuses.
_SLASHLESS = {
    "CET",
    "CST6CDT",
    "EET",
    "EST5EDT",
    "MET",
    "MST7MDT",
    "PST8PDT",
    "WET",
    "Cuba",
    "Egypt",
    "Eire",
    "GB",
    "GB-Eire",
    "Greenwich",
    "Hongkong",
    "Iceland",
    "Iran",
    "Israel",
    "Jamaica",
    "Japan",
    "Kwajalein",
    "Libya",
    "NZ",
    "NZ-CHAT",
    "Navajo",
    "PRC",
    "Poland",
    "Portugal",
    "ROC",
    "ROK",
    "Singapore",
    "Turkey",
    "UCT",
    "Universal",
    "W-SU",
    "Zulu",
}


@functools.lru_cache(maxsize=256)
def zone_of(name: str | None) -> Zone:
    """Java ``ZoneId.of(name)``; ``None`` gives kflow's default zone (UTC)."""
    if name is None:
        name = DEFAULT_ZONE
    if not isinstance(name, str):
        raise ExpressionError(
            f"class {type(name).__name__} cannot be cast to class java.lang.String (timeZone)"
        )
    if name == "Z" or name[:1] in "+-" and name:
        seconds = _parse_offset(name) if name != "Z" else 0
        if seconds is None:
            raise ExpressionError(f"Invalid ID for ZoneOffset, invalid format: {name}")
        return offset_zone(seconds)
    for prefix in ("UTC", "GMT", "UT"):
        if name == prefix:
            return Zone(prefix, _UTC)
        if name.startswith(prefix) and name[len(prefix)] in "+-":
            seconds = _parse_offset(name[len(prefix) :])
            if seconds is None:
                raise ExpressionError(f"Invalid ID for offset-based ZoneId: {name}")
            if seconds == 0:
                return Zone(prefix, _UTC)
            return Zone(prefix + offset_id(seconds), _fixed(seconds))
    if ("/" not in name and name not in _SLASHLESS) or ".." in name or name.startswith("/"):
        raise ExpressionError(f"Unknown time-zone ID: {name}")
    try:
        return Zone(name, ZoneInfo(name))
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ExpressionError(f"Unknown time-zone ID: {name}") from None


# ---------------------------------------------------------------------------------------------
# the value


@dataclass(frozen=True)
class JavaDateTime:
    """A Java ``ZonedDateTime``: aware ``dt`` (in ``zone``) plus the full nano-of-second."""

    dt: datetime
    nano: int
    zone: Zone

    @property
    def epoch_second(self) -> int:
        """``toEpochSecond()``."""
        return (self.dt.replace(microsecond=0) - _EPOCH) // timedelta(seconds=1)

    @property
    def offset_seconds(self) -> int:
        off = self.dt.utcoffset()
        return int(off.total_seconds()) if off is not None else 0

    def with_zone(self, zone: Zone) -> JavaDateTime:
        """The same instant seen in ``zone`` (what ``DateTimeFormatter.withZone`` does)."""
        try:
            return JavaDateTime(self.dt.astimezone(zone.tz), self.nano, zone)
        except OverflowError:
            raise ExpressionError(_OUT_OF_RANGE) from None


def resolve_local(local: datetime, zone: Zone, preferred_offset: int | None = None) -> datetime:
    """``ZonedDateTime.ofLocal``: a wall-clock time in ``zone``.

    In a DST gap the time moves forward by the gap length; in an overlap the earlier offset
    wins unless ``preferred_offset`` (the offset before a ``plus``) is one of the two.
    """
    naive = local.replace(tzinfo=None)
    if preferred_offset is not None:
        for fold in (0, 1):
            cand = naive.replace(tzinfo=zone.tz, fold=fold)
            off = cand.utcoffset()
            if off is not None and int(off.total_seconds()) == preferred_offset:
                back = cand.astimezone(_UTC).astimezone(zone.tz)
                if back.replace(tzinfo=None, fold=0) == naive:
                    return back
    try:
        return naive.replace(tzinfo=zone.tz).astimezone(_UTC).astimezone(zone.tz)
    except OverflowError:
        raise ExpressionError(_OUT_OF_RANGE) from None


def from_local(local: datetime, nano: int, zone: Zone) -> JavaDateTime:
    """A local date-time placed in ``zone`` (``LocalDateTime.atZone``)."""
    return JavaDateTime(resolve_local(local, zone), nano, zone)


def from_epoch_second(seconds: int, zone: Zone, nano: int = 0) -> JavaDateTime:
    """``Instant.ofEpochSecond(seconds).atZone(zone)``."""
    try:
        dt = (_EPOCH + timedelta(seconds=seconds, microseconds=nano // 1000)).astimezone(zone.tz)
    except OverflowError:
        raise ExpressionError(_OUT_OF_RANGE) from None
    return JavaDateTime(dt, nano, zone)


def now(zone: Zone) -> JavaDateTime:
    """The current instant in ``zone`` (microsecond precision)."""
    dt = datetime.now(_UTC).astimezone(zone.tz)
    return JavaDateTime(dt, dt.microsecond * 1000, zone)


# ---------------------------------------------------------------------------------------------
# locales

_EN_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_EN_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


@dataclass(frozen=True)
class _Names:
    months: tuple[str, ...]
    months_short: tuple[str, ...]
    months_standalone_short: tuple[str, ...]
    days: tuple[str, ...]  # Monday first
    days_short: tuple[str, ...]
    ampm: tuple[str, str]
    era: str  # AD, short form


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


# Names as Java 17 (CLDR) prints them; read from the oracle (Pebble 3.2.2 + Kestra 58c1ca2).
_NAMES: dict[str, _Names] = {
    "en": _Names(
        tuple(_EN_MONTHS),
        tuple(m[:3] for m in _EN_MONTHS),
        tuple(m[:3] for m in _EN_MONTHS),
        tuple(_EN_DAYS),
        tuple(d[:3] for d in _EN_DAYS),
        ("AM", "PM"),
        "AD",
    ),
    "en_GB": _Names(
        tuple(_EN_MONTHS),
        tuple("Sept" if m == "September" else m[:3] for m in _EN_MONTHS),
        tuple("Sept" if m == "September" else m[:3] for m in _EN_MONTHS),
        tuple(_EN_DAYS),
        tuple(d[:3] for d in _EN_DAYS),
        ("am", "pm"),
        "AD",
    ),
    "fr": _Names(
        _split(
            "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
        ),
        _split("janv.|févr.|mars|avr.|mai|juin|juil.|août|sept.|oct.|nov.|déc."),
        _split("janv.|févr.|mars|avr.|mai|juin|juil.|août|sept.|oct.|nov.|déc."),
        _split("lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"),
        _split("lun.|mar.|mer.|jeu.|ven.|sam.|dim."),
        ("AM", "PM"),
        "ap. J.-C.",
    ),
    "de": _Names(
        _split(
            "Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
        ),
        _split("Jan.|Feb.|März|Apr.|Mai|Juni|Juli|Aug.|Sept.|Okt.|Nov.|Dez."),
        _split("Jan|Feb|Mär|Apr|Mai|Jun|Jul|Aug|Sep|Okt|Nov|Dez"),
        _split("Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag"),
        _split("Mo.|Di.|Mi.|Do.|Fr.|Sa.|So."),
        ("AM", "PM"),
        "n. Chr.",
    ),
    "es": _Names(
        _split(
            "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|"
            "noviembre|diciembre"
        ),
        _split("ene|feb|mar|abr|may|jun|jul|ago|sept|oct|nov|dic"),
        _split("ene|feb|mar|abr|may|jun|jul|ago|sept|oct|nov|dic"),
        _split("lunes|martes|miércoles|jueves|viernes|sábado|domingo"),
        _split("lun|mar|mié|jue|vie|sáb|dom"),
        ("a.\u00a0m.", "p.\u00a0m."),
        "anno Dómini",
    ),
    "it": _Names(
        _split(
            "gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|"
            "novembre|dicembre"
        ),
        _split("gen|feb|mar|apr|mag|giu|lug|ago|set|ott|nov|dic"),
        _split("gen|feb|mar|apr|mag|giu|lug|ago|set|ott|nov|dic"),
        _split("lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica"),
        _split("lun|mar|mer|gio|ven|sab|dom"),
        ("AM", "PM"),
        "dopo Cristo",
    ),
    "pt": _Names(
        _split(
            "janeiro|fevereiro|março|abril|maio|junho|julho|agosto|setembro|outubro|"
            "novembro|dezembro"
        ),
        _split("jan.|fev.|mar.|abr.|mai.|jun.|jul.|ago.|set.|out.|nov.|dez."),
        _split("jan.|fev.|mar.|abr.|mai.|jun.|jul.|ago.|set.|out.|nov.|dez."),
        _split("segunda-feira|terça-feira|quarta-feira|quinta-feira|sexta-feira|sábado|domingo"),
        _split("seg.|ter.|qua.|qui.|sex.|sáb.|dom."),
        ("AM", "PM"),
        "d.C.",
    ),
    "nl": _Names(
        _split(
            "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|"
            "november|december"
        ),
        _split("jan.|feb.|mrt.|apr.|mei|jun.|jul.|aug.|sep.|okt.|nov.|dec."),
        _split("jan.|feb.|mrt.|apr.|mei|jun.|jul.|aug.|sep.|okt.|nov.|dec."),
        _split("maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag"),
        _split("ma|di|wo|do|vr|za|zo"),
        ("a.m.", "p.m."),
        "n. Chr.",
    ),
}

# Regions whose weeks start on Sunday with week 1 holding 1 January (CLDR); a locale without
# a region gets these rules too (Java 17: Locale("fr") formats `e` with Sunday = 1).
_SUNDAY_REGIONS = {
    "",
    "US",
    "CA",
    "MX",
    "BR",
    "JP",
    "KR",
    "CN",
    "TW",
    "HK",
    "IN",
    "IL",
    "ZA",
    "PH",
    "AU",
    "SA",
    "AR",
    "CO",
    "PE",
    "VE",
    "GT",
    "PA",
    "DO",
    "PR",
    "SG",
    "TH",
    "ID",
}
_ISO_WEEK_REGIONS = {
    "AD",
    "AN",
    "AT",
    "AX",
    "BE",
    "BG",
    "CH",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FJ",
    "FO",
    "FR",
    "GB",
    "GF",
    "GG",
    "GI",
    "GP",
    "GR",
    "HU",
    "IE",
    "IM",
    "IS",
    "IT",
    "JE",
    "LI",
    "LT",
    "LU",
    "MC",
    "MQ",
    "NL",
    "NO",
    "PL",
    "PT",
    "RE",
    "RU",
    "SE",
    "SJ",
    "SK",
    "SM",
    "VA",
}


@dataclass(frozen=True)
class Locale:
    """A Java ``Locale`` reduced to what dates need: names and week rules."""

    language: str
    region: str

    @property
    def names(self) -> _Names:
        names = _NAMES.get(f"{self.language}_{self.region}") or _NAMES.get(self.language)
        if self.language == "en" and self.region not in ("", "US", "GB"):
            names = None  # every English region has its own abbreviations in CLDR
        if names is None:
            raise ExpressionError(
                f"kflow has no month/day names for locale '{self.tag}'"
                " (supported: en, en_US, en_GB, fr, de, es, it, pt, nl)"
            )
        return names

    @property
    def tag(self) -> str:
        return f"{self.language}_{self.region}" if self.region else self.language

    @property
    def week_rules(self) -> tuple[int, int]:
        """(first day of week as ISO number, minimal days in the first week)."""
        if self.region in _ISO_WEEK_REGIONS:
            return 1, 4
        if self.region in _SUNDAY_REGIONS:
            return 7, 1
        return 1, 1


ENGLISH = Locale("en", "")


@functools.lru_cache(maxsize=64)
def locale_of(text: str | None) -> Locale:
    """Commons-lang ``LocaleUtils.toLocale``: ``fr``, ``fr_FR``, ``en-US``."""
    if text is None:
        return ENGLISH
    if not isinstance(text, str):
        raise ExpressionError(f"Invalid locale format: {text}")
    parts = re.split(r"[_-]", text)
    lang = parts[0].lower()
    region = parts[1].upper() if len(parts) > 1 else ""
    if text and not re.fullmatch(r"[A-Za-z]{2,8}([_-][A-Za-z0-9]{2,8})*", text):
        raise ExpressionError(f"Invalid locale format: {text}")
    return Locale(lang, region)


# ---------------------------------------------------------------------------------------------
# zone names (pattern letters z and zzzz)

_LONG_ZONE_NAMES = {
    "UTC": "Coordinated Universal Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "CET": "Central European Standard Time",
    "CEST": "Central European Summer Time",
    "EET": "Eastern European Standard Time",
    "EEST": "Eastern European Summer Time",
    "WET": "Western European Standard Time",
    "WEST": "Western European Summer Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "AKST": "Alaska Standard Time",
    "AKDT": "Alaska Daylight Time",
    "HST": "Hawaii-Aleutian Standard Time",
    "IST": "India Standard Time",
    "JST": "Japan Standard Time",
    "KST": "Korea Standard Time",
    "AEST": "Australian Eastern Standard Time",
    "AEDT": "Australian Eastern Daylight Time",
    "ACST": "Australian Central Standard Time",
    "ACDT": "Australian Central Daylight Time",
    "AWST": "Australian Western Standard Time",
    "NZST": "New Zealand Standard Time",
    "NZDT": "New Zealand Daylight Time",
    "MSK": "Moscow Standard Time",
    "SAST": "South Africa Standard Time",
    "HKT": "Hong Kong Standard Time",
}
_ZONE_NAME_OVERRIDES = {
    # zone id → (short, long) where tzdata's abbreviation is not Java's
    "Asia/Shanghai": ("CST", "China Standard Time"),
    "Asia/Taipei": ("CST", "Taipei Standard Time"),
    "America/Sao_Paulo": ("BRT", "Brasilia Standard Time"),
    "Europe/Dublin:IST": ("IST", "Irish Standard Time"),
}
# abbreviation → a region zone, to parse `z`
_ZONE_BY_ABBR = {
    "UTC": "UTC",
    "GMT": "GMT",
    "CET": "Europe/Paris",
    "CEST": "Europe/Paris",
    "EET": "Europe/Bucharest",
    "EEST": "Europe/Bucharest",
    "WET": "Europe/Lisbon",
    "WEST": "Europe/Lisbon",
    "BST": "Europe/London",
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "MST": "America/Denver",
    "MDT": "America/Denver",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "JST": "Asia/Tokyo",
    "IST": "Asia/Kolkata",
    "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney",
}


def _zone_names(d: JavaDateTime) -> tuple[str, str]:
    """(short, long) display names of the zone at that instant, as Java 17 prints them."""
    zone = d.zone
    if zone.is_offset or zone.id.startswith(("UTC+", "UTC-", "GMT+", "GMT-", "UT+", "UT-")):
        return zone.id, zone.id
    if zone.id in ("UTC", "UCT", "Universal", "Zulu", "Etc/UTC", "Etc/UCT", "UT"):
        return "UTC", "Coordinated Universal Time"
    if zone.id in ("GMT", "Greenwich", "Etc/GMT"):
        return "GMT", "Greenwich Mean Time"
    abbr = d.dt.tzname() or zone.id
    over = _ZONE_NAME_OVERRIDES.get(f"{zone.id}:{abbr}") or _ZONE_NAME_OVERRIDES.get(zone.id)
    if over:
        return over
    if abbr[:1] in "+-":
        return _localized_offset(d.offset_seconds, True), _localized_offset(d.offset_seconds, True)
    return abbr, _LONG_ZONE_NAMES.get(abbr, zone.id)


# ---------------------------------------------------------------------------------------------
# patterns


@dataclass(frozen=True)
class _Tok:
    kind: str  # "lit", "field", "opt", "end", "pad"
    text: str = ""
    letter: str = ""
    count: int = 0


_MAX_COUNT = {
    "G": 5,
    "u": 19,
    "y": 19,
    "Y": 19,
    "Q": 5,
    "q": 5,
    "M": 5,
    "L": 5,
    "w": 2,
    "W": 1,
    "d": 2,
    "D": 3,
    "F": 1,
    "g": 19,
    "E": 5,
    "e": 5,
    "c": 5,
    "a": 1,
    "h": 2,
    "K": 2,
    "k": 2,
    "H": 2,
    "m": 2,
    "s": 2,
    "S": 9,
    "A": 19,
    "n": 19,
    "N": 19,
    "V": 2,
    "z": 4,
    "O": 4,
    "X": 5,
    "x": 5,
    "Z": 5,
    "v": 4,
    "B": 5,
}


def _pattern_error(msg: str) -> ExpressionError:
    return ExpressionError(msg)


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> tuple[_Tok, ...]:
    """Tokenise a ``DateTimeFormatter.ofPattern`` pattern, with Java's validation errors."""
    toks: list[_Tok] = []
    i, n, depth = 0, len(pattern), 0
    while i < n:
        c = pattern[i]
        if "A" <= c <= "Z" or "a" <= c <= "z":
            j = i
            while j < n and pattern[j] == c:
                j += 1
            count = j - i
            if c == "p":
                toks.append(_Tok("pad", count=count))
                i = j
                continue
            if c not in _MAX_COUNT:
                raise _pattern_error(f"Unknown pattern letter: {c}")
            if count > _MAX_COUNT[c]:
                raise _pattern_error(f"Too many pattern letters: {c}")
            if c == "V" and count != 2:
                raise _pattern_error("Pattern letter count must be 2: V")
            if c == "O" and count not in (1, 4):
                raise _pattern_error("Pattern letter count must be 1 or 4: O")
            if c == "v" and count not in (1, 4):
                raise _pattern_error("Wrong number of pattern letters: v")
            if c == "c" and count == 2:
                raise _pattern_error('Invalid pattern "cc"')
            if c == "B" and count not in (1, 4, 5):
                raise _pattern_error(f"Wrong number of pattern letters: {c}")
            toks.append(_Tok("field", letter=c, count=count))
            i = j
        elif c == "'":
            j = i + 1
            buf = []
            while True:
                if j >= n:
                    raise _pattern_error(
                        f"Pattern ends with an incomplete string literal: {pattern}"
                    )
                if pattern[j] == "'":
                    if j + 1 < n and pattern[j + 1] == "'":
                        buf.append("'")
                        j += 2
                        continue
                    break
                buf.append(pattern[j])
                j += 1
            toks.append(_Tok("lit", text="".join(buf) if j > i + 1 else "'"))
            i = j + 1
        elif c == "[":
            depth += 1
            toks.append(_Tok("opt"))
            i += 1
        elif c == "]":
            if depth == 0:
                raise _pattern_error("Pattern invalid as it contains ] without previous [")
            depth -= 1
            toks.append(_Tok("end"))
            i += 1
        elif c in "{}#":
            raise _pattern_error(f"Pattern includes reserved character: '{c}'")
        else:
            toks.append(_Tok("lit", text=c))
            i += 1
    return tuple(toks)


# Java 17 CLDR English localized styles (DateTimeFormatter.ofLocalizedDateTime).
_STYLES = {
    "full": "EEEE, MMMM d, y 'at' h:mm:ss a zzzz",
    "long": "MMMM d, y 'at' h:mm:ss a z",
    "medium": "MMM d, y, h:mm:ss a",
    "short": "M/d/yy, h:mm a",
}

_NAMED_PATTERNS = {
    "iso": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "iso_sec": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "sql": "yyyy-MM-dd HH:mm:ss.SSSSSS",
    "sql_seq": "yyyy-MM-dd HH:mm:ss",
}

_ISO_CONSTANTS = {
    "iso_date_time",
    "iso_date",
    "iso_time",
    "iso_local_date",
    "iso_instant",
    "iso_local_date_time",
    "iso_local_time",
    "iso_offset_time",
    "iso_ordinal_date",
    "iso_week_date",
    "iso_zoned_date_time",
    "rfc_1123_date_time",
}


# ---------------------------------------------------------------------------------------------
# calendar helpers


def _week_start(year: int, first_dow: int, min_days: int) -> date:
    """First day of week 1 of ``year`` under (first day of week, minimal days) rules."""
    jan1 = date(year, 1, 1)
    back = (jan1.isoweekday() - first_dow) % 7
    start = jan1 - timedelta(days=back)
    if 7 - back < min_days:
        start += timedelta(days=7)
    return start


def week_based(d: date, first_dow: int, min_days: int) -> tuple[int, int]:
    """(week-based year, week of week-based year) for a locale's week rules."""
    year = d.year
    if year < 9999 and d >= _week_start(year + 1, first_dow, min_days):
        year += 1
    elif year > 1 and d < _week_start(year, first_dow, min_days):
        year -= 1
    return year, (d - _week_start(year, first_dow, min_days)).days // 7 + 1


def _localized_dow(d: date, first_dow: int) -> int:
    return (d.isoweekday() - first_dow) % 7 + 1


def _week_of_month(d: date, first_dow: int, min_days: int) -> int:
    """``WeekFields.weekOfMonth()`` (may be 0 when min_days > 1)."""
    dow = _localized_dow(d, first_dow)
    week_start = (d.day - dow) % 7
    offset = -week_start
    if week_start + 1 > min_days:
        offset = 7 - week_start
    return (7 + offset + (d.day - 1)) // 7


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


# ---------------------------------------------------------------------------------------------
# formatting


def _offset_text(seconds: int, letter: str, count: int) -> str:
    """Pattern letters X, x, Z (count 1-5)."""
    if letter == "Z":
        if count == 4:
            return _localized_offset(seconds, full=True)
        if count == 5:
            return offset_id(seconds)  # "Z", else +HH:MM[:ss]
        return _offset_pattern(seconds, "+HHMM")
    if letter == "X" and seconds == 0:
        return "Z"
    pattern = {1: "+HHmm", 2: "+HHMM", 3: "+HH:MM", 4: "+HHMMss", 5: "+HH:MM:ss"}[count]
    return _offset_pattern(seconds, pattern)


def _offset_pattern(seconds: int, pattern: str) -> str:
    """``DateTimeFormatterBuilder.appendOffset`` with one of Java's patterns."""
    sign = "-" if seconds < 0 else "+"
    s = abs(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    colon = ":" if ":" in pattern else ""
    out = f"{sign}{h:02d}"
    if pattern == "+HHmm":
        return out + (f"{m:02d}" if m or sec else "")
    out += f"{colon}{m:02d}"
    if pattern.endswith("ss") and sec:
        out += f"{colon}{sec:02d}"
    return out


def _localized_offset(seconds: int, full: bool) -> str:
    """Pattern letter O (``GMT+2``) / OOOO (``GMT+02:00``); ``GMT`` for zero."""
    if seconds == 0:
        return "GMT"
    if full:
        return "GMT" + offset_id(seconds)
    sign = "-" if seconds < 0 else "+"
    h, rem = divmod(abs(seconds), 3600)
    m, sec = divmod(rem, 60)
    out = f"GMT{sign}{h}"
    if m or sec:
        out += f":{m:02d}"
    if sec:
        out += f":{sec:02d}"
    return out


def _year_text(value: int, count: int) -> str:
    if count == 2:
        return f"{value % 100:02d}"
    text = str(abs(value)).zfill(count)
    if count >= 4 and value > 9999:
        return "+" + text
    return ("-" if value < 0 else "") + text


def _field_text(d: JavaDateTime, letter: str, count: int, locale: Locale) -> str:
    dt = d.dt
    day = dt.date()
    if letter in "uy":
        return _year_text(dt.year, count)
    if letter == "G":
        if count == 4:
            return "Anno Domini" if locale.language == "en" else locale.names.era
        if count == 5:
            return "A" if locale.language == "en" else locale.names.era[:1]
        return locale.names.era
    if letter in "ML":
        if count <= 2:
            return str(dt.month).zfill(count)
        names = locale.names
        if count == 3:
            return (names.months_standalone_short if letter == "L" else names.months_short)[
                dt.month - 1
            ]
        if count == 4:
            return names.months[dt.month - 1]
        return names.months[dt.month - 1][:1].upper()
    if letter in "Qq":
        quarter = (dt.month - 1) // 3 + 1
        if count <= 2:
            return str(quarter).zfill(count)
        if locale.language != "en":
            raise ExpressionError("kflow prints quarter names in English only")
        return {3: f"Q{quarter}", 4: f"{_ordinal(quarter)} quarter", 5: str(quarter)}[count]
    if letter == "d":
        return str(dt.day).zfill(count)
    if letter == "D":
        return str(day.timetuple().tm_yday).zfill(count)
    if letter == "F":
        return str((dt.day - 1) % 7 + 1)
    if letter == "g":
        return str((day - date(1858, 11, 17)).days).zfill(count)
    if letter in "Eec":
        if letter != "E" and count <= 2:
            return str(_localized_dow(day, locale.week_rules[0])).zfill(count)
        names = locale.names
        wd = dt.weekday()
        if count <= 3:
            return names.days_short[wd]
        if count == 4:
            return names.days[wd]
        return names.days[wd][:1].upper()
    if letter in "YwW":
        first, minimal = locale.week_rules
        if letter == "W":
            return str(_week_of_month(day, first, minimal))
        wyear, week = week_based(day, first, minimal)
        return _year_text(wyear, count) if letter == "Y" else str(week).zfill(count)
    if letter == "a":
        return locale.names.ampm[0 if dt.hour < 12 else 1]
    if letter == "h":
        return str((dt.hour % 12) or 12).zfill(count)
    if letter == "K":
        return str(dt.hour % 12).zfill(count)
    if letter == "k":
        return str(dt.hour or 24).zfill(count)
    if letter == "H":
        return str(dt.hour).zfill(count)
    if letter == "m":
        return str(dt.minute).zfill(count)
    if letter == "s":
        return str(dt.second).zfill(count)
    if letter == "S":
        return f"{d.nano:09d}"[:count]
    if letter in "AN":
        nano_of_day = ((dt.hour * 60 + dt.minute) * 60 + dt.second) * 10**9 + d.nano
        value = nano_of_day // 10**6 if letter == "A" else nano_of_day
        return str(value).zfill(count)
    if letter == "n":
        return str(d.nano).zfill(count)
    if letter == "V":
        return d.zone.id
    if letter == "z":
        short, long = _zone_names(d)
        return long if count == 4 else short
    if letter == "O":
        return _localized_offset(d.offset_seconds, full=count == 4)
    if letter in "XxZ":
        return _offset_text(d.offset_seconds, letter, count)
    raise ExpressionError(f"kflow does not support the date pattern letter '{letter}'")


def format_pattern(d: JavaDateTime, pattern: str, locale: Locale = ENGLISH) -> str:
    """Format with a Java pattern (``DateTimeFormatter.ofPattern(pattern).format(d)``)."""
    out: list[str] = []
    pad = 0
    for tok in compile_pattern(pattern):
        if tok.kind == "pad":
            pad = tok.count
            continue
        if tok.kind in ("opt", "end"):
            continue  # every field of a ZonedDateTime is available: optional parts print
        text = tok.text if tok.kind == "lit" else _field_text(d, tok.letter, tok.count, locale)
        if pad:
            if len(text) > pad:
                raise ExpressionError(
                    f"Cannot print as output of {len(text)} characters exceeds pad width of {pad}"
                )
            text = text.rjust(pad)
            pad = 0
        out.append(text)
    return "".join(out)


def _iso_local_time(d: JavaDateTime) -> str:
    dt = d.dt
    return iso_local_time(dt.hour, dt.minute, dt.second, d.nano)


def _iso_local_date(d: JavaDateTime) -> str:
    return iso_local_date(d.dt.year, d.dt.month, d.dt.day)


def _iso_offset(d: JavaDateTime) -> str:
    return offset_id(d.offset_seconds)


def _iso_constant(d: JavaDateTime, name: str) -> str:
    region = "" if d.zone.is_offset else f"[{d.zone.id}]"
    if name == "iso_local_date":
        return _iso_local_date(d)
    if name == "iso_local_time":
        return _iso_local_time(d)
    if name == "iso_local_date_time":
        return f"{_iso_local_date(d)}T{_iso_local_time(d)}"
    if name in ("iso_date_time", "iso_zoned_date_time"):
        return f"{_iso_local_date(d)}T{_iso_local_time(d)}{_iso_offset(d)}{region}"
    if name == "iso_date":
        return _iso_local_date(d) + _iso_offset(d)
    if name in ("iso_time", "iso_offset_time"):
        return _iso_local_time(d) + _iso_offset(d)
    if name == "iso_ordinal_date":
        return f"{iso_year(d.dt.year)}-{d.dt.timetuple().tm_yday:03d}{_iso_offset(d)}"
    if name == "iso_week_date":
        year, week, dow = d.dt.date().isocalendar()
        return f"{iso_year(year)}-W{week:02d}-{dow}{_iso_offset(d)}"
    if name == "iso_instant":
        d.with_zone(zone_of("UTC"))  # the UTC date must be in kflow's range too
        return str(Instant(d.epoch_second * 10**9 + d.nano))
    if name == "rfc_1123_date_time":
        dt = d.dt
        off = d.offset_seconds
        zone = "GMT" if off == 0 else _offset_pattern(off, "+HHMM")
        return (
            f"{_EN_DAYS[dt.weekday()][:3]}, {dt.day} {_EN_MONTHS[dt.month - 1][:3]} "
            f"{dt.year:04d} {dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} {zone}"
        )
    raise ExpressionError(f"Unknown date format {name}")  # pragma: no cover


def format_date(d: JavaDateTime, fmt: str = "iso", locale: Locale = ENGLISH) -> str:
    """Format like ``AbstractDate.formatter(fmt)``: named format, style, else a pattern."""
    if not isinstance(fmt, str):
        raise ExpressionError(f"class {type(fmt).__name__} cannot be cast to java.lang.String")
    if fmt in _STYLES:
        if locale.language != "en" or locale.region not in ("", "US"):
            raise ExpressionError(
                f"kflow formats the localized style '{fmt}' in US English only"
                f" (locale '{locale.tag}')"
            )
        return format_pattern(d, _STYLES[fmt], locale)
    if fmt in _NAMED_PATTERNS:
        return format_pattern(d, _NAMED_PATTERNS[fmt], locale)
    if fmt in _ISO_CONSTANTS:
        return _iso_constant(d, fmt)
    return format_pattern(d, fmt, locale)


# ---------------------------------------------------------------------------------------------
# parsing


class _ParseFail(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class _Parsed:
    """Fields found by a parser, before resolution (like ``java.time.format.Parsed``)."""

    year: int | None = None
    year_of_era: int | None = None
    month: int | None = None
    day: int | None = None
    day_of_year: int | None = None
    day_of_week: int | None = None  # ISO 1..7
    week_year: int | None = None
    week: int | None = None
    hour: int | None = None
    hour_ampm: int | None = None  # h: 1..12
    hour_k: int | None = None  # K: 0..11
    ampm: int | None = None
    minute: int | None = None
    second: int | None = None
    nano: int | None = None
    offset: int | None = None
    zone: Zone | None = None
    iso_week: bool = False


_ISO_RE = re.compile(
    r"(?P<year>[+-]?\d{4,10})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[Tt](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<frac>\d{0,9}))?)?)?"
    r"(?P<offset>[Zz]|[+-]\d{2}(?::\d{2}(?::\d{2})?)?)?"
    r"(?:\[(?P<zone>[^\]]+)\])?\Z"
)


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise _ParseFail(f"Invalid value for {name} (valid values {low} - {high}): {value}")


def _parse_iso(text: str, kind: str) -> _Parsed:
    """The ISO ``DateTimeFormatter`` constants (strict resolver).

    ``kind``: ``zoned`` (offset required, [zone] optional), ``local_date_time``,
    ``date_time`` (offset and zone optional), ``local_date``, ``date``.
    """
    m = _ISO_RE.match(text)
    if not m:
        raise _ParseFail("")
    g = m.groupdict()
    has_time = g["hour"] is not None
    if kind in ("zoned", "local_date_time", "date_time") and not has_time:
        raise _ParseFail("")
    if kind in ("local_date", "date") and has_time:
        raise _ParseFail("")
    if kind in ("local_date_time", "local_date") and (g["offset"] or g["zone"]):
        raise _ParseFail("")
    if kind == "date" and g["zone"]:
        raise _ParseFail("")
    if kind == "zoned" and not g["offset"]:
        raise _ParseFail("")
    if g["zone"] and not g["offset"]:
        raise _ParseFail("")
    year_text = g["year"]
    if (len(year_text.lstrip("+-")) > 4) != (year_text[:1] in "+-"):
        raise _ParseFail("")
    month, day = int(g["month"]), int(g["day"])
    _check_range("MonthOfYear", month, 1, 12)
    _check_range("DayOfMonth", day, 1, 31)
    p = _Parsed(year=int(year_text), month=month, day=day)
    if has_time:
        p.hour, p.minute = int(g["hour"]), int(g["minute"])
        p.second = int(g["second"] or 0)
        p.nano = int((g["frac"] or "").ljust(9, "0") or 0)
        _check_range("HourOfDay", p.hour, 0, 23)
        _check_range("MinuteOfHour", p.minute, 0, 59)
        _check_range("SecondOfMinute", p.second, 0, 59)
    if g["offset"]:
        off = 0 if g["offset"] in "Zz" else _parse_offset(g["offset"])
        if off is None:
            raise _ParseFail("")
        p.offset = off
    if g["zone"]:
        try:
            p.zone = zone_of(g["zone"])
        except ExpressionError as e:
            raise _ParseFail(e.message) from None
    return p


_RFC_RE = re.compile(
    r"(?:(?P<dow>Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(?P<day>\d{1,2}) (?P<mon>[A-Z][a-z]{2}) "
    r"(?P<year>\d{4}) (?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))? "
    r"(?P<off>GMT|[+-]\d{4})\Z"
)


def _parse_rfc(text: str) -> _Parsed:
    m = _RFC_RE.match(text)
    if not m:
        raise _ParseFail("")
    g = m.groupdict()
    months = [x[:3] for x in _EN_MONTHS]
    if g["mon"] not in months:
        raise _ParseFail("")
    off = 0 if g["off"] == "GMT" else _parse_offset(g["off"])
    p = _Parsed(
        year=int(g["year"]),
        month=months.index(g["mon"]) + 1,
        day=int(g["day"]),
        hour=int(g["hour"]),
        minute=int(g["minute"]),
        second=int(g["second"] or 0),
        nano=0,
        offset=off,
    )
    if g["dow"]:
        p.day_of_week = [x[:3] for x in _EN_DAYS].index(g["dow"]) + 1
    return p


def _text_alternatives(names: tuple[str, ...]) -> str:
    return "|".join(re.escape(x) for x in sorted(set(names), key=len, reverse=True))


@functools.lru_cache(maxsize=256)
def _pattern_regex(pattern: str, locale: Locale) -> tuple[re.Pattern[str], list[tuple[str, int]]]:
    """A regex for parsing with a Java pattern, and the (letter, count) of each group."""
    parts: list[str] = []
    fields: list[tuple[str, int]] = []
    toks = compile_pattern(pattern)
    for idx, tok in enumerate(toks):
        if tok.kind == "lit":
            parts.append(re.escape(tok.text))
            continue
        if tok.kind == "opt":
            parts.append("(?:")
            continue
        if tok.kind == "end":
            parts.append(")?")
            continue
        if tok.kind == "pad":
            parts.append(" *")
            continue
        c, n = tok.letter, tok.count
        nxt = toks[idx + 1] if idx + 1 < len(toks) else None
        adjacent = nxt is not None and nxt.kind == "field" and nxt.letter in "uyYMLdDHhKkmsSnAN"
        if c in "uyY":
            rx = r"\d{2}" if n == 2 else (r"[+-]?\d{4,19}" if n >= 4 else rf"[+-]?\d{{{n},19}}")
            if adjacent and n != 2:
                rx = rf"\d{{{max(n, 4)}}}"
        elif c in "MLQq" and n >= 3:
            if c in "Qq":
                rx = r"Q[1-4]" if n == 3 else r"[1-4](?:st|nd|rd|th) quarter"
            else:
                names = locale.names
                alts = {
                    3: names.months_standalone_short if c == "L" else names.months_short,
                    4: names.months,
                }.get(n, tuple(x[:1] for x in names.months))
                rx = _text_alternatives(alts)
        elif c in "Eec" and (c == "E" or n >= 3):
            names = locale.names
            alts = {4: names.days}.get(
                n, names.days_short if n <= 3 else tuple(x[:1] for x in names.days)
            )
            rx = _text_alternatives(alts)
        elif c == "a":
            rx = _text_alternatives(locale.names.ampm)
        elif c == "G":
            rx = _text_alternatives((locale.names.era, "Anno Domini", "AD", "A"))
        elif c == "S":
            rx = rf"\d{{{n}}}"
        elif c in "dHhKkmsMLwQqec" or c in "Dg":
            rx = rf"\d{{{n}}}" if n >= 2 or adjacent else r"\d{1,19}"
            if c == "D" and n == 1 and not adjacent:
                rx = r"\d{1,3}"
        elif c in "WF":
            rx = r"\d"
        elif c in "AnN":
            rx = rf"\d{{{n},19}}"
        elif c == "V":
            rx = r"[A-Za-z][A-Za-z0-9~/._+-]+"
        elif c == "z":
            rx = r"[A-Za-z][A-Za-z0-9~/._+-]*"
        elif c == "O":
            rx = r"GMT(?:[+-]\d{1,2}(?::\d{2}(?::\d{2})?)?)?"
        elif c in "XxZ":
            rx = r"Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?|GMT(?:[+-]\d{2}:\d{2})?"
        else:
            raise ExpressionError(f"kflow cannot parse dates with the pattern letter '{c}'")
        parts.append(f"({rx})")
        fields.append((c, n))
    return re.compile("".join(parts) + r"\Z"), fields


def _parse_pattern(text: str, pattern: str, locale: Locale) -> _Parsed:
    rx, fields = _pattern_regex(pattern, locale)
    m = rx.match(text)
    if not m:
        raise _ParseFail("")
    p = _Parsed()
    for (c, n), value in zip(fields, m.groups(), strict=True):
        if value is None:
            continue
        if c in "uy":
            year = int(value)
            if n == 2:
                year = 2000 + year
            if c == "u":
                p.year = year
            else:
                p.year_of_era = year
        elif c == "Y":
            p.week_year = 2000 + int(value) if n == 2 else int(value)
        elif c in "ML":
            if n <= 2:
                p.month = int(value)
            else:
                names = locale.names
                table = {
                    3: names.months_standalone_short if c == "L" else names.months_short,
                    4: names.months,
                }.get(n, tuple(x[:1] for x in names.months))
                p.month = table.index(value) + 1
        elif c == "d":
            p.day = int(value)
        elif c == "D":
            p.day_of_year = int(value)
        elif c == "w":
            p.week = int(value)
        elif c in "Eec":
            if c != "E" and n <= 2:
                p.day_of_week = (int(value) - 1 + locale.week_rules[0] - 1) % 7 + 1
            else:
                names = locale.names
                table = {4: names.days}.get(n, names.days_short)
                p.day_of_week = table.index(value) + 1
        elif c == "a":
            p.ampm = locale.names.ampm.index(value)
        elif c == "H":
            p.hour = int(value)
        elif c == "k":
            p.hour = int(value) % 24
        elif c == "h":
            p.hour_ampm = int(value)
        elif c == "K":
            p.hour_k = int(value)
        elif c == "m":
            p.minute = int(value)
        elif c == "s":
            p.second = int(value)
        elif c == "S":
            p.nano = int(value.ljust(9, "0"))
        elif c == "n":
            p.nano = int(value)
        elif c == "V":
            try:
                p.zone = zone_of(value)
            except ExpressionError as e:
                raise _ParseFail(e.message) from None
        elif c == "z":
            zone_id = _ZONE_BY_ABBR.get(value, value)
            try:
                p.zone = zone_of(zone_id)
            except ExpressionError as e:
                raise _ParseFail(e.message) from None
        elif c in "OXxZ":
            if value in ("Z", "GMT"):
                p.offset = 0
            else:
                off = _parse_offset(value.removeprefix("GMT"))
                if off is None:
                    raise _ParseFail("")
                p.offset = off
    return p


def _resolve_date(p: _Parsed, smart: bool) -> date | None:
    year = p.year if p.year is not None else p.year_of_era
    if year is not None and not 1 <= year <= 9999:
        raise _ParseFail(f"year {year} is out of the range kflow supports (1-9999)")
    if year is not None and p.month is not None and p.day is not None:
        _check_range("MonthOfYear", p.month, 1, 12)
        _check_range("DayOfMonth", p.day, 1, 31)
        invalid = invalid_date(year, p.month, p.day)
        if invalid is None:
            result = date(year, p.month, p.day)
        elif smart:  # SMART resolver: clamp to the end of the month (Feb 30 → Feb 28/29)
            result = date(year, p.month, month_length(year, p.month))
        else:
            raise _ParseFail(invalid)
    elif year is not None and p.day_of_year is not None:
        result = date(year, 1, 1) + timedelta(days=p.day_of_year - 1)
    elif p.iso_week and p.week_year is not None and p.week is not None and p.day_of_week:
        result = date.fromisocalendar(p.week_year, p.week, p.day_of_week)
    else:
        return None
    if p.day_of_week is not None and result.isoweekday() != p.day_of_week:
        raise _ParseFail(
            f"Conflict found: Field DayOfWeek {result.isoweekday()} differs from "
            f"DayOfWeek {p.day_of_week} derived from {result.isoformat()}"
        )
    return result


def _resolve_time(p: _Parsed) -> tuple[int, int, int, int, int] | None:
    """(hour, minute, second, nano, extra days) or None when no time can be built."""
    hour = p.hour
    if hour is None and p.ampm is not None:
        if p.hour_ampm is not None:
            hour = p.hour_ampm % 12 + 12 * p.ampm
        elif p.hour_k is not None:
            hour = p.hour_k + 12 * p.ampm
    if hour is None:
        return None
    extra = 0
    if hour == 24 and not (p.minute or p.second or p.nano):
        hour, extra = 0, 1
    _check_range("HourOfDay", hour, 0, 23)
    minute, second, nano = p.minute or 0, p.second or 0, p.nano or 0
    _check_range("MinuteOfHour", minute, 0, 59)
    _check_range("SecondOfMinute", second, 0, 59)
    return hour, minute, second, nano, extra


def _parser_for(existing_format: str | None, locale: Locale) -> Callable[[str], _Parsed]:
    if existing_format is None:
        return lambda text: _parse_iso(text, "zoned")
    fmt = existing_format
    if fmt in _STYLES:
        return lambda text: _parse_pattern(text, _STYLES[fmt], ENGLISH)
    if fmt in _NAMED_PATTERNS:
        return lambda text: _parse_pattern(text, _NAMED_PATTERNS[fmt], ENGLISH)
    if fmt in (
        "iso_date_time",
        "iso_zoned_date_time",
        "iso_local_date_time",
        "iso_date",
        "iso_local_date",
    ):
        kind = {
            "iso_date_time": "date_time",
            "iso_zoned_date_time": "zoned",
            "iso_local_date_time": "local_date_time",
            "iso_date": "date",
            "iso_local_date": "local_date",
        }[fmt]
        return lambda text: _parse_iso(text, kind)
    if fmt == "rfc_1123_date_time":
        return _parse_rfc
    if fmt == "iso_ordinal_date":
        return _parse_ordinal
    if fmt == "iso_week_date":
        return _parse_week_date
    if fmt in _ISO_CONSTANTS:  # time-only or instant formats: no date can be obtained
        return _no_date
    compile_pattern(fmt)
    # Kestra builds the parser without the locale argument: names are read in English
    return lambda text: _parse_pattern(text, fmt, ENGLISH)


def _no_date(text: str) -> _Parsed:
    raise _ParseFail("Unable to obtain LocalDate from TemporalAccessor")


_ORDINAL_RE = re.compile(r"(\d{4})-(\d{3})([Zz]|[+-]\d{2}:\d{2})?\Z")
_WEEK_RE = re.compile(r"(\d{4})-W(\d{2})-([1-7])([Zz]|[+-]\d{2}:\d{2})?\Z")


def _parse_ordinal(text: str) -> _Parsed:
    m = _ORDINAL_RE.match(text)
    if not m:
        raise _ParseFail("")
    p = _Parsed(year=int(m.group(1)), day_of_year=int(m.group(2)))
    if m.group(3):
        p.offset = _parse_offset(m.group(3)) if m.group(3) not in "Zz" else 0
    return p


def _parse_week_date(text: str) -> _Parsed:
    m = _WEEK_RE.match(text)
    if not m:
        raise _ParseFail("")
    p = _Parsed(
        week_year=int(m.group(1)), week=int(m.group(2)), day_of_week=int(m.group(3)), iso_week=True
    )
    if m.group(4):
        p.offset = _parse_offset(m.group(4)) if m.group(4) not in "Zz" else 0
    return p


def _parse_error(text: str, detail: str) -> ExpressionError:
    msg = f"Text '{text}' could not be parsed"
    return ExpressionError(f"{msg}: {detail}" if detail else msg)


def parse_date(
    value: str, zone: Zone, existing_format: str | None = None, locale: Locale = ENGLISH
) -> JavaDateTime:
    """``AbstractDate.convert`` for a String: zoned, then local date-time, then date.

    A zoned text keeps its own zone (``dateAdd`` works in it); a local date-time is placed in
    ``zone``; a bare date is the start of that day in ``zone``.
    """
    smart = existing_format is not None and existing_format not in _ISO_CONSTANTS
    if existing_format is None:
        # ZonedDateTime.parse, then LocalDateTime.parse, then LocalDate.parse
        parsers: list[Callable[[str], _Parsed]] = [
            functools.partial(_parse_iso, kind=kind)
            for kind in ("zoned", "local_date_time", "local_date")
        ]
    else:
        parsers = [_parser_for(existing_format, locale)]
    detail = ""
    for parser in parsers:
        try:
            p = parser(value)
            day = _resolve_date(p, smart)
            time = _resolve_time(p)
            break
        except _ParseFail as e:
            detail = e.detail
    else:
        if existing_format is None:
            # Kestra tries LocalDate.parse last and shows its error: isotime has Java's text
            try:
                parse_local_date(value)
            except DateTimeParseError as e:
                raise ExpressionError(str(e)) from None
        raise _parse_error(value, detail)
    if day is None:
        raise _parse_error(value, "Unable to obtain LocalDate from TemporalAccessor")
    nano = 0
    if time is not None:
        hour, minute, second, nano, extra = time
        local = datetime(day.year, day.month, day.day, hour, minute, second, nano // 1000)
        local += timedelta(days=extra)
    else:
        local = datetime(day.year, day.month, day.day)
    if time is not None and (p.offset is not None or p.zone is not None):
        if p.zone is not None and p.offset is not None:
            instant = local.replace(tzinfo=_fixed(p.offset))
            return JavaDateTime(instant.astimezone(p.zone.tz), nano, p.zone)
        if p.zone is not None:
            return from_local(local, nano, p.zone)
        assert p.offset is not None
        return JavaDateTime(local.replace(tzinfo=_fixed(p.offset)), nano, offset_zone(p.offset))
    if existing_format is None and time is None:
        # LocalDate.parse(text): the start of the day in the zone
        return from_local(local, 0, zone)
    return from_local(local, nano, zone)


# ---------------------------------------------------------------------------------------------
# arithmetic

_TIME_UNITS = {
    "NANOS": 1,
    "MICROS": 1000,
    "MILLIS": 10**6,
    "SECONDS": 10**9,
    "MINUTES": 60 * 10**9,
    "HOURS": 3600 * 10**9,
    "HALF_DAYS": 12 * 3600 * 10**9,
}
_MONTH_UNITS = {
    "MONTHS": 1,
    "YEARS": 12,
    "DECADES": 120,
    "CENTURIES": 1200,
    "MILLENNIA": 12000,
}


def _plus_months(local: datetime, months: int) -> datetime:
    total = local.year * 12 + (local.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise ExpressionError(_OUT_OF_RANGE)
    return local.replace(year=year, month=month, day=min(local.day, month_length(year, month)))


def plus(d: JavaDateTime, amount: int, unit: str) -> JavaDateTime:
    """``ZonedDateTime.plus(amount, ChronoUnit.valueOf(unit))``.

    Time units move the instant; date units move the wall-clock date in the value's own zone
    (month ends clamp: Jan 31 + 1 MONTHS = Feb 29 2024), keeping its offset when still valid.
    """
    if unit in _TIME_UNITS:
        # on the instant (UTC): aware datetime arithmetic in Python is wall-clock arithmetic
        seconds, nano = divmod(d.nano + amount * _TIME_UNITS[unit], 10**9)
        try:
            utc = d.dt.astimezone(_UTC).replace(microsecond=0)
            dt = (utc + timedelta(seconds=seconds, microseconds=nano // 1000)).astimezone(d.zone.tz)
        except OverflowError:
            raise ExpressionError(_OUT_OF_RANGE) from None
        return JavaDateTime(dt, nano, d.zone)
    local = d.dt.replace(tzinfo=None)
    try:
        if unit == "DAYS":
            local += timedelta(days=amount)
        elif unit == "WEEKS":
            local += timedelta(weeks=amount)
        elif unit in _MONTH_UNITS:
            local = _plus_months(local, amount * _MONTH_UNITS[unit])
        elif unit == "ERAS":
            if amount != 0:
                raise ExpressionError("Invalid value for Era (valid values 0 - 1)")
        elif unit == "FOREVER":
            raise ExpressionError("Unsupported unit: Forever")
        else:
            raise ExpressionError(f"No enum constant java.time.temporal.ChronoUnit.{unit}")
    except OverflowError:
        raise ExpressionError(_OUT_OF_RANGE) from None
    return JavaDateTime(resolve_local(local, d.zone, d.offset_seconds), d.nano, d.zone)


__all__ = [
    "DEFAULT_ZONE",
    "ENGLISH",
    "JavaDateTime",
    "Locale",
    "Zone",
    "compile_pattern",
    "format_date",
    "format_pattern",
    "from_epoch_second",
    "locale_of",
    "now",
    "parse_date",
    "plus",
    "week_based",
    "zone_of",
]
