"""The hint and settings types of the writing assistant."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ALL_CODES", "DEFAULT_JARGON", "Hint", "WritingSettings"]

ALL_CODES: frozenset[str] = frozenset(
    {
        "spelling",
        "too_short",
        "too_many_ideas",
        "jargon",
        "no_greeting",
        "no_closing",
        "shouting",
        "unanswered_question",
        "no_customer_name",
    }
)
"""Every hint code :func:`~cs_console.desk.writing.lint_reply` can give."""

DEFAULT_JARGON: tuple[str, ...] = (
    "SLA",
    "RMA",
    "SKU",
    "ETA",
    "ERP",
    "CRM",
    "KPI",
    "3PL",
    "backorder",
    "back order",
    "backoffice",
    "back office",
    "fulfillment",
    "fulfilment",
    "dropshipping",
    "picking",
    "ticket",
    "escalated",
    "escalado",
    "escalar",
    "workaround",
    "chargeback",
    "contracargo",
    "merchant",
    "pasarela",
    "gateway",
)
"""Internal words customers should not have to learn (editable)."""


@dataclass(frozen=True)
class Hint:
    """One piece of advice about a reply; it never blocks sending.

    Attributes:
        code: What kind of hint (one of :data:`ALL_CODES`).
        message: What to tell the agent, in the reply's language.
        start: Offset in the reply where the problem starts, if it has a place.
        end: Offset where it ends (exclusive).
        suggestions: Replacements for ``text[start:end]`` (spelling), or the
            words to use (the customer's question words, their name).
    """

    code: str
    message: str
    start: int | None
    end: int | None
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class WritingSettings:
    """What the writing assistant checks.

    Attributes:
        enabled: Hint codes to give; leave one out to turn it off.
        jargon: Internal words to flag.
        shop_words: Brand and product names, never flagged as misspelled,
            jargon or shouting.
        max_ideas: Most main ideas a reply should hold.
        dictionary_dirs: Extra folders to search for Hunspell dictionaries.
    """

    enabled: frozenset[str] = ALL_CODES
    jargon: tuple[str, ...] = DEFAULT_JARGON
    shop_words: tuple[str, ...] = ()
    max_ideas: int = 2
    dictionary_dirs: tuple[str, ...] = field(default=())
