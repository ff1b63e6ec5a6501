"""The interface's language: gettext catalogs, the choice of language, localized dates.

Strings a user reads are wrapped in :func:`_` (or :func:`ngettext` when they
hold a count). Catalogs live in ``locale/<lang>/LC_MESSAGES/cs_console.po``
beside their compiled ``.mo``; ``scripts/i18n`` extracts, updates and compiles
them. The language is chosen once at start (:func:`set_language`), in this
order: ``--lang`` or ``CS_CONSOLE_LANG``, then ``[agent] language`` when the
config sets it, then the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``), then
English. :func:`_` is one bound-method call: cheap enough for render paths.

Strings evaluated at import (class attributes, module constants) are marked
with :func:`N_` and translated where they are shown, with :func:`_`.

Dates, times and durations go through Babel (:func:`format_when`,
:func:`format_time`, :func:`format_duration`, :func:`format_ago`) so they
follow the language's conventions.
"""

from __future__ import annotations

import functools
import gettext
import os
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Literal

from babel.dates import format_datetime as _babel_datetime
from babel.dates import format_time as _babel_time
from babel.dates import format_timedelta as _babel_timedelta
from babel.units import format_unit as _babel_unit

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANG_ENV",
    "LOCALE_DIR",
    "NP_",
    "N_",
    "SUPPORTED_LANGUAGES",
    "TERMS",
    "_",
    "choose_language",
    "format_ago",
    "format_duration",
    "format_span",
    "format_time",
    "format_when",
    "get_language",
    "language_from_locale",
    "ngettext",
    "pgettext",
    "set_language",
    "term",
]

#: Every language the interface speaks; adding one is a line here plus its catalog.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "es")
#: The language of the source strings, used when nothing else chooses one.
DEFAULT_LANGUAGE = "en"
#: Environment variable that picks the language over the config and the locale.
LANG_ENV = "CS_CONSOLE_LANG"
#: The gettext domain (the catalogs' file name).
DOMAIN = "cs_console"
#: Where the catalogs are.
LOCALE_DIR = Path(__file__).parent / "locale"

_LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG")

_language: str = DEFAULT_LANGUAGE
_translations: gettext.NullTranslations = gettext.NullTranslations()
_gettext = _translations.gettext
_ngettext = _translations.ngettext
_pgettext = _translations.pgettext


def _(message: str) -> str:
    """``message`` in the current language (itself when there is no translation)."""
    return _gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the current language."""
    return _ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, told apart from the same words elsewhere."""
    return _pgettext(context, message)


def NP_(context: str, message: str) -> tuple[str, str]:
    """Mark ``message`` with its ``context`` for extraction (see :data:`TERMS`)."""
    return context, message


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now (import-time strings)."""
    return message


def normalize_language(value: str | None) -> str | None:
    """``es_ES.UTF-8`` or ``es-MX`` to ``es``; ``None`` when not a supported language."""
    if not value:
        return None
    code = value.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return code if code in SUPPORTED_LANGUAGES else None


def language_from_locale(environ: Mapping[str, str] | None = None) -> str | None:
    """The language of the POSIX locale variables, when it is one we speak.

    The first variable that is set decides (as the C library does), so
    ``LC_ALL=C`` means no preference even if ``LANG`` is Spanish.
    """
    env = os.environ if environ is None else environ
    for name in _LOCALE_VARS:
        value = env.get(name)
        if value:
            return normalize_language(value)
    return None


def choose_language(
    *,
    explicit: str | None = None,
    configured: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Pick the language: ``explicit`` (``--lang``), ``CS_CONSOLE_LANG``, config, locale, en.

    Args:
        explicit: a language given on the command line.
        configured: ``[agent] language`` from the config, when set.
        environ: the environment to read (``os.environ`` when omitted).
    """
    env = os.environ if environ is None else environ
    for candidate in (explicit, env.get(LANG_ENV), configured):
        found = normalize_language(candidate)
        if found:
            return found
    return language_from_locale(env) or DEFAULT_LANGUAGE


def set_language(language: str) -> str:
    """Switch the interface to ``language`` (unsupported ones fall back to English).

    Returns the language now in use.
    """
    global _language, _translations, _gettext, _ngettext, _pgettext
    chosen = normalize_language(language) or DEFAULT_LANGUAGE
    if chosen == DEFAULT_LANGUAGE:
        translations: gettext.NullTranslations = gettext.NullTranslations()
    else:
        translations = gettext.translation(
            DOMAIN, localedir=LOCALE_DIR, languages=[chosen], fallback=True
        )
    _language = chosen
    _translations = translations
    _gettext = translations.gettext
    _ngettext = translations.ngettext
    _pgettext = translations.pgettext
    return chosen


def get_language() -> str:
    """The language in use."""
    return _language


