"""The interface's language: choosing it, the catalogs, localized dates and durations."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from cs_console import i18n
from cs_console.i18n import (
    DEFAULT_LANGUAGE,
    DOMAIN,
    LOCALE_DIR,
    SUPPORTED_LANGUAGES,
    _,
    choose_language,
    format_ago,
    format_duration,
    format_span,
    format_time,
    format_when,
    get_language,
    language_from_locale,
    ngettext,
    set_language,
)

TRANSLATED = [lang for lang in SUPPORTED_LANGUAGES if lang != DEFAULT_LANGUAGE]


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    yield
    set_language(DEFAULT_LANGUAGE)


def _po(lang: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as fh:
        return read_po(fh, locale=lang)


# --- choosing the language ---------------------------------------------------------------


def test_explicit_choice_wins_over_everything() -> None:
    env = {"CS_CONSOLE_LANG": "en", "LANG": "en_US.UTF-8"}
    assert choose_language(explicit="es", configured="en", environ=env) == "es"


def test_env_variable_wins_over_config_and_locale() -> None:
    env = {"CS_CONSOLE_LANG": "es", "LANG": "en_GB.UTF-8"}
    assert choose_language(configured="en", environ=env) == "es"


def test_config_wins_over_locale() -> None:
    assert choose_language(configured="es", environ={"LANG": "en_US.UTF-8"}) == "es"
    assert choose_language(configured="en", environ={"LANG": "es_ES.UTF-8"}) == "en"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "es_ES.UTF-8"}, "es"),
        ({"LANG": "es_MX"}, "es"),
        ({"LC_MESSAGES": "es_AR.utf8", "LANG": "en_US.UTF-8"}, "es"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "es_ES.UTF-8"}, "en"),
        ({"LC_ALL": "C", "LANG": "es_ES.UTF-8"}, "en"),  # the first one set decides
        ({"LANG": "de_DE.UTF-8"}, "en"),  # not a language we speak
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_locale_decides_when_nothing_else_does(environ: dict[str, str], expected: str) -> None:
    assert choose_language(environ=environ) == expected


def test_unsupported_choices_fall_through() -> None:
    env = {"CS_CONSOLE_LANG": "fr", "LANG": "es_ES.UTF-8"}
    assert choose_language(explicit="xx", environ=env) == "es"
    assert language_from_locale({"LANG": "fr_FR"}) is None


def test_set_language_switches_translations_and_falls_back_to_english() -> None:
    assert set_language("es") == "es"
    assert get_language() == "es"
    assert _("Interrupted.") == "Interrumpido."
    assert _("a string nobody translated") == "a string nobody translated"
    assert set_language("es_ES.UTF-8") == "es"
    assert set_language("klingon") == "en"
    assert _("Interrupted.") == "Interrupted."


def test_plurals_follow_the_language() -> None:
    set_language("es")
    one = ngettext("{count} check failed.", "{count} checks failed.", 1).format(count=1)
    two = ngettext("{count} check failed.", "{count} checks failed.", 2).format(count=2)
    assert (one, two) == ("1 comprobación ha fallado.", "2 comprobaciones han fallado.")
    set_language("en")
    assert (
        ngettext("{count} check failed.", "{count} checks failed.", 2) == "{count} checks failed."
    )


def test_agent_language_in_the_config(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from cs_console.config import AgentSettings

    assert AgentSettings(name="ana", language="es").language == "es"
    assert AgentSettings(name="ana").language is None
    with pytest.raises(ValidationError, match="unsupported language"):
        AgentSettings(name="ana", language="fr")


# --- the catalogs ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated(lang: str) -> None:
    catalog = _po(lang)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            missing.append(message.id)
    assert not missing, f"{len(missing)} untranslated in {lang}: {missing[:5]}"
    assert len(catalog) > 100


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_survive_translation(lang: str) -> None:
    import string

    def fields(text: str) -> set[str]:
        return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}

    for message in _po(lang):
        if not message.id or "{" not in str(message.id):
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*(fields(i) for i in ids))
        for translated in strings:
            assert fields(translated) <= wanted, (message.id, translated)


def _messages(catalog) -> dict[object, object]:  # type: ignore[no-untyped-def]
    def key(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {key(m.id): key(m.string) for m in catalog if m.id}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_committed_mo_matches_the_po(lang: str) -> None:
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    compiled = io.BytesIO()
    write_mo(compiled, _po(lang), use_fuzzy=True)
    compiled.seek(0)
    fresh = _messages(read_mo(compiled))
    with (folder / f"{DOMAIN}.mo").open("rb") as fh:
        committed = _messages(read_mo(fh))
    assert committed == fresh, "the .mo is stale: run scripts/i18n compile"


def test_every_supported_language_ships_a_catalog() -> None:
    assert set(TRANSLATED) <= set(i18n.available_catalogs())


# --- dates, times, durations -----------------------------------------------------------------

MADRID = ZoneInfo("Europe/Madrid")
WHEN = datetime(2026, 3, 5, 14, 7, tzinfo=UTC)


def test_dates_and_times_in_the_shops_zone() -> None:
    assert format_when(WHEN, MADRID, language="es") == "5/3/26, 15:07"
    assert format_when(WHEN, MADRID, language="en") == "3/5/26, 3:07\u202fPM"
    assert format_time(WHEN, MADRID, language="es") == "15:07"
    set_language("es")
    assert format_when(WHEN, MADRID, length="medium") == "5 mar 2026, 15:07:00"


@pytest.mark.parametrize(
    ("delta", "en", "es"),
    [
        (timedelta(seconds=45), "45s", "45s"),
        (timedelta(minutes=3, seconds=7), "3m 07s", "3min 07s"),
        (timedelta(minutes=12), "12m", "12min"),
        (timedelta(hours=3, minutes=5), "3h 05m", "3h 05min"),
        (timedelta(days=2, hours=4), "2d 4h", "2d 4h"),
        (timedelta(minutes=-20), "20m", "20min"),
    ],
)
def test_durations_in_both_languages(delta: timedelta, en: str, es: str) -> None:
    assert format_duration(delta, language="en") == en
    assert format_duration(delta, language="es") == es


def test_spans_and_ago_in_words() -> None:
    assert format_span(timedelta(hours=3), language="es") == "3 horas"
    assert format_span(timedelta(hours=3), language="en") == "3 hours"
    assert format_ago(WHEN - timedelta(minutes=5), WHEN, language="es") == "hace 5 min"
    assert format_ago(WHEN - timedelta(minutes=5), WHEN, language="en") == "5 min. ago"


@given(st.integers(min_value=0, max_value=400 * 86400), st.sampled_from(SUPPORTED_LANGUAGES))
def test_duration_shows_one_or_two_units_and_the_leading_value(seconds: int, lang: str) -> None:
    delta = timedelta(seconds=seconds)
    text = format_duration(delta, language=lang)
    parts = text.split(" ")
    assert 1 <= len(parts) <= 2
    value, _unit, _padded = i18n.duration_parts(delta)[0]
    assert parts[0].startswith(str(value))
    assert format_duration(-delta, language=lang) == text
