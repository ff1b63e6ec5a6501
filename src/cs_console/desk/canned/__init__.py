"""Canned answers: the library on disk, safe templates, order numbers and suggestions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cs_console._lazy import attach

if TYPE_CHECKING:
    from cs_console.desk.canned.library import (
        CATEGORIES,
        LANGUAGES,
        SET_STATUSES,
        CannedAnswer,
        LibraryLoad,
        LibraryProblem,
        dump_answer,
        load_answer,
        load_library,
        parse_answer,
        starter_answers,
    )
    from cs_console.desk.canned.orders import (
        DEFAULT_ORDER_PATTERNS,
        compile_order_patterns,
        find_order_number,
    )
    from cs_console.desk.canned.suggest import Suggestion, SuggestionIndex
    from cs_console.desk.canned.template import (
        STANDARD_VARIABLES,
        Rendered,
        missing_marker,
        render,
        template_variables,
    )
    from cs_console.desk.canned.textnorm import detect_language

__getattr__, __dir__ = attach(
    __name__,
    {
        "CATEGORIES": "cs_console.desk.canned.library",
        "CannedAnswer": "cs_console.desk.canned.library",
        "DEFAULT_ORDER_PATTERNS": "cs_console.desk.canned.orders",
        "LANGUAGES": "cs_console.desk.canned.library",
        "LibraryLoad": "cs_console.desk.canned.library",
        "LibraryProblem": "cs_console.desk.canned.library",
        "Rendered": "cs_console.desk.canned.template",
        "SET_STATUSES": "cs_console.desk.canned.library",
        "STANDARD_VARIABLES": "cs_console.desk.canned.template",
        "Suggestion": "cs_console.desk.canned.suggest",
        "SuggestionIndex": "cs_console.desk.canned.suggest",
        "compile_order_patterns": "cs_console.desk.canned.orders",
        "detect_language": "cs_console.desk.canned.textnorm",
        "dump_answer": "cs_console.desk.canned.library",
        "find_order_number": "cs_console.desk.canned.orders",
        "load_answer": "cs_console.desk.canned.library",
        "load_library": "cs_console.desk.canned.library",
        "missing_marker": "cs_console.desk.canned.template",
        "parse_answer": "cs_console.desk.canned.library",
        "render": "cs_console.desk.canned.template",
        "starter_answers": "cs_console.desk.canned.library",
        "template_variables": "cs_console.desk.canned.template",
    },
)

__all__ = [
    "CATEGORIES",
    "DEFAULT_ORDER_PATTERNS",
    "LANGUAGES",
    "SET_STATUSES",
    "STANDARD_VARIABLES",
    "CannedAnswer",
    "LibraryLoad",
    "LibraryProblem",
    "Rendered",
    "Suggestion",
    "SuggestionIndex",
    "compile_order_patterns",
    "detect_language",
    "dump_answer",
    "find_order_number",
    "load_answer",
    "load_library",
    "missing_marker",
    "parse_answer",
    "render",
    "starter_answers",
    "template_variables",
]