# --- the desk's words ---------------------------------------------------------------------

#: The desk's values as the interface shows them: statuses, priorities, SLA states, views,
#: outbox states.
#: In English they read as stored; :func:`term` gives them in the current language.
TERMS: dict[str, tuple[str, str]] = {
    value: marked
    for value, marked in (
        ("new", NP_("status", "new")),
        ("open", NP_("status", "open")),
        ("pending", NP_("status", "pending")),
        ("on_hold", NP_("status", "on_hold")),
        ("solved", NP_("status", "solved")),
        ("closed", NP_("status", "closed")),
        ("spam", NP_("status", "spam")),
        ("low", NP_("priority", "low")),
        ("normal", NP_("priority", "normal")),
        ("high", NP_("priority", "high")),
        ("urgent", NP_("priority", "urgent")),
        ("ok", NP_("sla", "ok")),
        ("warning", NP_("sla", "warning")),
        ("breached", NP_("sla", "breached")),
        ("missed", NP_("sla", "missed")),
        ("met", NP_("sla", "met")),
        ("paused", NP_("sla", "paused")),
        ("first_reply", NP_("target", "first reply")),
        ("next_reply", NP_("target", "next reply")),
        ("resolution", NP_("target", "resolution")),
        ("mine", NP_("view", "mine")),
        ("unassigned", NP_("view", "unassigned")),
        ("breaching", NP_("view", "breaching")),
        ("all", NP_("view", "all")),
        ("queued", NP_("outbox", "queued")),
        ("sending", NP_("outbox", "sending")),
        ("sent", NP_("outbox", "sent")),
        ("failed", NP_("outbox", "failed")),
        ("cancelled", NP_("outbox", "cancelled")),
    )
}


def term(value: str | None) -> str:
    """A status, priority, SLA state or target, view or outbox state in the current language.

    Other values come back as given.
    """
    if value is None:
        return ""
    marked = TERMS.get(value)
    return _pgettext(*marked) if marked else value


# --- dates, times, durations ---------------------------------------------------------------

DateLength = Literal["short", "medium", "long", "full"]


def format_when(
    when: datetime, tz: tzinfo | None = None, *, length: DateLength = "short", language: str = ""
) -> str:
    """A date and time in ``tz`` (the shop's zone), as the language writes it.

    ``05/03/26, 15:07`` in Spanish, ``3/5/26, 3:07 PM`` in English.
    """
    return _babel_datetime(when, length, tzinfo=tz, locale=language or _language)


def format_time(when: datetime, tz: tzinfo | None = None, *, language: str = "") -> str:
    """A time of day in ``tz``: ``15:07`` or ``3:07 PM``."""
    return _babel_time(when, "short", tzinfo=tz, locale=language or _language)


_UNITS = ("day", "hour", "minute", "second")


@functools.lru_cache(maxsize=4096)
def _unit(value: int | str, unit: str, language: str) -> str:
    text = _babel_unit(value, f"duration-{unit}", length="narrow", locale=language)
    if "duration-" in text:  # the language has no narrow pattern for this unit
        return f"{value}{unit[0]}"
    return text


def duration_parts(delta: timedelta) -> list[tuple[int, str, bool]]:
    """The one or two units a short duration shows: ``(value, unit, zero-padded)``.

    45 s; 12 min (with seconds under ten minutes); hours and minutes under two
    days; days and hours beyond.
    """
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        return [(seconds, "second", False)]
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        if minutes < 10:
            return [(minutes, "minute", False), (seconds, "second", True)]
        return [(minutes, "minute", False)]
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return [(hours, "hour", False), (minutes, "minute", True)]
    days, hours = divmod(hours, 24)
    return [(days, "day", False), (hours, "hour", False)]


def format_duration(delta: timedelta, *, language: str = "") -> str:
    """A short duration for countdowns: ``3h 05m`` in English, ``3h 05min`` in Spanish.

    The sign is ignored (callers add ``-`` for overdue).
    """
    lang = language or _language
    return " ".join(
        _unit(f"{value:02d}" if padded else value, unit, lang)
        for value, unit, padded in duration_parts(delta)
    )


def format_span(delta: timedelta, *, language: str = "") -> str:
    """A rounded duration in words: ``3 hours``, ``3 horas`` (reports, summaries)."""
    return _babel_timedelta(delta, format="long", locale=language or _language)


def format_ago(when: datetime, now: datetime, *, language: str = "") -> str:
    """How long ago ``when`` was, in words: ``5 minutes ago``, ``hace 5 minutos``."""
    lang = language or _language
    return _babel_timedelta(when - now, add_direction=True, format="short", locale=lang)


def available_catalogs() -> list[str]:
    """The languages with a compiled catalog shipped (English needs none)."""
    return sorted(
        p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo") if p.is_file()
    )
