"""The writing assistant: spell check (es/en) and style hints for replies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cs_console._lazy import attach

if TYPE_CHECKING:
    from cs_console.desk.writing.hints import lint_reply, spelling_hints
    from cs_console.desk.writing.model import ALL_CODES, DEFAULT_JARGON, Hint, WritingSettings
    from cs_console.desk.writing.spelling import (
        DEFAULT_DICTIONARY_DIRS,
        Misspelling,
        SpellChecker,
        find_misspellings,
        get_checker,
    )
    from cs_console.desk.writing.style import count_ideas, customer_questions

__getattr__, __dir__ = attach(
    __name__,
    {
        "ALL_CODES": "cs_console.desk.writing.model",
        "DEFAULT_DICTIONARY_DIRS": "cs_console.desk.writing.spelling",
        "DEFAULT_JARGON": "cs_console.desk.writing.model",
        "Hint": "cs_console.desk.writing.model",
        "Misspelling": "cs_console.desk.writing.spelling",
        "SpellChecker": "cs_console.desk.writing.spelling",
        "WritingSettings": "cs_console.desk.writing.model",
        "count_ideas": "cs_console.desk.writing.style",
        "customer_questions": "cs_console.desk.writing.style",
        "find_misspellings": "cs_console.desk.writing.spelling",
        "get_checker": "cs_console.desk.writing.spelling",
        "lint_reply": "cs_console.desk.writing.hints",
        "spelling_hints": "cs_console.desk.writing.hints",
    },
)

__all__ = [
    "ALL_CODES",
    "DEFAULT_DICTIONARY_DIRS",
    "DEFAULT_JARGON",
    "Hint",
    "Misspelling",
    "SpellChecker",
    "WritingSettings",
    "count_ideas",
    "customer_questions",
    "find_misspellings",
    "get_checker",
    "lint_reply",
    "spelling_hints",
]
