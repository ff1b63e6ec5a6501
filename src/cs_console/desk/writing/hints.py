"""The writing assistant: every hint for a reply, in one call.

Hints never block sending; the editor shows them beside the text. Each can be
turned off through :attr:`WritingSettings.enabled`.
"""

from __future__ import annotations

import re
import unicodedata

from cs_console.desk.canned.textnorm import detect_language
from cs_console.desk.writing import style
from cs_console.desk.writing.messages import message
from cs_console.desk.writing.model import Hint, WritingSettings
from cs_console.desk.writing.spelling import find_misspellings, get_checker

__all__ = ["lint_reply", "spelling_hints"]

_SPELLING_LANGUAGES = ("es", "en")


def _plain(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _ignored_words(settings: WritingSettings, customer_name: str | None) -> frozenset[str]:
    words: set[str] = set()
    for entry in (*settings.shop_words, customer_name or ""):
        for word in re.findall(r"[\w’']+", entry):
            words.add(word.lower())
            words.add(_plain(word))
    return frozenset(words)


def spelling_hints(
    text: str,
    *,
    language: str,
    ignore: frozenset[str] = frozenset(),
    settings: WritingSettings = WritingSettings(),
) -> list[Hint]:
    """Spelling hints only (loads the language's dictionary on first use).

    Languages other than ``es`` and ``en`` get no spelling hints.
    """
    if language not in _SPELLING_LANGUAGES:
        return []
    checker = get_checker(language, dictionary_dirs=settings.dictionary_dirs)
    return [
        Hint(
            "spelling",
            message("spelling", language, word=m.word),
            m.start,
            m.end,
            m.suggestions,
        )
        for m in find_misspellings(text, checker, ignore=ignore)
    ]


def lint_reply(
    text: str,
    *,
    language: str,
    customer_message: str | None = None,
    customer_name: str | None = None,
    settings: WritingSettings = WritingSettings(),
) -> list[Hint]:
    """Every hint for a reply, those with a place first (in text order).

    Args:
        text: The reply as it will be sent (variables already rendered).
        language: The reply's language (``es`` or ``en``); messages to the
            agent are in this language (English for any other).
        customer_message: The customer's latest message, to find questions the
            reply leaves unanswered.
        customer_name: The customer's name, never flagged as misspelled and
            expected somewhere in the reply.
        settings: Which hints to give and the word lists.
    """
    enabled = settings.enabled
    ignore = _ignored_words(settings, customer_name)
    hints: list[Hint] = []
    if "spelling" in enabled:
        hints.extend(spelling_hints(text, language=language, ignore=ignore, settings=settings))
    if "jargon" in enabled:
        shop = {_plain(w) for w in settings.shop_words}
        jargon = tuple(t for t in settings.jargon if _plain(t) not in shop)
        hints.extend(style.check_jargon(text, language=language, jargon=jargon))
    if "shouting" in enabled:
        shout_ignore = ignore | {_plain(w) for t in settings.jargon for w in t.split()}
        hints.extend(style.check_shouting(text, language=language, ignore=shout_ignore))
    if "no_greeting" in enabled:
        hints.extend(style.check_greeting(text, language=language, customer_name=customer_name))
    if "too_short" in enabled:
        hints.extend(style.check_too_short(text, language=language))
    if "too_many_ideas" in enabled:
        hints.extend(style.check_ideas(text, language=language, max_ideas=settings.max_ideas))
    if "unanswered_question" in enabled and customer_message:
        hints.extend(
            style.check_unanswered_questions(
                text,
                language=language,
                customer_message=customer_message,
                question_language=detect_language(customer_message),
            )
        )
    if "no_customer_name" in enabled:
        hints.extend(
            style.check_customer_name(text, language=language, customer_name=customer_name)
        )
    if "no_closing" in enabled:
        hints.extend(style.check_closing(text, language=language))
    placed = sorted((h for h in hints if h.start is not None), key=lambda h: (h.start, h.end))
    unplaced = [h for h in hints if h.start is None]
    return placed + unplaced
